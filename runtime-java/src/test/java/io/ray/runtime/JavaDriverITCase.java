package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.WaitResult;
import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.api.runtimeenv.RuntimeEnv;
import io.ray.api.runtimeenv.types.RuntimeEnvName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ray's Java API on the real engine: {@code Ray.init()} starts a head node process, Java tasks run
 * in Java worker processes that load this class from the job's code search path (the test JVM's
 * class path), values travel inline and through the shared-memory arena.
 */
class JavaDriverITCase {
  static int square(int x) {
    return x * x;
  }

  static String greet(String who, int times) {
    return ("hello " + who + " ").repeat(times).trim();
  }

  static double[] doubled(double[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = 2 * values[i];
    }
    return out;
  }

  static int sumOfSquares(int n) throws Exception {
    // A task that submits tasks and reads their results (the worker's own runtime).
    List<ObjectRef<Integer>> parts = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      parts.add(Ray.task(JavaDriverITCase::square, i).remote());
    }
    int total = 0;
    for (int v : Ray.get(parts)) {
      total += v;
    }
    return total;
  }

  static String fail(String message) {
    throw new IllegalStateException(message);
  }

  static int sleepy(int ms) throws InterruptedException {
    Thread.sleep(ms);
    return ms;
  }

  static Map<String, List<Integer>> structured(int n) {
    List<Integer> values = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      values.add(i);
    }
    return Map.of("values", values);
  }

  /** An actor: its state lives in its worker between calls. */
  public static class Counter {
    private int value;

    public Counter(int start) {
      value = start;
    }

    public int increment(int by) {
      value += by;
      return value;
    }

    public int get() {
      return value;
    }

    public String fail() {
      throw new IllegalArgumentException("bad call");
    }

    public int quit() {
      Ray.exitActor();
      return -1;
    }

    public long sleepThenTime(int ms) throws InterruptedException {
      Thread.sleep(ms);
      return System.nanoTime();
    }
  }

  static String callIt(java.util.function.Supplier<String> supplier) {
    return supplier.get();
  }

  static Runnable makeRunnable() {
    return () -> {};
  }

  static String envVar(String name) {
    return System.getenv(name);
  }

  /** Reads its worker's environment variables. */
  public static class EnvReader {
    public String read(String name) {
      return System.getenv(name);
    }
  }

  static String printPieces() {
    System.out.printf("pieces %d and %s%n", 7, "x");
    System.out.print("no newline at the end");
    return "printed";
  }

  static String currentTaskId() {
    return Ray.getRuntimeContext().getCurrentTaskId().toString();
  }

  @BeforeAll
  static void start() {
    Ray.init();
  }

  @AfterAll
  static void stop() {
    Ray.shutdown();
  }

  @Test
  void tasksRunInJavaWorkersAndValuesComeBack() {
    assertEquals(49, Ray.task(JavaDriverITCase::square, 7).remote().get());
    assertEquals("hello ray hello ray", Ray.task(JavaDriverITCase::greet, "ray", 2).remote().get());
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      refs.add(Ray.task(JavaDriverITCase::square, i).remote());
    }
    List<Integer> squares = Ray.get(refs);
    for (int i = 0; i < 10; i++) {
      assertEquals(i * i, squares.get(i));
    }
    assertEquals(
        Map.of("values", List.of(0, 1, 2)),
        Ray.task(JavaDriverITCase::structured, 3).remote().get());
    assertEquals(385, Ray.task(JavaDriverITCase::sumOfSquares, 10).remote().get());
  }

  @Test
  void putGetAndLargeArraysThroughSharedMemory() {
    assertEquals("a value", Ray.put("a value").get());
    double[] big = new double[2_000_000]; // 16 MB: stored in the arena, not inline
    for (int i = 0; i < big.length; i++) {
      big[i] = i * 0.5;
    }
    ObjectRef<double[]> ref = Ray.put(big);
    assertArrayEquals(big, ref.get());
    // As an argument by reference and as a large return value.
    double[] back = Ray.task(JavaDriverITCase::doubled, ref).remote().get();
    assertEquals(big.length, back.length);
    assertEquals(2 * big[12345], back[12345]);
    // A large argument passed by value is put first.
    assertEquals(2 * big[7], Ray.task(JavaDriverITCase::doubled, big).remote().get()[7]);
  }

  @Test
  void waitAndGetWithTimeouts() {
    ObjectRef<Integer> slow = Ray.task(JavaDriverITCase::sleepy, 3000).remote();
    ObjectRef<Integer> fast = Ray.task(JavaDriverITCase::square, 3).remote();
    assertEquals(9, fast.get());
    WaitResult<Integer> result = Ray.wait(List.of(slow, fast), 1, 2000);
    assertEquals(List.of(fast), result.getReady());
    assertEquals(List.of(slow), result.getUnready());
    assertThrows(RayTimeoutException.class, () -> Ray.get(slow, 100));
    assertEquals(3000, slow.get());
  }

  @Test
  void aTaskExceptionReachesTheCallerWithItsTypeAndMessage() {
    RayTaskException e =
        assertThrows(
            RayTaskException.class, () -> Ray.task(JavaDriverITCase::fail, "boom").remote().get());
    assertTrue(e.getMessage().contains("java.lang.IllegalStateException: boom"), e.getMessage());
    assertTrue(e.getMessage().contains("JavaDriverITCase.fail"), e.getMessage());
    // The worker survives it.
    assertEquals(4, Ray.task(JavaDriverITCase::square, 2).remote().get());
    assertFalse(Ray.getRuntimeContext().getCurrentJobId().isNil());
  }

  @Test
  void actorsKeepStateRunCallsInOrderAndSurviveTheirExceptions() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new, 10).remote();
    List<ObjectRef<Integer>> refs = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      refs.add(counter.task(Counter::increment, 1).remote());
    }
    assertEquals(List.of(11, 12, 13, 14, 15), Ray.get(refs));
    RayTaskException e =
        assertThrows(RayTaskException.class, () -> counter.task(Counter::fail).remote().get());
    assertTrue(e.getMessage().contains("IllegalArgumentException: bad call"), e.getMessage());
    assertEquals(15, counter.task(Counter::get).remote().get());
  }

  @Test
  void namedActorsAreFoundByNameAndKilledOrExited() {
    ActorHandle<Counter> named = Ray.actor(Counter::new, 0).setName("java-counter").remote();
    assertEquals(1, named.task(Counter::increment, 1).remote().get());
    Optional<ActorHandle<Counter>> found = Ray.getActor("java-counter");
    assertTrue(found.isPresent());
    assertEquals(3, found.get().task(Counter::increment, 2).remote().get());
    assertEquals(named.getId(), found.get().getId());
    assertFalse(Ray.getActor("no-such-actor").isPresent());
    assertThrows(
        IllegalArgumentException.class,
        () -> Ray.actor(Counter::new, 0).setName("java-counter").remote());
    named.kill();
    assertThrows(RayActorException.class, () -> named.task(Counter::get).remote().get(30_000));

    ActorHandle<Counter> leaving = Ray.actor(Counter::new, 0).remote();
    assertEquals(0, leaving.task(Counter::get).remote().get());
    leaving.task(Counter::quit).remote();
    assertThrows(RayActorException.class, () -> leaving.task(Counter::get).remote().get(30_000));
  }

  @Test
  void anActorWithMaxConcurrencyRunsCallsAtOnce() {
    ActorHandle<Counter> actor = Ray.actor(Counter::new, 0).setMaxConcurrency(2).remote();
    assertEquals(0, actor.task(Counter::get).remote().get());
    long start = System.nanoTime();
    List<ObjectRef<Long>> both =
        List.of(
            actor.task(Counter::sleepThenTime, 1000).remote(),
            actor.task(Counter::sleepThenTime, 1000).remote());
    Ray.get(both);
    double seconds = (System.nanoTime() - start) / 1e9;
    assertTrue(seconds < 1.9, "two 1 s calls took " + seconds + " s: they did not overlap");
  }

  @Test
  void badInputIsAClearErrorNeverAHang() {
    int captured = 3;
    IllegalArgumentException capturing =
        assertThrows(IllegalArgumentException.class, () -> Ray.task(() -> captured * 2).remote());
    assertTrue(capturing.getMessage().contains("captures variables"), capturing.getMessage());
    UnsupportedOperationException option =
        assertThrows(
            UnsupportedOperationException.class,
            () -> Ray.actor(Counter::new, 0).setJvmOptions(List.of("-Xmx1g")).remote());
    assertTrue(option.getMessage().contains("setJvmOptions"), option.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> Ray.task(JavaDriverITCase::square, 1).setMaxRetries(-2));
    // Values that cannot be sent (a lambda: its class exists only in its JVM): an argument is
    // refused at once, a return reaches the caller as the task's error, naming the class.
    java.util.function.Supplier<String> lambda = () -> "x";
    IllegalArgumentException argument =
        assertThrows(
            IllegalArgumentException.class,
            () -> Ray.task(JavaDriverITCase::callIt, lambda).remote());
    assertTrue(argument.getMessage().contains("A lambda cannot be sent"), argument.getMessage());
    RayTaskException result =
        assertThrows(
            RayTaskException.class,
            () -> Ray.task(JavaDriverITCase::makeRunnable).remote().get(30_000));
    assertTrue(result.getMessage().contains("A lambda cannot be sent"), result.getMessage());
    // A resource no node has: the task waits for it (it is not run without it).
    ObjectRef<Integer> starved =
        Ray.task(JavaDriverITCase::square, 2).setResource("no-such-resource", 1.0).remote();
    assertThrows(RayTimeoutException.class, () -> starved.get(1500));
  }

  @Test
  void theRuntimeContextKnowsTheJobNodeAndTask() {
    var context = Ray.getRuntimeContext();
    assertFalse(context.getCurrentJobId().isNil());
    assertFalse(context.getCurrentNodeId().isNil());
    assertTrue(context.getNamespace().startsWith("anonymous-"), context.getNamespace());
    String inTask = Ray.task(JavaDriverITCase::currentTaskId).remote().get();
    assertEquals(48, inTask.length()); // a task id, 24 bytes in hex
    assertFalse(inTask.matches("f+"));
  }

  @Test
  void whatATaskPrintsReachesTheDriverLineByLine() throws Exception {
    java.io.PrintStream original = System.out;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
    String text = "";
    try {
      assertEquals("printed", Ray.task(JavaDriverITCase::printPieces).remote().get());
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!text.contains("no newline at the end") && System.nanoTime() < deadline) {
        Thread.sleep(20);
        text = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
      }
    } finally {
      System.setOut(original);
    }
    String all = text;
    // printf writes (and flushes) in pieces: they still make one line, prefixed as in Ray.
    assertTrue(
        all.lines().anyMatch(l -> l.matches("\\(\\S*printPieces pid=\\d+\\) pieces 7 and x")), all);
    assertTrue(
        all.lines()
            .anyMatch(l -> l.matches("\\(\\S*printPieces pid=\\d+\\) no newline at the end")),
        all);
  }

  @Test
  void tasksAndActorsRunInTheirRuntimeEnvironment() {
    RuntimeEnv env = new RuntimeEnv.Builder().build();
    env.set(RuntimeEnvName.ENV_VARS, Map.of("RAY_JAVA_GREETING", "hello"));
    assertEquals(
        "hello",
        Ray.task(JavaDriverITCase::envVar, "RAY_JAVA_GREETING").setRuntimeEnv(env).remote().get());
    // Without it, the job's workers do not have the variable.
    assertEquals(null, Ray.task(JavaDriverITCase::envVar, "RAY_JAVA_GREETING").remote().get());
    ActorHandle<EnvReader> reader = Ray.actor(EnvReader::new).setRuntimeEnv(env).remote();
    assertEquals("hello", reader.task(EnvReader::read, "RAY_JAVA_GREETING").remote().get());

    RuntimeEnv copy = RuntimeEnv.deserialize(env.serialize());
    assertEquals(
        Map.of("RAY_JAVA_GREETING", "hello"), copy.get(RuntimeEnvName.ENV_VARS, Map.class));
    // A field this runtime does not build is refused by name, never ignored.
    RuntimeEnv jars = new RuntimeEnv.Builder().build();
    jars.set(RuntimeEnvName.JARS, List.of("extra.jar"));
    UnsupportedOperationException refused =
        assertThrows(
            UnsupportedOperationException.class,
            () -> Ray.task(JavaDriverITCase::envVar, "X").setRuntimeEnv(jars).remote());
    assertTrue(refused.getMessage().contains("java_jars"), refused.getMessage());
  }
}
