package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.exception.RayActorException;
import io.ray.api.exception.RayWorkerException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Java actors on the real engine: restarts after their worker process dies, handles and refs as
 * task arguments, a handle returned from a task. Set up as {@link JavaDriverITCase}: one {@code
 * Ray.init()} for the class, workers load this class from the test JVM's class path.
 */
class JavaActorsITCase {
  /** How long a call may take to fail or to succeed after a worker's death. */
  private static final long DEADLINE_MS = 30_000;

  /** An actor whose state is one count; it tells the pid of the process it runs in. */
  public static class Counter {
    private int value;

    public Counter() {}

    public int increment() {
      return ++value;
    }

    public int get() {
      return value;
    }

    public long pid() {
      return ProcessHandle.current().pid();
    }

    /** Increments another actor through a handle received as an argument. */
    public int incrementOther(ActorHandle<Counter> other) {
      return other.task(Counter::increment).remote().get();
    }

    public int add(int a, int b) {
      value += a + b;
      return value;
    }
  }

  static int incrementVia(ActorHandle<Counter> c) {
    return c.task(Counter::increment).remote().get();
  }

  static int square(int x) {
    return x * x;
  }

  /**
   * Kills its own worker the first time (it leaves its pid in {@code marker}); a retry finds the
   * marker and returns the pid it runs in.
   */
  static long crashOnce(String marker) throws IOException {
    Path path = Path.of(marker);
    long pid = ProcessHandle.current().pid();
    if (Files.exists(path)) {
      return pid;
    }
    Files.writeString(path, Long.toString(pid));
    Runtime.getRuntime().halt(1);
    return -1;
  }

  static long crashAlways() {
    Runtime.getRuntime().halt(1);
    return -1;
  }

  /** Sums the values of the refs it was given inside a list. */
  static int sumAll(List<ObjectRef<Integer>> refs) {
    int sum = 0;
    for (int v : Ray.get(refs)) {
      sum += v;
    }
    return sum;
  }

  /** Puts a value in the worker and returns the ref (the worker's own ref dies with the task). */
  static ObjectRef<Integer> putInWorker(int x) {
    return Ray.put(x * 10);
  }

  /** A task that creates an actor, uses it and returns its handle. */
  static ActorHandle<Counter> makeCounter() {
    ActorHandle<Counter> created = Ray.actor(Counter::new).remote();
    created.task(Counter::increment).remote().get();
    return created;
  }

  /**
   * Runs the garbage collector of the worker it runs in, then holds the worker a moment: the
   * collected refs' releases (sent by the Cleaner's thread) go out before the task's end, and
   * parallel calls spread over the pool's workers.
   */
  static long collectGarbage() throws InterruptedException {
    System.gc();
    Thread.sleep(200);
    return ProcessHandle.current().pid();
  }

  @BeforeAll
  static void start() {
    Ray.init();
  }

  @AfterAll
  static void stop() {
    Ray.shutdown();
  }

  /** Kills the actor's worker process (the pid it reported) and waits until it is gone. */
  private static void killWorker(long pid) throws Exception {
    ProcessHandle worker =
        ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
    worker.destroyForcibly();
    worker.onExit().get(10, TimeUnit.SECONDS);
  }

