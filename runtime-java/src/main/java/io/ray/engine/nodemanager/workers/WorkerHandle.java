package io.ray.engine.nodemanager.workers;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
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
  public final Process process;
  public State state = State.STARTING;

  /** Set when the worker attaches its channel. */
  public StreamObserver<NodeMessage> channel;

  public int pid;

  /** Task the worker runs while BUSY. */
  public ByteString currentTask;

  /** Nesting depth of blocking ray.get/ray.wait calls in the current task. */
  public int blockedDepth;

  public long idleSinceMs;
  public final long startedAtMs = System.currentTimeMillis();

  public WorkerHandle(ByteString workerId, ByteString jobId, Process process) {
    this.workerId = workerId;
    this.jobId = jobId;
    this.process = process;
    this.pid = process == null ? 0 : (int) process.pid();
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

  /** Ends the channel and kills the process (and its children) if still alive. */
  public void kill() {
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
    if (process != null && process.isAlive()) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
