package io.ray.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.exception.UnreconstructableException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.id.ActorId;
import io.ray.api.id.ObjectId;
import org.junit.jupiter.api.Test;

class FunctionAndExceptionTest {

  @Test
  void pyFunctionKeepsItsFields() {
    PyFunction<Integer> f = PyFunction.of("m", "f", Integer.class);
    assertEquals("m", f.moduleName);
    assertEquals("f", f.functionName);
    assertEquals(Integer.class, f.returnType);
    assertEquals("m", f.getModuleName());
    assertEquals("f", f.getFunctionName());
    assertEquals(Integer.class, f.getReturnType());
    assertEquals(Object.class, PyFunction.of("m", "g").returnType);
    assertThrows(NullPointerException.class, () -> PyFunction.of(null, "f"));
  }

  @Test
  void pyActorClassAndMethodKeepTheirFields() {
    PyActorClass c = PyActorClass.of("mod", "Cls");
    assertEquals("mod", c.moduleName);
    assertEquals("Cls", c.className);
    PyActorMethod<String> m = PyActorMethod.of("name", String.class);
    assertEquals("name", m.methodName);
    assertEquals(String.class, m.returnType);
    assertEquals(Object.class, PyActorMethod.of("other").returnType);
  }

  @Test
  void exceptionsKeepWhatTheyAreGiven() {
    IllegalStateException cause = new IllegalStateException("boom");
    RayTaskException task = new RayTaskException(12, "10.0.0.1", "task failed", cause);
    assertSame(cause, task.getCause());
    assertTrue(task.getMessage().contains("pid=12"), task.getMessage());
    assertTrue(task.getMessage().contains("10.0.0.1"), task.getMessage());
    assertInstanceOf(RayException.class, task);
    assertInstanceOf(RuntimeException.class, task);

    ActorId actorId = ActorId.fromRandom();
    assertSame(actorId, new RayActorException(actorId).actorId);
    assertSame(actorId, new RayActorException(1, "h", actorId, cause).actorId);
    ObjectId objectId = ObjectId.fromRandom();
    assertSame(objectId, new UnreconstructableException(objectId).objectId);
  }
}
