package io.ray.engine.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.ray.engine.rpc.ControlServiceGrpc;
import io.ray.engine.rpc.FinishJobRequest;
import io.ray.engine.rpc.GetAllNodesRequest;
import io.ray.engine.rpc.GetFunctionReply;
import io.ray.engine.rpc.GetFunctionRequest;
import io.ray.engine.rpc.GetJobReply;
import io.ray.engine.rpc.GetJobRequest;
import io.ray.engine.rpc.JobConfig;
import io.ray.engine.rpc.KvDeleteRequest;
import io.ray.engine.rpc.KvGetReply;
import io.ray.engine.rpc.KvGetRequest;
import io.ray.engine.rpc.KvKeysRequest;
import io.ray.engine.rpc.KvPutRequest;
import io.ray.engine.rpc.LogBatch;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.NodeInfo;
import io.ray.engine.rpc.PublishLogsRequest;
import io.ray.engine.rpc.PutFunctionRequest;
import io.ray.engine.rpc.RegisterJobRequest;
import io.ray.engine.rpc.RegisterNodeRequest;
import io.ray.engine.rpc.ReportNodeStateRequest;
import io.ray.engine.rpc.SubscribeLogsRequest;
import io.ray.engine.rpc.UnregisterNodeRequest;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The control service over real gRPC on loopback: a Netty server on an ephemeral port and a
 * plaintext channel, exercised through the generated stubs as a driver or node would.
 */
class ControlServiceITCase {

  private static final long TIMEOUT_S = 5;

  private ControlServiceImpl service;
  private Server server;
  private ManagedChannel channel;
  private ControlServiceGrpc.ControlServiceBlockingStub blocking;
  private ControlServiceGrpc.ControlServiceStub async;

