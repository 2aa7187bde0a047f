package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.*;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node manager's connection to the control service. Calls are asynchronous; callbacks run on gRPC
 * threads and must hop to the caller's loop themselves.
 */
public final class ControlClient implements ControlGateway, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ControlClient.class);
  private static final long DEADLINE_S = 30;

  private final String address;
  private final ManagedChannel channel;
  private final ControlServiceGrpc.ControlServiceStub async;
  private final ControlServiceGrpc.ControlServiceBlockingStub blocking;

  /** Resource reports are coalesced: at most one in flight, the latest value wins. */
  private volatile long lastReportOkMs = System.currentTimeMillis();

  private volatile boolean disowned;
  private volatile boolean knownOnce;
  private final AtomicReference<ReportNodeStateRequest> pendingReport = new AtomicReference<>();

  private final AtomicBoolean reportInFlight = new AtomicBoolean();

  private volatile Consumer<ReportNodeStateReply> viewListener = r -> {};

  @Override
  public void onClusterView(Consumer<ReportNodeStateReply> listener) {
    viewListener = listener;
  }

  public ControlClient(String address, ManagedChannel channel) {
    this.address = address;
    this.channel = channel;
    this.async = ControlServiceGrpc.newStub(channel);
    this.blocking = ControlServiceGrpc.newBlockingStub(channel);
  }

  @Override
  public String address() {
    return address;
  }

  public void registerNode(NodeInfo node) {
    blocking
        .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
        .registerNode(RegisterNodeRequest.newBuilder().setNode(node).build());
  }

  public void unregisterNode(ByteString nodeId) {
    try {
      blocking
          .withDeadlineAfter(2, TimeUnit.SECONDS)
          .unregisterNode(UnregisterNodeRequest.newBuilder().setNodeId(nodeId).build());
    } catch (RuntimeException e) {
      LOG.debug("unregister: {}", e.toString());
    }
  }

  /** Fetches a job; {@code done} receives null when the call fails. */
  @Override
  public void getJob(ByteString jobId, Consumer<GetJobReply> done) {
    async
        .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
        .getJob(GetJobRequest.newBuilder().setJobId(jobId).build(), new Unary<>(done));
  }

  @Override
  public void finishJob(ByteString jobId) {
    async
        .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
        .finishJob(FinishJobRequest.newBuilder().setJobId(jobId).build(), new Unary<>(r -> {}));
  }

  @Override
  public void publishLogs(LogBatch batch, Runnable done) {
    async
        .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
        .publishLogs(
            PublishLogsRequest.newBuilder().setBatch(batch).build(), new Unary<>(r -> done.run()));
  }

  /** Actor state reports go out one at a time, in order (a later state must not overtake). */
  private final java.util.ArrayDeque<ActorInfo> actorReports = new java.util.ArrayDeque<>();

  private boolean actorReportInFlight;

  /** Tells the control service about an actor's state. Thread-safe; order is kept. */
  @Override
  public void reportActor(ActorInfo actor) {
    synchronized (actorReports) {
      actorReports.add(actor);
      if (actorReportInFlight) {
        return;
      }
      actorReportInFlight = true;
    }
    sendNextActorReport();
  }

  private void sendNextActorReport() {
    ActorInfo next;
    synchronized (actorReports) {
      next = actorReports.poll();
      if (next == null) {
        actorReportInFlight = false;
        return;
      }
    }
    async
        .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
        .reportActorState(
            ReportActorStateRequest.newBuilder().setActor(next).build(),
            new Unary<>(r -> sendNextActorReport()));
  }

  /** Reports free resources; calls made while one is in flight collapse into the latest. */
  @Override
  public void reportResources(
      ByteString nodeId,
      Map<String, Double> total,
      Map<String, Double> available,
      Map<String, Double> queued,
      List<ResourceDemand> demands) {
    pendingReport.set(
        ReportNodeStateRequest.newBuilder()
            .setNodeId(nodeId)
            .putAllTotalResources(total)
            .putAllAvailableResources(available)
            .putAllQueuedDemand(queued)
            .addAllPendingDemands(demands)
            .build());
    sendReport();
  }

  /** When the control service last answered a report (the client's creation before that). */
  public long lastReportOkMs() {
    return lastReportOkMs;
  }

  /** Whether the control service answered that it does not know this node (declared it dead). */
  public boolean disowned() {
    return disowned;
  }

  private void sendReport() {
    if (!reportInFlight.compareAndSet(false, true)) {
      return;
    }
    ReportNodeStateRequest req = pendingReport.getAndSet(null);
    if (req == null) {
      reportInFlight.set(false);
      return;
    }
    async
        .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
        .reportNodeState(
            req,
            new Unary<>(
                r -> {
                  if (r != null) {
                    lastReportOkMs = System.currentTimeMillis();
                    // Disowned only after it knew the node (a report may overtake registration).
                    disowned |= knownOnce && !r.getKnown();
                    knownOnce |= r.getKnown();
                    viewListener.accept(r);
                  }
                  reportInFlight.set(false);
                  if (pendingReport.get() != null) {
                    sendReport();
                  }
                }));
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Adapts a unary response to a callback; failures are logged and reported as null. */
  private static final class Unary<T> implements StreamObserver<T> {
    private final Consumer<T> done;
    private T value;

    Unary(Consumer<T> done) {
      this.done = done;
    }

    @Override
    public void onNext(T v) {
      value = v;
    }

    @Override
    public void onError(Throwable t) {
      LOG.debug("control service call failed: {}", t.toString());
      done.accept(null);
    }

    @Override
    public void onCompleted() {
      done.accept(value);
    }
  }
}
