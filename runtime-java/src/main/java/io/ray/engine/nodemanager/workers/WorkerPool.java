package io.ray.engine.nodemanager.workers;

import com.google.protobuf.ByteString;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.scheduling.WorkerKey;
import io.ray.engine.rpc.RuntimeEnv;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's worker processes: which exist, in which state, for which {@link WorkerKey}; starting
 * and killing them.
 *
 * <p>Threading: the map and every handle's state are owned by the node manager's loop. Starting and
 * killing a process (fork/exec, walking /proc) run on the pool's own {@code worker-launcher}
 * thread, never on the loop, which is also the node's gRPC I/O thread; their outcomes come back to
 * the loop through {@code gone}.
 */
public final class WorkerPool implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);

  private final EventLoop loop;
  private final WorkerLauncher launcher;
  private final long startTimeoutMs;

  /** Told (on the loop) when a worker's process ended, failed to start or never attached. */
  private final BiConsumer<ByteString, String> gone;

  private final Map<ByteString, WorkerHandle> workers = new LinkedHashMap<>();
  private final ExecutorService processes =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "worker-launcher");
            t.setDaemon(true);
            return t;
          });

  public WorkerPool(
      EventLoop loop,
      WorkerLauncher launcher,
      long startTimeoutMs,
      BiConsumer<ByteString, String> gone) {
    this.loop = loop;
    this.launcher = launcher;
    this.startTimeoutMs = startTimeoutMs;
    this.gone = gone;
  }

  /** Starts a worker for {@code key}; it is STARTING until it attaches. */
  public WorkerHandle start(WorkerKey key, RuntimeEnv env) {
    ByteString workerId = Ids.random(Ids.UNIQUE_ID_SIZE);
    WorkerHandle w = new WorkerHandle(workerId, key);
    workers.put(workerId, w);
    Map<String, String> envVars = Map.copyOf(env.getEnvVarsMap());
    processes.execute(
        () -> {
          Process p;
          try {
            p = launcher.launch(workerId, key.jobId(), envVars, key.language());
          } catch (IOException | RuntimeException e) {
            LOG.error("cannot start a worker for job {}", Ids.hex(key.jobId()), e);
            loop.execute(() -> gone.accept(workerId, "could not be started: " + e));
            return;
          }
          if (p == null) {
            return;
          }
          LOG.info(
              "started worker {} (pid {}) for job {}",
              Ids.shortHex(workerId),
              p.pid(),
              Ids.hex(key.jobId()));
          // Set here, not on the loop: a kill queued behind this launch must see the process.
          w.process = p;
          loop.execute(() -> w.started(p));
          p.onExit()
              .thenRun(
                  () ->
                      loop.execute(
                          () ->
                              gone.accept(workerId, "process exited with code " + p.exitValue())));
        });
    loop.schedule(
        () -> {
          if (w.state == WorkerHandle.State.STARTING && workers.get(workerId) == w) {
            LOG.error(
                "worker {} did not attach within {} ms; killing it",
                Ids.shortHex(workerId),
                startTimeoutMs);
            gone.accept(workerId, "start timed out");
          }
        },
        startTimeoutMs,
        TimeUnit.MILLISECONDS);
    return w;
  }

  public WorkerHandle get(ByteString workerId) {
    return workers.get(workerId);
  }

  /** Takes a worker out of the pool (it died or was retired) and makes sure its process ends. */
  public WorkerHandle remove(ByteString workerId) {
    WorkerHandle w = workers.remove(workerId);
    if (w != null) {
      w.state = WorkerHandle.State.DEAD;
      kill(w);
    }
    return w;
  }

  /** Ends the worker's channel now and its process soon (off the loop). Idempotent. */
  public void kill(WorkerHandle w) {
    w.closeChannel();
    processes.execute(w::killProcess);
  }

  /** An idle worker for the key, or null. */
  public WorkerHandle idle(WorkerKey key) {
    for (WorkerHandle w : workers.values()) {
      if (w.state == WorkerHandle.State.IDLE && w.key.equals(key)) {
        return w;
      }
    }
    return null;
  }

  /** Task workers (idle or busy; also starting ones if asked) of the key. */
  public int count(WorkerKey key, boolean includeStarting) {
    int n = 0;
    for (WorkerHandle w : workers.values()) {
      if (w.key.equals(key)
          && (w.state == WorkerHandle.State.IDLE
              || w.state == WorkerHandle.State.BUSY
              || (includeStarting && w.state == WorkerHandle.State.STARTING))) {
        n++;
      }
    }
    return n;
  }

  public Map<WorkerKey, Integer> countByKey(WorkerHandle.State state) {
    Map<WorkerKey, Integer> out = new HashMap<>();
    for (WorkerHandle w : workers.values()) {
      if (w.state == state) {
        out.merge(w.key, 1, Integer::sum);
      }
    }
    return out;
  }

  /** Workers not dead (any state). */
  public int alive() {
    int n = 0;
    for (WorkerHandle w : workers.values()) {
      if (w.state != WorkerHandle.State.DEAD) {
        n++;
      }
    }
    return n;
  }

  public Collection<WorkerHandle> all() {
    return new ArrayList<>(workers.values());
  }

  /**
   * Kills every worker and waits (bounded) for their processes to end. Called from the thread that
   * closes the node, after the loop has handed over the handles.
   */
  public static void killAndWait(List<WorkerHandle> all) {
    for (WorkerHandle w : all) {
      w.closeChannel();
      w.killProcess();
    }
    for (WorkerHandle w : all) {
      Process p = w.process;
      if (p != null) {
        try {
          p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Empties the pool (on the loop); returns the handles for {@link #killAndWait}. */
  public List<WorkerHandle> drain() {
    List<WorkerHandle> all = new ArrayList<>(workers.values());
    all.forEach(w -> w.state = WorkerHandle.State.DEAD);
    workers.clear();
    return all;
  }

  @Override
  public void close() {
    processes.shutdown();
  }
}
