package io.ray.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.fake.FakeRuntime;
import io.ray.api.fake.FakeRuntimeFactory;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.function.RayFunc2;
import io.ray.api.options.CallOptions;
import java.net.URL;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RayTest {

  static int add(int a, int b) {
    return a + b;
  }

  static void log(String message) {}

  /** An actor class in the style of Ray's documentation. */
  static class Counter {
    private int value;

    Counter(int initial) {
      value = initial;
    }

    int increment(int delta) {
      value += delta;
      return value;
    }

    void reset() {
      value = 0;
    }
  }

  private FakeRuntime runtime;

  @BeforeEach
  void init() {
    Ray.init();
    runtime = FakeRuntimeFactory.last;
  }

  @AfterEach
  void shutdown() {
    Ray.shutdown();
  }

  @Test
  void initFindsTheRuntimeThroughServiceLoaderOnce() {
    assertTrue(Ray.isInitialized());
    assertSame(runtime, Ray.internal());
    Ray.init();
    assertSame(runtime, Ray.internal(), "a second init keeps the runtime");
    assertSame(runtime, FakeRuntimeFactory.last, "and creates none");
  }

  @Test
  void shutdownIsIdempotentAndLeavesRayUninitialized() {
    Ray.shutdown();
    Ray.shutdown();
    assertEquals(1, runtime.shutdowns);
    assertFalse(Ray.isInitialized());
    IllegalStateException e = assertThrows(IllegalStateException.class, Ray::internal);
    assertEquals("Ray is not initialized: call Ray.init() first", e.getMessage());
    assertThrows(IllegalStateException.class, () -> Ray.put(1));
    assertThrows(IllegalStateException.class, () -> Ray.task(RayTest::add, 1, 2).remote());
  }

  @Test
  void initWithoutARuntimeOnTheClassPathSaysSo() {
    Ray.shutdown();
    Thread thread = Thread.currentThread();
    ClassLoader original = thread.getContextClassLoader();
    thread.setContextClassLoader(new HidingServicesClassLoader(original));
    try {
      IllegalStateException e = assertThrows(IllegalStateException.class, Ray::init);
      assertTrue(e.getMessage().contains("missing from the class path"), e.getMessage());
      assertFalse(Ray.isInitialized());
    } finally {
      thread.setContextClassLoader(original);
    }
  }

  @Test
  void taskReachesCallWithItsArgumentsAndOptions() {
    ObjectRef<Integer> ref =
        Ray.task(RayTest::add, 1, 2).setName("x").setResource("CPU", 2.0).remote();

    FakeRuntime.Call call = runtime.only("call");
    assertInstanceOf(RayFunc2.class, call.target());
    assertEquals(List.of(1, 2), call.args());
    CallOptions options = (CallOptions) call.options();
    assertEquals("x", options.getName());
    assertEquals(Map.of("CPU", 2.0), options.getResources());
    assertNull(options.getGroup());
    assertEquals("", options.getConcurrencyGroupName());
    assertEquals("result of call", ref.get());
  }

  @Test
  void taskArgumentsMayBeObjectRefsAndVoidTasksReachCallToo() {
    ObjectRef<Integer> two = Ray.put(2);
    Ray.task(RayTest::add, two, 3).setResources(Map.of("GPU", 1.0, "CPU", 0.5)).remote();
    Ray.task(RayTest::log, "hello").remote();

    List<FakeRuntime.Call> calls =
        runtime.calls.stream().filter(c -> c.method().equals("call")).toList();
    assertEquals(2, calls.size());
    assertSame(two, calls.get(0).args().get(0));
    assertEquals(3, calls.get(0).args().get(1));
    assertEquals(
        Map.of("GPU", 1.0, "CPU", 0.5), ((CallOptions) calls.get(0).options()).getResources());
    assertEquals(List.of("hello"), calls.get(1).args());
  }

  @Test
  void actorCreationReachesCreateActorAndActorCallsReachCallActor() {
    ActorHandle<Counter> counter =
        Ray.actor(Counter::new, 5).setMaxRestarts(2).setName("c").remote();

    FakeRuntime.Call create = runtime.only("createActor");
    assertEquals(List.of(5), create.args());
    var options = (io.ray.api.options.ActorCreationOptions) create.options();
    assertEquals(2, options.getMaxRestarts());
    assertEquals("c", options.getName());

    ObjectRef<Integer> result = counter.task(Counter::increment, 3).remote();
    FakeRuntime.Call call = runtime.only("callActor");
    assertSame(counter, call.target());
    assertEquals(List.of(3), call.args());
    assertEquals("", ((CallOptions) call.options()).getConcurrencyGroupName());
    assertInstanceOf(RayFunc2.class, result.get(), "the fake answers with the function called");

    runtime.calls.clear();
    counter.task(Counter::reset).setConcurrencyGroup("io").remote();
    assertEquals(
        "io", ((CallOptions) runtime.only("callActor").options()).getConcurrencyGroupName());
  }

  @Test
  void namedActorsAreFoundInTheirNamespace() {
    ActorHandle<Counter> plain = Ray.actor(Counter::new, 0).setName("counter").remote();
    ActorHandle<Counter> spaced = Ray.actor(Counter::new, 0).setName("counter", "ns").remote();

    Optional<ActorHandle<Counter>> found = Ray.getActor("counter");
    assertSame(plain, found.orElseThrow());
    assertNull(runtime.calls.get(runtime.calls.size() - 1).args().get(0), "no namespace given");
    Optional<ActorHandle<Counter>> inNamespace = Ray.getActor("counter", "ns");
    assertSame(spaced, inNamespace.orElseThrow());
    assertTrue(Ray.getActor("nobody").isEmpty());
  }

  @Test
  void killReachesKillActor() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 0).remote();
    counter.kill();
    counter.kill(false);
    List<FakeRuntime.Call> kills =
        runtime.calls.stream().filter(c -> c.method().equals("killActor")).toList();
    assertEquals(2, kills.size());
    assertSame(counter, kills.get(0).target());
    assertEquals(List.of(true), kills.get(0).args());
    assertEquals(List.of(false), kills.get(1).args());
  }

  @Test
  void putGetAndWaitDelegate() {
    ObjectRef<String> a = Ray.put("a");
    ObjectRef<String> b = Ray.put("b");
    assertEquals(List.of("a"), runtime.calls.get(0).args());

    assertEquals("a", Ray.get(a));
    assertEquals(List.of(-1L), runtime.calls.get(2).args(), "no timeout: wait without limit");
    assertEquals("b", Ray.get(b, 100));
    assertEquals(List.of(100L), runtime.calls.get(3).args());
    assertEquals(List.of("a", "b"), Ray.get(List.of(a, b)));
    assertEquals(List.of(-1L), runtime.calls.get(4).args());
    assertEquals(List.of("a", "b"), Ray.get(List.of(a, b), 5));
    assertEquals(List.of(5L), runtime.calls.get(5).args());

    WaitResult<String> waited = Ray.wait(List.of(a, b), 1, 1000);
    assertEquals(List.of(a), waited.getReady());
    assertEquals(List.of(b), waited.getUnready());
    assertEquals(List.of(1, 1000, true), runtime.calls.get(6).args());
    Ray.wait(List.of(a, b), 2, 10, false);
    assertEquals(List.of(2, 10, false), runtime.calls.get(7).args());
    Ray.wait(List.of(a, b), 1);
    assertEquals(List.of(1, -1, true), runtime.calls.get(8).args());
    Ray.wait(List.of(a, b));
    assertEquals(List.of(2, -1, true), runtime.calls.get(9).args());
  }

  @Test
  void contextAndExitActorDelegate() {
    assertNull(Ray.getRuntimeContext());
    Ray.exitActor();
    runtime.only("getRuntimeContext");
    runtime.only("exitActor");
  }

  @Test
  void pythonTasksAndActorsReachThePythonMethods() {
    PyFunction<Integer> add = PyFunction.of("m", "f", Integer.class);
    ObjectRef<Integer> sum = Ray.task(add, 1, "two").setName("py").remote();
    FakeRuntime.Call call = runtime.only("callPy");
    assertSame(add, call.target());
    assertEquals(List.of(1, "two"), call.args());
    assertEquals("py", ((CallOptions) call.options()).getName());
    assertEquals("result of callPy", sum.get());

    PyActorHandle actor = Ray.actor(PyActorClass.of("m", "C"), 7).setMaxConcurrency(3).remote();
    FakeRuntime.Call create = runtime.only("createPyActor");
    assertEquals(List.of(7), create.args());
    var options = (io.ray.api.options.ActorCreationOptions) create.options();
    assertEquals(3, options.getMaxConcurrency());
    assertEquals("m", actor.getModuleName());
    assertEquals("C", actor.getClassName());

    actor.task(PyActorMethod.of("incr", Integer.class), 2, 3).remote();
    FakeRuntime.Call pyCall = runtime.only("callPyActor");
    assertSame(actor, pyCall.target());
    assertEquals(List.of(2, 3), pyCall.args());
  }

  /** Hides the service registrations, as a class path without the runtime jar would. */
  private static final class HidingServicesClassLoader extends ClassLoader {

    HidingServicesClassLoader(ClassLoader parent) {
      super(parent);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws java.io.IOException {
      if (name.startsWith("META-INF/services/")) {
        return Collections.emptyEnumeration();
      }
      return super.getResources(name);
    }
  }
}
