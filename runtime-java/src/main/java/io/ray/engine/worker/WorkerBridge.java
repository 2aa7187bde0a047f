package io.ray.engine.worker;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.CancelTask;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.WorkerMessage;
import io.ray.engine.rpc.WorkerOutput;
import io.ray.engine.rpc.WorkerSetup;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the Python side of a worker calls (through Jep) to talk to its node: the next task, the end
 * of a task, output lines, and forwarded RPCs. Python holds the only reference to it.
 *
 * <p>Threading: called from the Python thread(s) of the embedded interpreter (Jep releases the GIL
 * during each call), and fed by the gRPC thread that reads the node's channel. Sends on the channel
 * are serialised by {@link #send}.
 */
public final class WorkerBridge {
  /** A task to run: sent by the node (kind 0, a TaskSpec) or pushed by a caller (kind 1). */
  private record Incoming(byte kind, long callId, byte[] payload) {}

  private static final Incoming STOP = new Incoming((byte) -1, 0, new byte[0]);
  private static final byte FROM_NODE = 0;
  private static final byte DIRECT = 1;
  private static final int OUTPUT_FLUSH_LINES = 200;

  private final ByteString workerId;
  private final RawRpc rpc;
  private final CompletableFuture<WorkerSetup> setup = new CompletableFuture<>();
  private final BlockingQueue<Incoming> tasks = new LinkedBlockingQueue<>();

  /** Callers waiting for the answer to a direct call, by call id. */
  private final Map<Long, StreamObserver<byte[]>> directCalls = new ConcurrentHashMap<>();

  private final AtomicLong nextCallId = new AtomicLong();
  private final java.util.Queue<StreamObserver<byte[]>> watchers =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private static final CancelTask STOP_CANCELS = CancelTask.getDefaultInstance();
  private final BlockingQueue<CancelTask> cancels = new LinkedBlockingQueue<>();
  private final List<LogLine> output = new ArrayList<>();

  /** Reports of finished direct calls not sent yet, as WorkerMessages (guarded by this). */
  private final List<byte[]> laterReports = new ArrayList<>();

  private static final long LATER_REPORTS_MS = 5;

  /** The channel to the node: serialized WorkerMessages out (see {@link WorkerFrames}). */
  private StreamObserver<byte[]> channel;

  WorkerBridge(ByteString workerId, RawRpc rpc) {
    this.workerId = workerId;
    this.rpc = rpc;
  }

  private Runnable connector;

  /** How to open the channel to the node; run when Python is ready for tasks. */
  void setConnector(Runnable connector) {
    this.connector = connector;
  }

  synchronized void attach(StreamObserver<byte[]> channel) {
    this.channel = channel;
  }

  /** Flushes output and ends the channel. */
  synchronized void close() {
    failDirectCalls();
    flushLaterReports();
    flushOutput();
    if (channel != null) {
      try {
        channel.onCompleted();
      } catch (RuntimeException ignored) {
        // already closed
      }
      channel = null;
    }
  }

  // ------------------------------------------------------------- fed by the node's channel

  void onSetup(WorkerSetup s) {
    setup.complete(s);
  }

  /** A task the node sent: its serialized TaskSpec, for Python to parse. */
  void onTask(byte[] spec) {
    tasks.add(new Incoming(FROM_NODE, 0, spec));
  }

  /** A caller pushed a call (serialized PushTaskRequest); {@code reply} gets the PushTaskReply. */
  void onDirectCall(byte[] request, StreamObserver<byte[]> reply) {
    long id = nextCallId.incrementAndGet();
    directCalls.put(id, reply);
    tasks.add(new Incoming(DIRECT, id, request));
  }

  void onCancel(CancelTask c) {
    cancels.add(c);
  }

  /** The node said goodbye, or the channel broke: the Python loop ends after its task. */
  void onStop() {
    setup.completeExceptionally(new IllegalStateException("node manager closed the channel"));
    tasks.add(STOP);
    failDirectCalls();
    cancels.add(STOP_CANCELS);
  }

  // ------------------------------------------------------------- called from Python

  public String workerIdHex() {
    return io.ray.engine.common.Ids.hex(workerId);
  }

  public int pid() {
    return (int) ProcessHandle.current().pid();
  }

  /**
   * Python is initialised: introduce this worker to the node, wait for its setup, and return the
   * serialized WorkerSetup. The node counts the worker as ready from this moment.
   */
  public ByteBuffer connect() throws Exception {
    connector.run();
    return direct(setup.get().toByteArray());
  }

  /**
   * Blocks until the next task; null when stopping. Otherwise a buffer: byte 0 is the kind (0: a
   * TaskSpec sent by the node, 1: a PushTaskRequest pushed by a caller), bytes 1-8 the call id
   * (little-endian; answer a direct call with {@link #replyDirect}), then the message.
   */
  public ByteBuffer nextTask() throws InterruptedException {
    Incoming next = tasks.poll();
    if (next == null && hasLaterReports()) {
      // Reports of direct calls wait a little for company (a run of calls becomes one message
      // for the node); nobody waits on them, the callers have their answers.
      next = tasks.poll(LATER_REPORTS_MS, TimeUnit.MILLISECONDS);
      if (next == null) {
        synchronized (this) {
          flushLaterReports();
        }
      }
    }
    if (next == null) {
      next = tasks.take();
    }
    if (next == STOP) {
      tasks.add(STOP);
      return null;
    }
    ByteBuffer b = ByteBuffer.allocateDirect(9 + next.payload().length);
    b.order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put(next.kind()).putLong(next.callId()).put(next.payload()).flip();
    return b;
  }

  /** Answers a direct call with a serialized PushTaskReply. */
  public void replyDirect(long callId, byte[] reply) {
    StreamObserver<byte[]> caller = directCalls.remove(callId);
    if (caller == null) {
      return;
    }
    try {
      caller.onNext(reply);
      caller.onCompleted();
    } catch (RuntimeException e) {
      // The caller went away; the node has the result from the channel anyway.
    }
  }

  /** A caller watches this worker: the stream stays open until the worker stops. */
  void onWatch(byte[] request, StreamObserver<byte[]> watcher) {
    watchers.add(watcher);
  }

  /** The worker is stopping: callers still waiting learn that it is gone. */
  private void failDirectCalls() {
    for (StreamObserver<byte[]> w : watchers) {
      try {
        w.onCompleted();
      } catch (RuntimeException ignored) {
        // the caller left
      }
    }
    watchers.clear();
    for (Long id : directCalls.keySet()) {
      StreamObserver<byte[]> caller = directCalls.remove(id);
      if (caller != null) {
        try {
          caller.onError(
              io.grpc.Status.UNAVAILABLE.withDescription("the worker is stopping").asException());
        } catch (RuntimeException ignored) {
          // gone already
        }
      }
    }
  }

  /**
   * Blocks until the node asks to interrupt a running task (ray.cancel); returns the serialized
   * CancelTask, or null when the worker is stopping. Python's cancel thread loops on it.
   */
  public ByteBuffer nextCancel() throws InterruptedException {
    CancelTask c = cancels.take();
    if (c == STOP_CANCELS) {
      cancels.add(STOP_CANCELS);
      return null;
    }
    return direct(c.toByteArray());
  }

  /** Reports a finished task (serialized TaskFinished); pending output goes first. */
  public void taskFinished(byte[] finished) {
    byte[] report = WorkerFrames.wrap(WorkerMessage.TASK_FINISHED_FIELD_NUMBER, finished);
    synchronized (this) {
      flushOutput();
      send(report);
    }
  }

  /**
   * Reports a finished direct call (serialized TaskFinished): it goes to the node with the next
   * message on the channel, or once the worker has been idle for {@link #LATER_REPORTS_MS}; its
   * output lines go at once.
   */
  public void taskFinishedLater(byte[] finished) {
    byte[] report = WorkerFrames.wrap(WorkerMessage.TASK_FINISHED_FIELD_NUMBER, finished);
    synchronized (this) {
      // The call's output goes now, before its caller has the answer: a driver that exits right
      // after must not lose the lines (the node delivers a job's lines before its log stream
      // ends). Calls that print nothing send nothing here.
      flushOutput();
      laterReports.add(report);
    }
  }

  private synchronized boolean hasLaterReports() {
    return !laterReports.isEmpty();
  }

  /** Sends the held reports (caller holds this monitor). */
  private void flushLaterReports() {
    if (laterReports.isEmpty() || channel == null) {
      return;
    }
    List<byte[]> out = new ArrayList<>(laterReports);
    laterReports.clear();
    for (byte[] m : out) {
      sendNow(m);
    }
  }

  /** Sends a serialized ClientOps (submissions, reference changes) on the channel, in order. */
  public void sendOps(byte[] ops) {
    send(WorkerFrames.wrap(WorkerMessage.OPS_FIELD_NUMBER, ops));
  }

  /** One line written to stdout or stderr by Python code; {@code source} names the task. */
  public void output(boolean isErr, String source, String text) {
    synchronized (this) {
      output.add(
          LogLine.newBuilder()
              .setIsErr(isErr)
              .setSource(source)
              .setText(text)
              .setPid(pid())
              .build());
      if (output.size() >= OUTPUT_FLUSH_LINES) {
        flushOutput();
      }
    }
  }

  /** Sends buffered output lines now. */
  public synchronized void flushOutput() {
    // The flusher also sends reports that calls on other threads (threaded and async actors)
    // finished while the main loop waited for the next task.
    flushLaterReports();
    if (output.isEmpty()) {
      return;
    }
    send(
        WorkerMessage.newBuilder()
            .setOutput(WorkerOutput.newBuilder().addAllLines(output))
            .build()
            .toByteArray());
    output.clear();
  }

  /** Forwards a serialized request; returns the serialized reply. */
  public ByteBuffer call(String fullMethodName, byte[] request, long timeoutMs) {
    return direct(rpc.call(fullMethodName, request, timeoutMs));
  }

  /** Sends a message; held reports go first, so the node sees everything in order. */
  synchronized void send(byte[] m) {
    flushLaterReports();
    sendNow(m);
  }

  private void sendNow(byte[] m) {
    if (channel != null) {
      try {
        channel.onNext(m);
      } catch (RuntimeException e) {
        // The channel is gone; the worker is being shut down.
      }
    }
  }

  private static ByteBuffer direct(byte[] bytes) {
    ByteBuffer b = ByteBuffer.allocateDirect(bytes.length);
    b.put(bytes).flip();
    return b;
  }
}
