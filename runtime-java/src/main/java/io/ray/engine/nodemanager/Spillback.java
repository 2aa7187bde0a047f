package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.PeerChannels;
import io.ray.engine.rpc.EndForwardedActorRequest;
import io.ray.engine.rpc.ForwardTaskReply;
import io.ray.engine.rpc.ForwardTaskRequest;
import io.ray.engine.rpc.JobStartedRequest;
import io.ray.engine.rpc.NodeManagerServiceGrpc;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.ReleaseObjectsRequest;
import io.ray.engine.rpc.TaskSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The sending half of spillback: hands a task this node has no room for to a peer node ({@code
 * ForwardTask}) and reports how it ended. A call lasts as long as the task runs there, and
 * cancelling it cancels the task there.
 *
 * <p>Threading: called on the node manager's loop; gRPC's callbacks hop back to it, so outcomes run
 * on the loop too.
 */
final class Spillback {
  /** How a forwarded task ended. Called on the loop. */
  interface Outcome {
    /** The peer answered: the task's returns, or a refusal ({@code rejected} set). */
    void answered(ForwardTaskReply reply);

    /** The call failed: the peer is unreachable or died, or the call was cancelled here. */
    void failed(Status status);
  }

  private final EventLoop loop;
  private final ByteString self;
  private final PeerChannels channels;

  /** Calls in flight, by task id, for cancellation. */
  private final Map<ByteString, ClientCallStreamObserver<ForwardTaskRequest>> calls =
      new HashMap<>();

  Spillback(EventLoop loop, ByteString self, PeerChannels channels) {
    this.loop = loop;
    this.self = self;
    this.channels = channels;
  }

  /**
   * Sends {@code spec} (its arguments all by value) to the peer at {@code address}, with the
   * objects its arguments hold refs to.
   */
  void forward(String address, TaskSpec spec, List<ObjectValue> nested, Outcome outcome) {
    ByteString taskId = spec.getTaskId();
    ForwardTaskRequest request =
        ForwardTaskRequest.newBuilder()
            .setSpec(spec)
            .setFromNodeId(self)
            .addAllNested(nested)
            .build();
    NodeManagerServiceGrpc.newStub(channels.get(address))
        .forwardTask(
            request,
            new ClientResponseObserver<ForwardTaskRequest, ForwardTaskReply>() {
              private ForwardTaskReply reply;

              @Override
              public void beforeStart(ClientCallStreamObserver<ForwardTaskRequest> call) {
                // Runs on this (the loop's) thread, inside forwardTask().
                calls.put(taskId, call);
              }

              @Override
              public void onNext(ForwardTaskReply value) {
                reply = value;
              }

              @Override
              public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                loop.execute(
                    () -> {
                      calls.remove(taskId);
                      outcome.failed(status);
                    });
              }

              @Override
              public void onCompleted() {
                ForwardTaskReply r = reply;
                loop.execute(
                    () -> {
                      calls.remove(taskId);
                      outcome.answered(r);
                    });
              }
            });
  }

  /** Tells a peer to end an actor it hosts for this node (fire and forget: a lost node took it). */
  void endActor(String address, EndForwardedActorRequest request) {
    NodeManagerServiceGrpc.newStub(channels.get(address)).endForwardedActor(request, ignored());
  }

  /** Tells a peer it need not keep objects for this node any more (fire and forget, as above). */
  void releaseObjects(String address, List<ByteString> ids) {
    NodeManagerServiceGrpc.newStub(channels.get(address))
        .releaseObjects(
            ReleaseObjectsRequest.newBuilder().setNodeId(self).addAllObjectIds(ids).build(),
            ignored());
  }

  /** Tells a peer a job started here (fire and forget: the heartbeat tells it anyway). */
  void jobStarted(String address, ByteString jobId) {
    NodeManagerServiceGrpc.newStub(channels.get(address))
        .jobStarted(JobStartedRequest.newBuilder().setJobId(jobId).build(), ignored());
  }

  private static <T> io.grpc.stub.StreamObserver<T> ignored() {
    return new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(T value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  /** Cancels the call that forwarded the task (and so the task at the peer); no-op if none. */
  void cancel(ByteString taskId, String why) {
    ClientCallStreamObserver<ForwardTaskRequest> call = calls.get(taskId);
    if (call != null) {
      call.cancel(why, null);
    }
  }
}
