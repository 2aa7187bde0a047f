package io.ray.runtime.worker;

import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.ClientOps;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.WorkerMessage;
import io.ray.engine.rpc.WorkerOutput;
import java.util.List;

/**
 * The worker's side of its channel to the node: every message the worker sends (its changes, a
 * task's end, its output lines) goes through {@link #send}, one at a time, in order. Thread-safe.
 */
final class WorkerChannel implements AutoCloseable {
  private final StreamObserver<WorkerMessage> out;
  private boolean closed;

  WorkerChannel(StreamObserver<WorkerMessage> out) {
    this.out = out;
  }

  synchronized void send(WorkerMessage m) {
    if (!closed) {
      out.onNext(m);
    }
  }

  void changes(ClientOps ops) {
    send(WorkerMessage.newBuilder().setOps(ops).build());
  }

  void finished(TaskFinished finished) {
    send(WorkerMessage.newBuilder().setTaskFinished(finished).build());
  }

  void output(List<LogLine> lines) {
    send(
        WorkerMessage.newBuilder().setOutput(WorkerOutput.newBuilder().addAllLines(lines)).build());
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      out.onCompleted();
    }
  }
}