  @BeforeEach
  void start() throws Exception {
    service = new ControlServiceImpl();
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(service)
            .build()
            .start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    blocking = ControlServiceGrpc.newBlockingStub(channel);
    async = ControlServiceGrpc.newStub(channel);
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
      assertTrue(channel.awaitTermination(TIMEOUT_S, TimeUnit.SECONDS), "channel did not stop");
    }
    if (server != null) {
      server.shutdownNow();
      assertTrue(server.awaitTermination(TIMEOUT_S, TimeUnit.SECONDS), "server did not stop");
    }
    if (service != null) {
      service.close();
    }
  }

  /** A blocking stub whose every call fails after the test timeout instead of hanging. */
  private ControlServiceGrpc.ControlServiceBlockingStub rpc() {
    return blocking.withDeadlineAfter(TIMEOUT_S, TimeUnit.SECONDS);
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  // ---------------------------------------------------------------- jobs and functions

  @Test
  void jobsRegisterLookUpAndFinish() {
    JobConfig config =
        JobConfig.newBuilder()
            .addPythonSysPath("/code")
            .setWorkingDir("/w")
            .setRayNamespace("ns")
            .build();
    ByteString first =
        rpc()
            .registerJob(RegisterJobRequest.newBuilder().setDriverPid(11).setConfig(config).build())
            .getJobId();
    ByteString second =
        rpc().registerJob(RegisterJobRequest.newBuilder().setDriverPid(12).build()).getJobId();
    assertEquals(ByteString.copyFrom(new byte[] {1, 0, 0, 0}), first);
    assertEquals(ByteString.copyFrom(new byte[] {2, 0, 0, 0}), second);

    GetJobReply job = rpc().getJob(GetJobRequest.newBuilder().setJobId(first).build());
    assertTrue(job.getFound());
    assertEquals(config, job.getConfig());
    assertFalse(job.getFinished());

    rpc().finishJob(FinishJobRequest.newBuilder().setJobId(first).build());
    assertTrue(rpc().getJob(GetJobRequest.newBuilder().setJobId(first).build()).getFinished());
    assertFalse(rpc().getJob(GetJobRequest.newBuilder().setJobId(second).build()).getFinished());

    GetJobReply unknown =
        rpc()
            .getJob(
                GetJobRequest.newBuilder()
                    .setJobId(ByteString.copyFrom(new byte[] {9, 0, 0, 0}))
                    .build());
    assertFalse(unknown.getFound());
  }

  @Test
  void functionsAreStoredPerJob() {
    ByteString job = rpc().registerJob(RegisterJobRequest.getDefaultInstance()).getJobId();
    ByteString other = rpc().registerJob(RegisterJobRequest.getDefaultInstance()).getJobId();
    ByteString fid = bytes("function-sha1");
    rpc()
        .putFunction(
            PutFunctionRequest.newBuilder()
                .setJobId(job)
                .setFunctionId(fid)
                .setPickled(bytes("pickled"))
                .build());

    GetFunctionReply found =
        rpc().getFunction(GetFunctionRequest.newBuilder().setJobId(job).setFunctionId(fid).build());
    assertTrue(found.getFound());
    assertEquals(bytes("pickled"), found.getPickled());
    assertFalse(
        rpc()
            .getFunction(GetFunctionRequest.newBuilder().setJobId(other).setFunctionId(fid).build())
            .getFound());
    assertFalse(
        rpc()
            .getFunction(
                GetFunctionRequest.newBuilder().setJobId(job).setFunctionId(bytes("nope")).build())
            .getFound());
  }

  // ---------------------------------------------------------------- key-value store

  @Test
  void keyValueCalls() {
    KvPutRequest put =
        KvPutRequest.newBuilder().setNs("ns").setKey(bytes("app/a")).setValue(bytes("1")).build();
    assertTrue(rpc().kvPut(put).getAdded());
    assertFalse(rpc().kvPut(put.toBuilder().setValue(bytes("2")).build()).getAdded());
    KvGetRequest get = KvGetRequest.newBuilder().setNs("ns").setKey(bytes("app/a")).build();
    assertEquals(bytes("1"), rpc().kvGet(get).getValue(), "not overwritten");
    assertFalse(
        rpc().kvPut(put.toBuilder().setValue(bytes("3")).setOverwrite(true).build()).getAdded());
    KvGetReply got = rpc().kvGet(get);
    assertTrue(got.getFound());
    assertEquals(bytes("3"), got.getValue());

    rpc().kvPut(put.toBuilder().setKey(bytes("app/b")).build());
    rpc().kvPut(put.toBuilder().setKey(bytes("other")).build());
    rpc().kvPut(put.toBuilder().setNs("ns2").setKey(bytes("app/c")).build());
    assertEquals(
        List.of(bytes("app/a"), bytes("app/b")),
        rpc()
            .kvKeys(KvKeysRequest.newBuilder().setNs("ns").setPrefix(bytes("app/")).build())
            .getKeysList());

    KvDeleteRequest delete =
        KvDeleteRequest.newBuilder().setNs("ns").setKey(bytes("app/a")).build();
    assertTrue(rpc().kvDelete(delete).getDeleted());
    assertFalse(rpc().kvDelete(delete).getDeleted());
    assertFalse(rpc().kvGet(get).getFound());
  }

  // ---------------------------------------------------------------- nodes

  @Test
  void nodesRegisterReportAndLeave() {
    NodeInfo head =
        NodeInfo.newBuilder()
            .setNodeId(bytes("head"))
            .setNodeIp("127.0.0.1")
            .setNodeManagerPort(7000)
            .setIsHead(true)
            .putTotalResources("CPU", 2)
            .build();
    NodeInfo worker = head.toBuilder().setNodeId(bytes("worker")).setIsHead(false).build();
    rpc().registerNode(RegisterNodeRequest.newBuilder().setNode(head).build());
    rpc().registerNode(RegisterNodeRequest.newBuilder().setNode(worker).build());

    List<NodeInfo> nodes =
        rpc().getAllNodes(GetAllNodesRequest.getDefaultInstance()).getNodesList();
    assertEquals(
        List.of(bytes("head"), bytes("worker")), nodes.stream().map(NodeInfo::getNodeId).toList());
    assertTrue(nodes.get(0).getAlive() && nodes.get(1).getAlive());
    assertTrue(nodes.get(0).getIsHead());
    assertEquals(7000, nodes.get(0).getNodeManagerPort());

    assertTrue(
        rpc()
            .reportNodeState(
                ReportNodeStateRequest.newBuilder()
                    .setNodeId(bytes("worker"))
                    .putAvailableResources("CPU", 1.5)
                    .build())
            .getKnown());
    assertEquals(
        Map.of("CPU", 1.5),
        rpc()
            .getAllNodes(GetAllNodesRequest.getDefaultInstance())
            .getNodes(1)
            .getAvailableResourcesMap());
    assertFalse(
        rpc()
            .reportNodeState(
                ReportNodeStateRequest.newBuilder().setNodeId(bytes("stranger")).build())
            .getKnown());

    rpc().unregisterNode(UnregisterNodeRequest.newBuilder().setNodeId(bytes("worker")).build());
    NodeInfo left = rpc().getAllNodes(GetAllNodesRequest.getDefaultInstance()).getNodes(1);
    assertFalse(left.getAlive());
    assertFalse(
        rpc()
            .reportNodeState(ReportNodeStateRequest.newBuilder().setNodeId(bytes("worker")).build())
            .getKnown(),
        "a node that left must re-register");
  }

  // ---------------------------------------------------------------- log pub/sub

  /** Collects one SubscribeLogs stream. */
  private static final class Subscriber implements StreamObserver<LogBatch> {
    final BlockingQueue<LogBatch> batches = new LinkedBlockingQueue<>();
    final CountDownLatch completed = new CountDownLatch(1);
    final AtomicReference<Throwable> error = new AtomicReference<>();

    @Override
    public void onNext(LogBatch batch) {
      batches.add(batch);
    }

    @Override
    public void onError(Throwable t) {
      error.set(t);
      completed.countDown();
    }

    @Override
    public void onCompleted() {
      completed.countDown();
    }

    /** Lines of all batches received so far. */
    List<String> drainTexts(ByteString expectedJob) {
      List<String> texts = new ArrayList<>();
      for (LogBatch b; (b = batches.poll()) != null; ) {
        assertEquals(expectedJob, b.getJobId(), "a batch of another job was delivered");
        b.getLinesList().forEach(l -> texts.add(l.getText()));
      }
      return texts;
    }
  }

  private void publish(ByteString job, String... lines) {
    LogBatch.Builder batch = LogBatch.newBuilder().setJobId(job).setNodeIp("127.0.0.1");
    for (String line : lines) {
      batch.addLines(LogLine.newBuilder().setText(line).setSource("task").setPid(42));
    }
    rpc().publishLogs(PublishLogsRequest.newBuilder().setBatch(batch).build());
  }

  private static final String MARKER = "\u0000sync-marker-";

  /**
   * Subscribes to {@code job}'s logs and returns once the subscription is live. The service
   * registers subscribers asynchronously and the protocol has no acknowledgement, so marker batches
   * are published until one arrives. Publishing is a blocking call that returns after the service
   * has handed the batch to every registered subscriber, and a stream keeps order, so once marker k
   * arrives every later marker was delivered as well; they are all consumed here, leaving the
   * subscriber's queue empty and in step with the publisher.
   */
  private Subscriber subscribe(ByteString job) throws InterruptedException {
    Subscriber s = new Subscriber();
    async.subscribeLogs(SubscribeLogsRequest.newBuilder().setJobId(job).build(), s);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
    int published = 0;
    LogBatch got = null;
    while (got == null) {
      if (System.nanoTime() > deadline) {
        fail("subscription to job " + job + " never became live");
      }
      publish(job, MARKER + published++);
      got = s.batches.poll(20, TimeUnit.MILLISECONDS); // pacing only; correctness is the loop
    }
    String last = MARKER + (published - 1);
    while (!got.getLines(0).getText().equals(last)) {
      assertTrue(got.getLines(0).getText().startsWith(MARKER), "unexpected batch " + got);
      got = s.batches.poll(TIMEOUT_S, TimeUnit.SECONDS);
      assertNotNull(got, "marker " + last + " was not delivered");
    }
    assertNull(s.batches.peek());
    return s;
  }

  @Test
  void subscribersReceiveExactlyTheirJobsLinesInOrderUntilTheJobFinishes()
      throws InterruptedException {
    ByteString x = rpc().registerJob(RegisterJobRequest.getDefaultInstance()).getJobId();
    ByteString y = rpc().registerJob(RegisterJobRequest.getDefaultInstance()).getJobId();
    Subscriber subX = subscribe(x);
    Subscriber subY = subscribe(y);

    publish(x, "x1", "x2");
    publish(y, "y1");
    publish(x, "x3");
    rpc().finishJob(FinishJobRequest.newBuilder().setJobId(x).build());

    assertTrue(subX.completed.await(TIMEOUT_S, TimeUnit.SECONDS), "FinishJob ends X's stream");
    assertNull(subX.error.get(), "the stream ends cleanly, not with an error");
    // onCompleted follows every batch sent before it, so the queue now holds all of them.
    assertEquals(List.of("x1", "x2", "x3"), subX.drainTexts(x));

    // Y's stream is still open: a new batch reaches it, and only FinishJob(Y) ends it.
    publish(y, "y2");
    rpc().finishJob(FinishJobRequest.newBuilder().setJobId(y).build());
    assertTrue(subY.completed.await(TIMEOUT_S, TimeUnit.SECONDS), "FinishJob ends Y's stream");
    assertNull(subY.error.get());
    assertEquals(List.of("y1", "y2"), subY.drainTexts(y));
  }

  @Test
  void publishingWithoutSubscribersSucceeds() {
    ByteString x = rpc().registerJob(RegisterJobRequest.getDefaultInstance()).getJobId();
    publish(x, "nobody listens");
    publish(ByteString.copyFromUtf8("unregistered job"), "still fine");
  }
}
