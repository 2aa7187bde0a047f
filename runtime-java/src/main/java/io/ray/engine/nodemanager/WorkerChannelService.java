package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.NodeMessage;
import io.ray.engine.rpc.WorkerChannelServiceGrpc;
import io.ray.engine.rpc.WorkerMessage;

/** gRPC front of {@link NodeManager} for worker JVMs: one long-lived stream per worker. */
public final class WorkerChannelService
    extends WorkerChannelServiceGrpc.WorkerChannelServiceImplBase {
  private final NodeManager node;

  public WorkerChannelService(NodeManager node) {
    this.node = node;
  }

  @Override
  public StreamObserver<WorkerMessage> attach(StreamObserver<NodeMessage> toWorker) {
    return new StreamObserver<>() {
      private ByteString workerId;

      @Override
      public void onNext(WorkerMessage m) {
        switch (m.getMessageCase()) {
          case HELLO -> {
            workerId = m.getHello().getWorkerId();
            node.workerAttached(m.getHello(), toWorker);
          }
          case TASK_FINISHED -> {
            if (workerId != null) {
              node.taskFinished(workerId, m.getTaskFinished());
            }
          }
          case OPS -> {
            if (workerId != null) {
              node.clientOps(workerId, m.getOps());
            }
          }
          case OUTPUT -> {
            if (workerId != null) {
              node.workerOutput(workerId, m.getOutput());
            }
          }
          default -> {}
        }
      }

      @Override
      public void onError(Throwable t) {
        if (workerId != null) {
          node.workerGone(workerId, "channel failed: " + t.getMessage());
        }
      }

      @Override
      public void onCompleted() {
        if (workerId != null) {
          node.workerGone(workerId, "channel closed");
        }
        try {
          toWorker.onCompleted();
        } catch (RuntimeException ignored) {
          // already closed
        }
      }
    };
  }
}
