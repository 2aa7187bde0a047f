package io.ray.engine.common;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns a component's state. Everything that reads or changes that state runs as
 * a task on this loop; other threads (gRPC, process watchers) only post to it. This replaces locks:
 * a component's state is never touched by two threads.
 *
 * <p>A loop either owns a thread ({@link #EventLoop(String)}) or runs on a single-threaded executor
 * owned elsewhere ({@link #on}), such as the Netty event loop of the component's gRPC server:
 * handlers then run where requests are read, and replies are written without waking another thread
 * (measured: about 10% lower task latency and higher throughput on 2 cores).
 */
public final class EventLoop implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);

  private final ScheduledExecutorService executor;
  private final boolean owned;
  private volatile Thread thread;
  private volatile boolean closed;

  public EventLoop(String name) {
    ScheduledThreadPoolExecutor pool =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              thread = t;
              return t;
            });
    // Timers (timeouts, retries) die with the loop instead of delaying its shutdown.
    pool.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    pool.setRemoveOnCancelPolicy(true);
    this.executor = pool;
    this.owned = true;
  }

  private EventLoop(ScheduledExecutorService executor) {
    this.executor = executor;
    this.owned = false;
  }

  /**
   * A loop on a single-threaded executor that someone else owns and shuts down; {@link #close()}
   * then only stops running this loop's tasks and timers.
   */
  public static EventLoop on(ScheduledExecutorService singleThreaded) {
    EventLoop loop = new EventLoop(singleThreaded);
    CompletableFuture<Thread> t = new CompletableFuture<>();
    singleThreaded.execute(() -> t.complete(Thread.currentThread()));
    try {
      loop.thread = t.get(10, TimeUnit.SECONDS);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      throw new IllegalStateException("executor did not run a task", e);
    }
    return loop;
  }

  /** Runs {@code task} on the loop; a task that throws is logged and the loop goes on. */
  public void execute(Runnable task) {
    if (closed) {
      return;
    }
    try {
      executor.execute(() -> runGuarded(task));
    } catch (RejectedExecutionException e) {
      // Shutting down: the component no longer accepts work.
    }
  }

  public ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
    return executor.schedule(() -> runGuarded(task), delay, unit);
  }

  public ScheduledFuture<?> scheduleAtFixedRate(Runnable task, long period, TimeUnit unit) {
    return executor.scheduleAtFixedRate(() -> runGuarded(task), period, period, unit);
  }

  public boolean inLoop() {
    return Thread.currentThread() == thread;
  }

  /** Fails fast when state is touched from the wrong thread. */
  public void checkInLoop() {
    if (!inLoop()) {
      throw new IllegalStateException(
          "must run on "
              + (thread == null ? "the loop" : thread.getName())
              + ", not "
              + Thread.currentThread().getName());
    }
  }

  private void runGuarded(Runnable task) {
    if (closed) {
      return;
    }
    try {
      task.run();
    } catch (Throwable t) {
      LOG.error("task on event loop failed", t);
    }
  }

  @Override
  public void close() {
    closed = true;
    if (!owned) {
      return;
    }
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