  /**
   * Calls {@code pid} until the restarted actor answers from a process other than {@code oldPid};
   * calls in flight at the kill (or made before the node noticed it) may fail with
   * RayActorException meanwhile.
   */
  private static long pidAfterRestart(ActorHandle<Counter> actor, long oldPid) {
    long deadline = System.currentTimeMillis() + DEADLINE_MS;
    List<String> failures = new ArrayList<>();
    while (true) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) {
        fail("the actor did not answer from a new process within 30 s; failures: " + failures);
      }
      try {
        long pid = Ray.get(actor.task(Counter::pid).remote(), left);
        assertNotEquals(oldPid, pid, "the actor answered from its killed process");
        return pid;
      } catch (RayActorException e) {
        failures.add(e.getMessage());
        if (failures.size() > 100) {
          fail("the actor did not come back after 100 calls: " + failures.get(0));
        }
      }
    }
  }

  @Test
  void anActorWithOneRestartComesBackInANewProcessWithFreshStateThenDies() throws Exception {
    ActorHandle<Counter> counter = Ray.actor(Counter::new).setMaxRestarts(1).remote();
    assertEquals(1, counter.task(Counter::increment).remote().get(DEADLINE_MS));
    assertEquals(2, counter.task(Counter::increment).remote().get(DEADLINE_MS));
    long first = counter.task(Counter::pid).remote().get(DEADLINE_MS);

    killWorker(first);
    long second = pidAfterRestart(counter, first);
    // The constructor ran again: the state is fresh.
    assertEquals(0, counter.task(Counter::get).remote().get(DEADLINE_MS));
    assertEquals(1, counter.task(Counter::increment).remote().get(DEADLINE_MS));

    killWorker(second);
    // Its one restart is used: the actor is dead for good; calls fail (within the bound).
    assertThrows(
        RayActorException.class, () -> counter.task(Counter::get).remote().get(DEADLINE_MS));
    assertThrows(
        RayActorException.class, () -> counter.task(Counter::get).remote().get(DEADLINE_MS));
  }

  @Test
  void anActorWithoutRestartsDiesWithItsWorker() throws Exception {
    ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
    assertEquals(1, counter.task(Counter::increment).remote().get(DEADLINE_MS));
    killWorker(counter.task(Counter::pid).remote().get(DEADLINE_MS));
    assertThrows(
        RayActorException.class, () -> counter.task(Counter::get).remote().get(DEADLINE_MS));
  }

  @Test
  void anActorHandleAsAnArgumentReachesTheSameActor() {
    ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
    // To a task: it calls the actor, the driver sees the call's effect.
    assertEquals(1, Ray.task(JavaActorsITCase::incrementVia, counter).remote().get(DEADLINE_MS));
    assertEquals(1, counter.task(Counter::get).remote().get(DEADLINE_MS));
    assertEquals(2, counter.task(Counter::increment).remote().get(DEADLINE_MS));
    // To another actor's method.
    ActorHandle<Counter> other = Ray.actor(Counter::new).remote();
    assertEquals(3, other.task(Counter::incrementOther, counter).remote().get(DEADLINE_MS));
    assertEquals(3, counter.task(Counter::get).remote().get(DEADLINE_MS));
    assertEquals(0, other.task(Counter::get).remote().get(DEADLINE_MS));
  }

  @Test
  void objectRefsAsTopLevelArgumentsResolveToTheirValues() {
    ObjectRef<Integer> seven = Ray.put(7);
    assertEquals(49, Ray.task(JavaActorsITCase::square, seven).remote().get(DEADLINE_MS));
    // A task's result passed on, before it is ready: the second task waits for the first.
    ObjectRef<Integer> nine = Ray.task(JavaActorsITCase::square, 3).remote();
    ObjectRef<Integer> eightyOne = Ray.task(JavaActorsITCase::square, nine).remote();
    assertEquals(6561, Ray.task(JavaActorsITCase::square, eightyOne).remote().get(DEADLINE_MS));
    // To an actor's method, mixed with a plain value.
    ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
    assertEquals(88, counter.task(Counter::add, eightyOne, 7).remote().get(DEADLINE_MS));
  }

  /**
   * As Ray documents: a handle returned from a task reaches the actor the task created, and keeps
   * it alive after the creating task's own handle is gone (collected in its worker). The returned
   * value holds the actor's lifetime object until the driver's handle holds it (before that was
   * built, the actor stopped once its creator's handle was collected, and the last call failed with
   * RayActorException).
   */
  @Test
  void anActorHandleReturnedFromATaskReachesTheActorItCreated() {
    ActorHandle<Counter> made = Ray.task(JavaActorsITCase::makeCounter).remote().get(DEADLINE_MS);
    assertEquals(2, made.task(Counter::increment).remote().get(DEADLINE_MS));
    // The creator's handle in its worker is garbage now: collect it in the pool's workers (the
    // task's worker is one of them; rounds of parallel collections reach each).
    for (int round = 0; round < 3; round++) {
      List<ObjectRef<Long>> gcs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        gcs.add(Ray.task(JavaActorsITCase::collectGarbage).remote());
      }
      Ray.get(gcs, DEADLINE_MS);
    }
    assertEquals(3, made.task(Counter::increment).remote().get(DEADLINE_MS));
  }

  /**
   * A task whose worker dies is run again within its retries (Ray's default is 3), in another
   * worker; without retries the caller gets RayWorkerException. Run one at a time, the tasks are
   * pushed to a leased worker: its death ends the lease and the node retries or fails the task.
   */
  @Test
  void aTaskWhoseWorkerDiesIsRetriedWithinItsRetries() throws Exception {
    Path marker = Files.createTempDirectory("crash-once").resolve("first-pid");
    try {
      long pid =
          Ray.task(JavaActorsITCase::crashOnce, marker.toString())
              .setMaxRetries(1)
              .remote()
              .get(DEADLINE_MS);
      long firstPid = Long.parseLong(Files.readString(marker));
      assertNotEquals(firstPid, pid, "the retry ran in the worker that died");
    } finally {
      Files.deleteIfExists(marker);
      Files.deleteIfExists(marker.getParent());
    }
    ObjectRef<Long> doomed = Ray.task(JavaActorsITCase::crashAlways).setMaxRetries(0).remote();
    assertThrows(RayWorkerException.class, () -> doomed.get(DEADLINE_MS));
    // The cluster goes on: a plain task still runs.
    assertEquals(49, Ray.task(JavaActorsITCase::square, 7).remote().get(DEADLINE_MS));
  }

  /**
   * ObjectRefs inside values, as in Ray: in a list passed to a task, returned from a task, in a
   * put. The value keeps each object alive until its reader's ref holds it.
   */
  @Test
  void objectRefsInsideValuesReachTheirObjects() throws Exception {
    List<ObjectRef<Integer>> refs =
        List.of(Ray.put(1), Ray.put(2), Ray.task(JavaActorsITCase::square, 3).remote());
    assertEquals(12, Ray.task(JavaActorsITCase::sumAll, refs).remote().get(DEADLINE_MS));

    ObjectRef<Integer> inner = Ray.task(JavaActorsITCase::putInWorker, 4).remote().get(DEADLINE_MS);
    // The worker's own ref to its put is garbage now: collect it in the pool's workers.
    for (int round = 0; round < 3; round++) {
      List<ObjectRef<Long>> gcs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        gcs.add(Ray.task(JavaActorsITCase::collectGarbage).remote());
      }
      Ray.get(gcs, DEADLINE_MS);
    }
    assertEquals(40, inner.get(DEADLINE_MS));

    ObjectRef<List<ObjectRef<Integer>>> boxed = Ray.put(List.of(Ray.put(5)));
    System.gc(); // the driver's own ref to the inner put is gone: the boxed value holds it
    assertEquals(5, boxed.get(DEADLINE_MS).get(0).get(DEADLINE_MS));
  }

  /**
   * Threads of one driver calling one actor at once (pushed calls, a batch while one is in flight,
   * and tasks on leased workers in between): no call is lost or run twice, and each thread sees its
   * own calls in order.
   */
  @Test
  void threadsOfOneDriverShareItsDirectCalls() throws Exception {
    ActorHandle<Counter> counter = Ray.actor(Counter::new).remote();
    int threads = 4;
    int calls = 150;
    List<java.util.concurrent.Future<List<Integer>>> seen = new ArrayList<>();
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      for (int t = 0; t < threads; t++) {
        seen.add(
            pool.submit(
                () -> {
                  List<Integer> mine = new ArrayList<>();
                  for (int i = 0; i < calls; i++) {
                    mine.add(counter.task(Counter::increment).remote().get(DEADLINE_MS));
                    if (i % 10 == 0) {
                      assertEquals(
                          49, Ray.task(JavaActorsITCase::square, 7).remote().get(DEADLINE_MS));
                    }
                  }
                  return mine;
                }));
      }
      java.util.Set<Integer> all = new java.util.HashSet<>();
      for (var f : seen) {
        List<Integer> mine = f.get(120, TimeUnit.SECONDS);
        for (int i = 1; i < mine.size(); i++) {
          assertTrue(mine.get(i) > mine.get(i - 1), "a thread's calls ran out of order: " + mine);
        }
        all.addAll(mine);
      }
      assertEquals(threads * calls, all.size()); // each value once: no call lost or run twice
      assertEquals(threads * calls, counter.task(Counter::get).remote().get(DEADLINE_MS));
    } finally {
      pool.shutdownNow();
    }
  }
}
