package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.*;

/** gRPC front of {@link NodeManager} for drivers and worker-side Python. No logic here. */
public final class NodeManagerService extends NodeManagerServiceGrpc.NodeManagerServiceImplBase {
  private final NodeManager node;

  public NodeManagerService(NodeManager node) {
    this.node = node;
  }

  @Override
  public StreamObserver<DriverMessage> attachDriver(StreamObserver<DriverEvent> out) {
    ServerCallStreamObserver<DriverEvent> events = (ServerCallStreamObserver<DriverEvent>) out;
    return new StreamObserver<>() {
      private ByteString clientId;

      {
        // The driver vanished without half-closing (killed, or its process exited).
        events.setOnCancelHandler(
            () -> {
              if (clientId != null) {
                node.detachDriver(clientId, () -> {});
              }
            });
      }

      @Override
      public void onNext(DriverMessage m) {
        switch (m.getMessageCase()) {
          case ATTACH -> {
            clientId = m.getAttach().getClientId();
            node.attachDriver(m.getAttach(), events);
          }
          case OPS -> {
            if (clientId != null) {
              node.clientOps(clientId, m.getOps());
            }
          }
          default -> {}
        }
      }

      @Override
      public void onError(Throwable t) {
        if (clientId != null) {
          node.detachDriver(clientId, () -> {});
        }
      }

      @Override
      public void onCompleted() {
        // A clean goodbye: answer once everything the driver held is released.
        if (clientId == null) {
          events.onCompleted();
          return;
        }
        node.detachDriver(
            clientId,
            () -> {
              try {
                events.onCompleted();
              } catch (RuntimeException ignored) {
                // the driver stopped listening
              }
            });
      }
    };
  }

  @Override
  public void getObjects(GetObjectsRequest req, StreamObserver<GetObjectsReply> out) {
    node.getObjects(req, Reply.of(out));
  }

  @Override
  public void waitObjects(WaitObjectsRequest req, StreamObserver<WaitObjectsReply> out) {
    node.waitObjects(req, Reply.of(out));
  }

  @Override
  public void createObject(CreateObjectRequest req, StreamObserver<CreateObjectReply> out) {
    node.createObject(req, Reply.of(out));
  }

  @Override
  public void sealObject(SealObjectRequest req, StreamObserver<SealObjectReply> out) {
    node.sealObject(req, Reply.of(out));
  }

  @Override
  public void getActorAddress(
      GetActorAddressRequest req, StreamObserver<GetActorAddressReply> out) {
    node.getActorAddress(req, Reply.of(out));
  }

  @Override
  public void leaseWorker(LeaseWorkerRequest req, StreamObserver<LeaseWorkerReply> out) {
    node.leaseWorker(req, Reply.of(out));
  }

  @Override
  public void forwardTask(ForwardTaskRequest req, StreamObserver<ForwardTaskReply> out) {
    ByteString taskId = req.getSpec().getTaskId();
    ((ServerCallStreamObserver<ForwardTaskReply>) out)
        .setOnCancelHandler(() -> node.forwardCancelled(taskId));
    node.forwardTask(req, Reply.of(out));
  }

  @Override
  public void endForwardedActor(
      EndForwardedActorRequest req, StreamObserver<EndForwardedActorReply> out) {
    node.endForwardedActor(req, Reply.of(out));
  }

  @Override
  public void nextGeneratorItem(
      NextGeneratorItemRequest req, StreamObserver<NextGeneratorItemReply> out) {
    node.nextGeneratorItem(req, Reply.of(out));
  }

  @Override
  public void jobStarted(JobStartedRequest req, StreamObserver<JobStartedReply> out) {
    node.jobStarted(req, Reply.of(out));
  }

  @Override
  public void releaseObjects(ReleaseObjectsRequest req, StreamObserver<ReleaseObjectsReply> out) {
    node.releaseObjects(req, Reply.of(out));
  }

  @Override
  public void prepareBundles(BundlesRequest req, StreamObserver<BundlesReply> out) {
    node.bundles(req, NodeManager.BundlePhase.PREPARE, Reply.of(out));
  }

  @Override
  public void commitBundles(BundlesRequest req, StreamObserver<BundlesReply> out) {
    node.bundles(req, NodeManager.BundlePhase.COMMIT, Reply.of(out));
  }

  @Override
  public void returnBundles(BundlesRequest req, StreamObserver<BundlesReply> out) {
    node.bundles(req, NodeManager.BundlePhase.RETURN, Reply.of(out));
  }

  @Override
  public void pullObject(PullObjectRequest req, StreamObserver<ObjectChunk> out) {
    node.pullObject(req, (ServerCallStreamObserver<ObjectChunk>) out);
  }

  @Override
  public void getNodeResources(
      GetNodeResourcesRequest req, StreamObserver<GetNodeResourcesReply> out) {
    node.getNodeResources(Reply.of(out));
  }
}
