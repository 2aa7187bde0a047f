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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

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

  /** Output lines and held reports go out at the latest this long after the first of them. */
  private static final long FLUSH_DELAY_MS = 50;

  private final ByteString workerId;
  private final RawRpc rpc;
  private final CompletableFuture<WorkerSetup> setup = new CompletableFuture<>();
  private final BlockingQueue<Incoming> tasks = new LinkedBlockingQueue<>();

  private static final CancelTask STOP_CANCELS = CancelTask.getDefaultInstance();
  private final BlockingQueue<CancelTask> cancels = new LinkedBlockingQueue<>();
  private final List<LogLine> output = new ArrayList<>();

  /** Reports of finished direct calls not sent yet, as WorkerMessages (guarded by this). */
  private final List<byte[]> laterReports = new ArrayList<>();

  private static final long LATER_REPORTS_MS = 5;

  /** At most this many reports wait for company. */
  private static final int MAX_LATER_REPORTS = 256;

  /** The channel to the node: serialized WorkerMessages out (see {@link WorkerFrames}). */
  private StreamObserver<byte[]> channel;

  /** The host callers reach this worker on: its node's. */
  private final String host;

  /** Sends what waits (output, held reports) when nothing else did; idle, it never wakes. */
  private ScheduledExecutorService flusher;

  /** Whether a flush is scheduled (guarded by this). */
  private boolean flushScheduled;

  WorkerBridge(ByteString workerId, RawRpc rpc, String host) {
    this.workerId = workerId;
    this.rpc = rpc;
    this.host = host;
  }

  private Consumer<String> connector;

  /**
   * How to open the channel to the node and introduce this worker, given the address where Python
   * serves its callers; run when Python is ready for tasks.
   */
  void setConnector(Consumer<String> connector) {
    this.connector = connector;
  }

  synchronized void setFlusher(ScheduledExecutorService flusher) {
    this.flusher = flusher;
  }

  /** Makes sure what waits goes out within FLUSH_DELAY_MS (caller holds this monitor). */
  private void scheduleFlush() {
    if (!flushScheduled && flusher != null) {
      flushScheduled = true;
      flusher.schedule(this::scheduledFlush, FLUSH_DELAY_MS, TimeUnit.MILLISECONDS);
    }
  }

  private synchronized void scheduledFlush() {
    flushScheduled = false;
    flushOutput();
  }

  synchronized void attach(StreamObserver<byte[]> channel) {
    this.channel = channel;
  }

  /** Flushes output and ends the channel. */
  synchronized void close() {
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

  void onCancel(CancelTask c) {
    cancels.add(c);
  }

  /** The node said goodbye, or the channel broke: the Python loop ends after its task. */
  void onStop() {
    setup.completeExceptionally(new IllegalStateException("node manager closed the channel"));
    tasks.add(STOP);
    cancels.add(STOP_CANCELS);
  }

  // ------------------------------------------------------------- called from Python

  /** The host Python serves direct calls on (its node's address). */
  public String host() {
    return host;
  }

  public String workerIdHex() {
    return io.ray.engine.common.Ids.hex(workerId);
  }

  public int pid() {
    return (int) ProcessHandle.current().pid();
  }

  /**
   * Python is initialised and serves direct calls at {@code directAddress}: introduce this worker
   * to the node, wait for its setup, and return the serialized WorkerSetup. The node counts the
   * worker as ready from this moment.
   */
  public ByteBuffer connect(String directAddress) throws Exception {
    connector.accept(directAddress);
    return direct(setup.get().toByteArray());
  }

  /**
   * Blocks until the next task; null when stopping. Otherwise a buffer: byte 0 is the kind (0: a
   * TaskSpec sent by the node, 1: a PushTaskRequest pushed by a caller), bytes 1-8 the id Python
   * gave the push (little-endian, 0 for the node's), then the message.
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

  /**
   * A caller pushed calls (a serialized PushTaskRequest) to Python's server: they queue with the
   * node's tasks, and {@link #nextTask} hands them back under {@code pushId}. Called from Python's
   * server threads.
   */
  public void pushed(long pushId, byte[] request) {
    tasks.add(new Incoming(DIRECT, pushId, request));
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
      // ends). Calls that print nothing send nothing here. The reports held so far stay held:
      // a run of calls shares one message (the flusher sends them at the latest).
      flushLines();
      laterReports.add(report);
      if (laterReports.size() >= MAX_LATER_REPORTS) {
        flushLaterReports();
      } else {
        scheduleFlush();
      }
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
      } else {
        scheduleFlush();
      }
    }
  }

  /** Sends buffered output lines now. */
  public synchronized void flushOutput() {
    // The flusher also sends reports that calls on other threads (threaded and async actors)
    // finished while the main loop waited for the next task.
    flushLaterReports();
    flushLines();
  }

  /** Sends buffered output lines now, and nothing else. */
  public synchronized void flushLines() {
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
