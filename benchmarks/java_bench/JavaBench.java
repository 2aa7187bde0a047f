package bench;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Core Ray Java API throughput, written only against Ray's public Java API ({@code io.ray.api}) so
 * that the same source compiles and runs against this runtime's ray-api jar and against Ray 2.60's
 * ray_dist.jar. Run by {@code benchmarks/java_bench.py}, which compiles it twice and prints both
 * runtimes side by side.
 *
 * <p>Each metric has a warm-up, then a loop bounded by a call count and by a time cap (whichever
 * comes first; the rate divides the calls actually made by the time taken). Every get has a
 * timeout, so a stuck call fails the run instead of hanging it. The last stdout line is {@code
 * RESULT {json}}.
 */
public class JavaBench {
  /** The large value: 100 MiB of doubles. */
  static final int LARGE_DOUBLES = 13_107_200;

  static final long LARGE_BYTES = LARGE_DOUBLES * 8L;
  static final long GET_TIMEOUT_MS = 60_000;
  static final long SEQUENTIAL_CAP_NS = 15_000_000_000L;

  public static int noop() {
    return 0;
  }

  /** A trivial actor: one method that returns at once. */
  public static class Counter {
    private int calls;

    public Counter() {}

    public int noop() {
      return ++calls;
    }
  }

  private static final Map<String, Object> RESULT = new LinkedHashMap<>();

  private static void log(String fmt, Object... args) {
    System.err.println("[JavaBench] " + String.format(Locale.ROOT, fmt, args));
    System.err.flush();
  }

  private static void record(String name, double value) {
    RESULT.put(name, value);
    log("%s = %.4f", name, value);
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Tasks submitted and awaited one at a time; returns calls per second. */
  private static double sequentialTasks(int n) {
    long t0 = System.nanoTime();
    int done = 0;
    while (done < n && System.nanoTime() - t0 < SEQUENTIAL_CAP_NS) {
      Ray.get(Ray.task(JavaBench::noop).remote(), GET_TIMEOUT_MS);
      done++;
    }
    return done / seconds(t0);
  }

  /** {@code batches} batches of {@code size} tasks, each submitted then fetched as a list. */
  private static double batchTasks(int size, int batches) {
    long t0 = System.nanoTime();
    for (int b = 0; b < batches; b++) {
      List<ObjectRef<Integer>> refs = new ArrayList<>(size);
      for (int i = 0; i < size; i++) {
        refs.add(Ray.task(JavaBench::noop).remote());
      }
      List<Integer> values = Ray.get(refs, GET_TIMEOUT_MS);
      check(values.size() == size, "batch returned " + values.size() + " values");
    }
    return (long) size * batches / seconds(t0);
  }

  private static double sequentialActorCalls(ActorHandle<Counter> actor, int n) {
    long t0 = System.nanoTime();
    int done = 0;
    while (done < n && System.nanoTime() - t0 < SEQUENTIAL_CAP_NS) {
      Ray.get(actor.task(Counter::noop).remote(), GET_TIMEOUT_MS);
      done++;
    }
    return done / seconds(t0);
  }

  private static double batchActorCalls(ActorHandle<Counter> actor, int size) {
    long t0 = System.nanoTime();
    List<ObjectRef<Integer>> refs = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      refs.add(actor.task(Counter::noop).remote());
    }
    List<Integer> values = Ray.get(refs, GET_TIMEOUT_MS);
    check(values.size() == size, "actor batch returned " + values.size() + " values");
    // Calls of one caller to one actor run in order: the counter must have counted up.
    check(values.get(size - 1) > values.get(0), "actor calls out of order");
    return size / seconds(t0);
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }

  public static void main(String[] args) {
    long tInit = System.nanoTime();
    Ray.init();
    // Not a compared metric (ours starts a cluster here, Ray's driver joins a running one).
    log("Ray.init() took %.2f s", seconds(tInit));
    try {
      run();
    } finally {
      Ray.shutdown();
    }
    StringBuilder json = new StringBuilder("{");
    for (Map.Entry<String, Object> e : RESULT.entrySet()) {
      if (json.length() > 1) {
        json.append(", ");
      }
      json.append('"').append(e.getKey()).append("\": ").append(e.getValue());
    }
    System.out.println("RESULT " + json.append('}'));
    System.out.flush();
    // Ray's Java driver may leave non-daemon threads behind after shutdown.
    System.exit(0);
  }

  private static void run() {
    // One-at-a-time calls are measured twice. Right after start (the first calls of a fresh
    // driver, node and workers: for a JVM engine mostly JIT warm-up), and once warm: after
    // 5,000 tasks or 10,000 actor calls (a JIT-compiled engine is still compiling its per-call
    // path with C2 a few thousand calls in), over 2,000 more. Both runtimes run the same loops.
    // (a) tasks one at a time.
    record("tasks_per_s_sequential_first", sequentialTasks(300));
    sequentialTasks(5000);
    record("tasks_per_s_sequential", sequentialTasks(2000));

    // (b) tasks in batches of 1,000.
    batchTasks(1000, 1);
    record("tasks_per_s_batch_1000", batchTasks(1000, 3));

    // (c) actor calls on one actor, one at a time and in a batch of 1,000.
    ActorHandle<Counter> actor = Ray.actor(Counter::new).remote();
    record("actor_calls_per_s_sequential_first", sequentialActorCalls(actor, 500));
    sequentialActorCalls(actor, 10000);
    record("actor_calls_per_s_sequential", sequentialActorCalls(actor, 2000));
    batchActorCalls(actor, 1000);
    record("actor_calls_per_s_batch_1000", batchActorCalls(actor, 1000));

    // (d) Ray.put and Ray.get of a 100 MiB double[]: best of 3, after one warm-up round.
    double[] large = new double[LARGE_DOUBLES];
    for (int i = 0; i < large.length; i++) {
      large[i] = i * 0.5;
    }
    double bestPut = Double.MAX_VALUE;
    double bestGet = Double.MAX_VALUE;
    for (int round = 0; round < 4; round++) {
      long t0 = System.nanoTime();
      ObjectRef<double[]> ref = Ray.put(large);
      double put = seconds(t0);
      long t1 = System.nanoTime();
      double[] back = Ray.get(ref, GET_TIMEOUT_MS);
      double get = seconds(t1);
      check(back.length == LARGE_DOUBLES, "got " + back.length + " doubles");
      check(back[LARGE_DOUBLES - 1] == (LARGE_DOUBLES - 1) * 0.5, "wrong last value");
      log("round %d: put %.4f s, get %.4f s", round, put, get);
      if (round > 0) {
        bestPut = Math.min(bestPut, put);
        bestGet = Math.min(bestGet, get);
      }
      ref = null;
      back = null;
    }
    record("put_100mib_s", bestPut);
    record("get_100mib_s", bestGet);
    record("put_gb_per_s", LARGE_BYTES / 1e9 / bestPut);
    record("get_gb_per_s", LARGE_BYTES / 1e9 / bestGet);
  }
}
