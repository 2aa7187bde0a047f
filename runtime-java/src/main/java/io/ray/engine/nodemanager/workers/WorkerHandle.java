package io.ray.engine.nodemanager.workers;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.ray.engine.nodemanager.scheduling.WorkerKey;
import io.ray.engine.rpc.NodeMessage;

/**
 * The node manager's view of one worker process. Owned by the node manager's loop, except {@link
 * #send}, which may be called from any thread.
 */
public final class WorkerHandle {
  /** STARTING until it attaches; IDLE or BUSY in the task pool; ACTOR once it hosts an actor. */
  public enum State {
    STARTING,
    IDLE,
    BUSY,
    ACTOR,
    DEAD
  }

  public final ByteString workerId;
  public final ByteString jobId;

  /** Which tasks it may run: its job's, in the runtime environment it was started for. */
  public final WorkerKey key;

  /** Set once the launcher has started the process (off the node's loop); null before. */
  public volatile Process process;

  public State state = State.STARTING;

  /** Set when the worker attaches its channel. */
  public StreamObserver<NodeMessage> channel;

  public int pid;

  /** host:port where callers push direct calls (set when it attaches). */
  public String directAddress = "";

  /** Task the worker runs while BUSY. */
  public ByteString currentTask;

  /** The lease it is under while a caller pushes tasks to it (WorkerLeases); null if none. */
  public ByteString lease;

  /** Nesting depth of blocking ray.get/ray.wait calls in the current task. */
  public int blockedDepth;

  public long idleSinceMs;
  public final long startedAtMs = System.currentTimeMillis();

  public WorkerHandle(ByteString workerId, WorkerKey key) {
    this.workerId = workerId;
    this.jobId = key.jobId();
    this.key = key;
  }

  /** The launcher started the process (on the loop, after {@link #process} is set). */
  public void started(Process p) {
    if (pid == 0) {
      pid = (int) p.pid();
    }
  }

  /** Its task ended: it runs nothing now, and a task worker is idle in the pool again. */
  public void backToPool() {
    currentTask = null;
    blockedDepth = 0;
    if (state == State.BUSY) {
      state = State.IDLE;
      idleSinceMs = System.currentTimeMillis();
    }
  }

  /** Sends a message down the worker's channel; gRPC streams are not thread-safe. */
  public void send(NodeMessage message) {
    StreamObserver<NodeMessage> c = channel;
    if (c == null) {
      return;
    }
    synchronized (this) {
      try {
        c.onNext(message);
      } catch (RuntimeException e) {
        // The worker is gone; its exit is handled when the process or channel ends.
      }
    }
  }

  /** Ends the channel; cheap, callable on the node's loop. */
  public void closeChannel() {
    StreamObserver<NodeMessage> c = channel;
    if (c != null) {
      synchronized (this) {
        try {
          c.onCompleted();
        } catch (RuntimeException ignored) {
          // already closed
        }
      }
    }
  }

  /**
   * Kills the process and its children if still alive. Walks /proc and signals: call it off the
   * node's loop (the launcher's thread).
   */
  public void killProcess() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
  }
}
