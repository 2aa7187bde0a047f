package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ActorInfo;
import io.ray.engine.rpc.GetJobReply;
import io.ray.engine.rpc.LogBatch;
import io.ray.engine.rpc.ReportNodeStateReply;
import io.ray.engine.rpc.ResourceDemand;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What a node manager asks of the control service. {@link ControlClient} speaks gRPC; tests use a
 * hand-written fake. Every method returns at once; answers come through callbacks, on any thread.
 */
public interface ControlGateway {
  /** host:port of the control service, for workers to reach it. */
  String address();

  /** The job's registration; {@code done} gets null if the call failed. */
  void getJob(ByteString jobId, Consumer<GetJobReply> done);

  void finishJob(ByteString jobId);

  /** Publishes a job's output lines; {@code done} runs when the call has completed either way. */
  void publishLogs(LogBatch batch, Runnable done);

  /** Reports an actor's new state; reports reach the service in call order. */
  void reportActor(ActorInfo actor);

  /**
   * Reports the node's free resources (the latest report wins); the answer, the rest of the cluster
   * as the control service sees it, goes to the {@link #onClusterView} listener.
   */
  void reportResources(
      ByteString nodeId,
      Map<String, Double> total,
      Map<String, Double> available,
      Map<String, Double> queued,
      List<ResourceDemand> demands);

  /** Where answers to resource reports go (on any thread). */
  default void onClusterView(Consumer<ReportNodeStateReply> listener) {}
}
