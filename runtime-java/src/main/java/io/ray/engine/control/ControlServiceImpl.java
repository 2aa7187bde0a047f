package io.ray.engine.control;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.common.PeerChannels;
import io.ray.engine.rpc.*;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster control service: gRPC front of {@link ControlState}, plus the log fan-out to drivers.
 * Every handler hops onto the service's {@link EventLoop}, which alone touches the state and the
 * subscriber lists.
 */
public final class ControlServiceImpl extends ControlServiceGrpc.ControlServiceImplBase
    implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControlServiceImpl.class);

  private final EventLoop loop = new EventLoop("control-service");
  private final ControlState state = new ControlState();
  private final PeerChannels nodeChannels = new PeerChannels();
  private final PlacementGroups placementGroups =
      new PlacementGroups(state, this::callNode, loop::execute);

  /** Log subscribers by job; only touched on the loop. */
  private final Map<ByteString, List<ServerCallStreamObserver<LogBatch>>> logSubscribers =
      new HashMap<>();

  public ControlServiceImpl() {
    loop.scheduleAtFixedRate(this::expireNodes, 1, TimeUnit.SECONDS);
  }

  private void expireNodes() {
    for (ByteString id : state.expireNodes(System.currentTimeMillis())) {
      LOG.warn("node {} stopped reporting; marked dead", Ids.shortHex(id));
      placementGroups.nodeDead(id);
    }
  }

  /** A placement group call to a node manager (answers on gRPC's threads; the caller hops). */
  private void callNode(
      String address,
      PlacementGroups.Phase phase,
      List<Bundle> bundles,
      boolean removed,
      java.util.function.Consumer<Boolean> done) {
    BundlesRequest req =
        BundlesRequest.newBuilder().addAllBundles(bundles).setRemoved(removed).build();
    StreamObserver<BundlesReply> answer =
        new StreamObserver<>() {
          @Override
          public void onNext(BundlesReply reply) {
            done.accept(reply.getOk());
          }

          @Override
          public void onError(Throwable t) {
            LOG.warn("placement group {} at {} failed: {}", phase, address, t.toString());
            done.accept(false);
          }

          @Override
          public void onCompleted() {}
        };
    NodeManagerServiceGrpc.NodeManagerServiceStub stub =
        NodeManagerServiceGrpc.newStub(nodeChannels.get(address))
            .withDeadlineAfter(10, TimeUnit.SECONDS);
    switch (phase) {
      case PREPARE -> stub.prepareBundles(req, answer);
      case COMMIT -> stub.commitBundles(req, answer);
      case RETURN -> stub.returnBundles(req, answer);
    }
  }

  @Override
  public void createPlacementGroup(
      CreatePlacementGroupRequest req, StreamObserver<CreatePlacementGroupReply> out) {
    reply(
        out,
        () ->
            CreatePlacementGroupReply.newBuilder()
                .setError(placementGroups.create(req.getPlacementGroup()))
                .build());
  }

  @Override
  public void removePlacementGroup(
      RemovePlacementGroupRequest req, StreamObserver<RemovePlacementGroupReply> out) {
    reply(
        out,
        () -> {
          placementGroups.remove(req.getPlacementGroupId());
          return RemovePlacementGroupReply.getDefaultInstance();
        });
  }

  @Override
  public void getPlacementGroups(
      GetPlacementGroupsRequest req, StreamObserver<GetPlacementGroupsReply> out) {
    reply(
        out,
        () ->
            GetPlacementGroupsReply.newBuilder()
                .addAllPlacementGroups(
                    placementGroups.get(
                        req.getPlacementGroupId(), req.getName(), req.getRayNamespace()))
                .build());
  }

  /** Runs {@code body} on the loop and completes the call with its result. */
  private <T> void reply(StreamObserver<T> out, Supplier<T> body) {
    loop.execute(
        () -> {
          T result;
          try {
            result = body.get();
          } catch (RuntimeException e) {
            out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            return;
          }
          out.onNext(result);
          out.onCompleted();
        });
  }

  @Override
  public void registerNode(RegisterNodeRequest req, StreamObserver<RegisterNodeReply> out) {
    reply(
        out,
        () -> {
          state.registerNode(req.getNode(), System.currentTimeMillis());
          LOG.info(
              "node {} registered at {}:{}",
              Ids.shortHex(req.getNode().getNodeId()),
              req.getNode().getNodeIp(),
              req.getNode().getNodeManagerPort());
          return RegisterNodeReply.getDefaultInstance();
        });
  }

  @Override
  public void reportNodeState(
      ReportNodeStateRequest req, StreamObserver<ReportNodeStateReply> out) {
    reply(
        out,
        () -> {
          ReportNodeStateReply.Builder b =
              ReportNodeStateReply.newBuilder()
                  .setKnown(
                      state.reportNode(
                          req.getNodeId(),
                          req.getTotalResourcesMap(),
                          req.getAvailableResourcesMap(),
                          req.getQueuedDemandMap(),
                          req.getPendingDemandsList(),
                          System.currentTimeMillis()))
                  .addAllRunningJobs(state.runningJobs())
                  .addAllRemovedPlacementGroups(placementGroups.removedIds());
          placementGroups.nodeReported(req.getNodeId());
          for (NodeInfo n : state.nodes()) {
            if (n.getAlive() && !n.getNodeId().equals(req.getNodeId())) {
              b.addNodes(n);
            }
          }
          return b.build();
        });
  }

  @Override
  public void unregisterNode(UnregisterNodeRequest req, StreamObserver<UnregisterNodeReply> out) {
    reply(
        out,
        () -> {
          state.markNodeDead(req.getNodeId());
          placementGroups.nodeDead(req.getNodeId());
          return UnregisterNodeReply.getDefaultInstance();
        });
  }

  @Override
  public void getAllNodes(GetAllNodesRequest req, StreamObserver<GetAllNodesReply> out) {
    reply(out, () -> GetAllNodesReply.newBuilder().addAllNodes(state.nodes()).build());
  }

  @Override
  public void registerJob(RegisterJobRequest req, StreamObserver<RegisterJobReply> out) {
    reply(
        out,
        () -> {
          ByteString id = state.registerJob(req.getConfig(), req.getDriverPid());
          LOG.info("job {} started by driver pid {}", Ids.hex(id), req.getDriverPid());
          return RegisterJobReply.newBuilder().setJobId(id).build();
        });
  }

  @Override
  public void finishJob(FinishJobRequest req, StreamObserver<FinishJobReply> out) {
    reply(
        out,
        () -> {
          state.finishJob(req.getJobId());
          placementGroups.jobFinished(req.getJobId());
          List<ServerCallStreamObserver<LogBatch>> subs = logSubscribers.remove(req.getJobId());
          if (subs != null) {
            subs.forEach(
                s -> {
                  try {
                    s.onCompleted();
                  } catch (RuntimeException ignored) {
                    // The subscriber went away first.
                  }
                });
          }
          return FinishJobReply.getDefaultInstance();
        });
  }

  @Override
  public void getJob(GetJobRequest req, StreamObserver<GetJobReply> out) {
    reply(
        out,
        () ->
            state
                .job(req.getJobId())
                .map(
                    j ->
                        GetJobReply.newBuilder()
                            .setFound(true)
                            .setConfig(j.config())
                            .setFinished(j.finished())
                            .build())
                .orElse(GetJobReply.getDefaultInstance()));
  }

  @Override
  public void putFunction(PutFunctionRequest req, StreamObserver<PutFunctionReply> out) {
    reply(
        out,
        () -> {
          state.putFunction(req.getJobId(), req.getFunctionId(), req.getPickled());
          return PutFunctionReply.getDefaultInstance();
        });
  }

  @Override
  public void getFunction(GetFunctionRequest req, StreamObserver<GetFunctionReply> out) {
    reply(
        out,
        () ->
            state
                .function(req.getJobId(), req.getFunctionId())
                .map(p -> GetFunctionReply.newBuilder().setFound(true).setPickled(p).build())
                .orElse(GetFunctionReply.getDefaultInstance()));
  }

  @Override
  public void kvPut(KvPutRequest req, StreamObserver<KvPutReply> out) {
    reply(
        out,
        () ->
            KvPutReply.newBuilder()
                .setAdded(
                    state.kvPut(req.getNs(), req.getKey(), req.getValue(), req.getOverwrite()))
                .build());
  }

  @Override
  public void kvGet(KvGetRequest req, StreamObserver<KvGetReply> out) {
    reply(
        out,
        () ->
            state
                .kvGet(req.getNs(), req.getKey())
                .map(v -> KvGetReply.newBuilder().setFound(true).setValue(v).build())
                .orElse(KvGetReply.getDefaultInstance()));
  }

  @Override
  public void kvDelete(KvDeleteRequest req, StreamObserver<KvDeleteReply> out) {
    reply(
        out,
        () ->
            KvDeleteReply.newBuilder()
                .setDeleted(state.kvDelete(req.getNs(), req.getKey()))
                .build());
  }

  @Override
  public void kvKeys(KvKeysRequest req, StreamObserver<KvKeysReply> out) {
    reply(
        out,
        () ->
            KvKeysReply.newBuilder()
                .addAllKeys(state.kvKeys(req.getNs(), req.getPrefix()))
                .build());
  }

  @Override
  public void registerActor(RegisterActorRequest req, StreamObserver<RegisterActorReply> out) {
    reply(
        out,
        () ->
            state
                .registerActor(req.getActor())
                .map(existing -> RegisterActorReply.newBuilder().setExisting(existing).build())
                .orElse(RegisterActorReply.newBuilder().setRegistered(true).build()));
  }

  @Override
  public void reportActorState(
      ReportActorStateRequest req, StreamObserver<ReportActorStateReply> out) {
    reply(
        out,
        () -> {
          state.updateActor(req.getActor());
          return ReportActorStateReply.getDefaultInstance();
        });
  }

  @Override
  public void getNamedActor(GetNamedActorRequest req, StreamObserver<GetNamedActorReply> out) {
    reply(
        out,
        () ->
            state
                .namedActor(req.getRayNamespace(), req.getName())
                .map(a -> GetNamedActorReply.newBuilder().setFound(true).setActor(a).build())
                .orElse(GetNamedActorReply.getDefaultInstance()));
  }

  @Override
  public void listActors(ListActorsRequest req, StreamObserver<ListActorsReply> out) {
    reply(out, () -> ListActorsReply.newBuilder().addAllActors(state.actors()).build());
  }

  @Override
  public void publishLogs(PublishLogsRequest req, StreamObserver<PublishLogsReply> out) {
    reply(
        out,
        () -> {
          List<ServerCallStreamObserver<LogBatch>> subs =
              logSubscribers.get(req.getBatch().getJobId());
          if (subs != null) {
            subs.removeIf(ServerCallStreamObserver::isCancelled);
            for (ServerCallStreamObserver<LogBatch> s : subs) {
              s.onNext(req.getBatch());
            }
          }
          return PublishLogsReply.getDefaultInstance();
        });
  }

  @Override
  public void subscribeLogs(SubscribeLogsRequest req, StreamObserver<LogBatch> out) {
    ServerCallStreamObserver<LogBatch> stream = (ServerCallStreamObserver<LogBatch>) out;
    // A cancelled subscriber is dropped at the next publish; nothing else to release.
    stream.setOnCancelHandler(() -> {});
    loop.execute(
        () -> logSubscribers.computeIfAbsent(req.getJobId(), k -> new ArrayList<>()).add(stream));
  }

  /** Ends every log stream so drivers see a clean end rather than an error. */
  @Override
  public void close() {
    loop.execute(
        () -> {
          for (List<ServerCallStreamObserver<LogBatch>> subs : logSubscribers.values()) {
            for (ServerCallStreamObserver<LogBatch> s : subs) {
              try {
                s.onCompleted();
              } catch (RuntimeException ignored) {
                // already gone
              }
            }
          }
          logSubscribers.clear();
        });
    loop.close();
    nodeChannels.close();
  }
}
