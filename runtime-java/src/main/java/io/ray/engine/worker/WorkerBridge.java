package io.ray.engine.worker;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.CancelTask;
import io.ray.engine.rpc.ClientOps;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;
import io.ray.engine.rpc.WorkerMessage;
import io.ray.engine.rpc.WorkerOutput;
import io.ray.engine.rpc.WorkerSetup;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * What the Python side of a worker calls (through Jep) to talk to its node: the next task, the end
 * of a task, output lines, and forwarded RPCs. Python holds the only reference to it.
 *
 * <p>Threading: called from the Python thread(s) of the embedded interpreter (Jep releases the GIL
 * during each call), and fed by the gRPC thread that reads the node's channel. Sends on the channel
 * are serialised by {@link #send}.
 */
public final class WorkerBridge {
  private static final TaskSpec STOP = TaskSpec.getDefaultInstance();
  private static final int OUTPUT_FLUSH_LINES = 200;

  private final ByteString workerId;
  private final RawRpc rpc;
  private final CompletableFuture<WorkerSetup> setup = new CompletableFuture<>();
  private final BlockingQueue<TaskSpec> tasks = new LinkedBlockingQueue<>();
  private static final CancelTask STOP_CANCELS = CancelTask.getDefaultInstance();
  private final BlockingQueue<CancelTask> cancels = new LinkedBlockingQueue<>();
  private final List<LogLine> output = new ArrayList<>();
  private StreamObserver<WorkerMessage> channel;

  WorkerBridge(ByteString workerId, RawRpc rpc) {
    this.workerId = workerId;
    this.rpc = rpc;
  }

  private Runnable connector;

  /** How to open the channel to the node; run when Python is ready for tasks. */
  void setConnector(Runnable connector) {
    this.connector = connector;
  }

  synchronized void attach(StreamObserver<WorkerMessage> channel) {
    this.channel = channel;
  }

  /** Flushes output and ends the channel. */
  synchronized void close() {
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

  void onTask(TaskSpec spec) {
    tasks.add(spec);
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

  /** Blocks until the next task; returns the serialized TaskSpec, or null when stopping. */
  public ByteBuffer nextTask() throws InterruptedException {
    TaskSpec spec = tasks.take();
    if (spec == STOP) {
      tasks.add(STOP);
      return null;
    }
    return direct(spec.toByteArray());
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
  public void taskFinished(byte[] finished) throws InvalidProtocolBufferException {
    TaskFinished done = TaskFinished.parseFrom(finished);
    synchronized (this) {
      flushOutput();
      send(WorkerMessage.newBuilder().setTaskFinished(done).build());
    }
  }

  /** Sends a serialized ClientOps (submissions, reference changes) on the channel, in order. */
  public void sendOps(byte[] ops) throws InvalidProtocolBufferException {
    send(WorkerMessage.newBuilder().setOps(ClientOps.parseFrom(ops)).build());
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
    if (output.isEmpty()) {
      return;
    }
    send(
        WorkerMessage.newBuilder()
            .setOutput(WorkerOutput.newBuilder().addAllLines(output))
            .build());
    output.clear();
  }

  /** Forwards a serialized request; returns the serialized reply. */
  public ByteBuffer call(String fullMethodName, byte[] request, long timeoutMs) {
    return direct(rpc.call(fullMethodName, request, timeoutMs));
  }

  synchronized void send(WorkerMessage m) {
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
