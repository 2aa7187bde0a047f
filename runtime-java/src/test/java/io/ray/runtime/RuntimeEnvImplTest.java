package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.runtimeenv.types.RuntimeEnvName;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A Java runtime environment as the engine runs it. Pure. */
class RuntimeEnvImplTest {
  @Test
  void envVarsHashAsPythonsDo() {
    RuntimeEnvImpl env = new RuntimeEnvImpl();
    env.set(RuntimeEnvName.ENV_VARS, Map.of("RAY_JAVA_GREETING", "hello", "é", "x\"y\n"));
    io.ray.engine.rpc.RuntimeEnv proto = RuntimeEnvImpl.toProto(env);
    assertEquals(Map.of("RAY_JAVA_GREETING", "hello", "é", "x\"y\n"), proto.getEnvVarsMap());
    // Python: to_proto({'env_vars': {'RAY_JAVA_GREETING': 'hello', 'é': 'x"y\n'}}).hash
    assertEquals("1a662a9c05485cbf17aad16809e5c519c20faad5", proto.getHash());
    assertEquals("", RuntimeEnvImpl.toProto(new RuntimeEnvImpl()).getHash());
  }

  @Test
  void fieldsRoundTripAndOthersAreRefusedByName() {
    RuntimeEnvImpl env = new RuntimeEnvImpl();
    env.set(RuntimeEnvName.JARS, List.of("a.jar"));
    assertTrue(env.contains(RuntimeEnvName.JARS));
    RuntimeEnvImpl copy = RuntimeEnvImpl.deserialize(env.serialize());
    assertEquals(List.of("a.jar"), copy.get(RuntimeEnvName.JARS, List.class));
    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> RuntimeEnvImpl.toProto(copy));
    assertTrue(e.getMessage().contains("java_jars"), e.getMessage());
    env.setJsonStr(RuntimeEnvName.ENV_VARS, "{\"A\": 1}");
    env.remove(RuntimeEnvName.JARS);
    assertEquals(Map.of("A", "1"), RuntimeEnvImpl.toProto(env).getEnvVarsMap());
  }
}
