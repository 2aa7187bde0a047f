package io.ray.engine.node;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.Ids;
import io.ray.engine.control.ControlServiceImpl;
import io.ray.engine.rpc.ClientOps;
import io.ray.engine.rpc.ControlServiceGrpc;
import io.ray.engine.rpc.GetAllNodesRequest;
import io.ray.engine.rpc.JobConfig;
import io.ray.engine.rpc.KvPutRequest;
import io.ray.engine.rpc.LogBatch;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.NodeMessage;
import io.ray.engine.rpc.PublishLogsRequest;
import io.ray.engine.rpc.RegisterJobRequest;
import io.ray.engine.rpc.SubscribeLogsRequest;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;
import io.ray.engine.rpc.WorkerMessage;
import io.ray.shm.SharedMemoryArena;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A training run for the class-data-sharing archive (`make` runs it once with
 * -XX:ArchiveClassesAtExit). It loads what node and worker JVMs load at start-up — gRPC server and
 * client over Netty, our protobuf messages, Chronicle's mapping, Jep's classes — so that those JVMs
 * map the classes from the archive instead of loading and verifying them: about a third less
 * start-up time and half the CPU, which counts when several workers start at once.
 */
public final class CdsTraining {
  private CdsTraining() {}

  public static void main(String[] args) throws Exception {
    ControlServiceImpl control = new ControlServiceImpl();
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .directExecutor()
            .addService(control)
            .build()
            .start();
    ManagedChannel channel =
        NettyChannelBuilder.forTarget("127.0.0.1:" + server.getPort())
            .usePlaintext()
            .directExecutor()
            .build();
    try {
      ControlServiceGrpc.ControlServiceBlockingStub stub =
          ControlServiceGrpc.newBlockingStub(channel);
      var job =
          stub.registerJob(
              RegisterJobRequest.newBuilder()
                  .setConfig(JobConfig.newBuilder().addPythonSysPath("/"))
                  .build());
      stub.getAllNodes(GetAllNodesRequest.getDefaultInstance());
      stub.kvPut(KvPutRequest.newBuilder().setNs("cds").build());
      CountDownLatch got = new CountDownLatch(1);
      ControlServiceGrpc.newStub(channel)
          .subscribeLogs(
              SubscribeLogsRequest.newBuilder().setJobId(job.getJobId()).build(),
              new StreamObserver<LogBatch>() {
                @Override
                public void onNext(LogBatch batch) {
                  got.countDown();
                }

                @Override
                public void onError(Throwable t) {
                  got.countDown();
                }

                @Override
                public void onCompleted() {
                  got.countDown();
                }
              });
      for (int i = 0; i < 50 && got.getCount() > 0; i++) {
        stub.publishLogs(
            PublishLogsRequest.newBuilder()
                .setBatch(
                    LogBatch.newBuilder()
                        .setJobId(job.getJobId())
                        .addLines(LogLine.newBuilder().setText("cds")))
                .build());
        got.await(20, TimeUnit.MILLISECONDS);
      }
      // The messages workers exchange with their node.
      WorkerMessage.parseFrom(
          WorkerMessage.newBuilder()
              .setTaskFinished(TaskFinished.newBuilder().setTaskId(Ids.random(24)))
              .setOps(ClientOps.newBuilder().setSeq(1))
              .build()
              .toByteArray());
      NodeMessage.parseFrom(
          NodeMessage.newBuilder().setExecute(TaskSpec.getDefaultInstance()).build().toByteArray());
      Class.forName("jep.SharedInterpreter", false, CdsTraining.class.getClassLoader());
      Class.forName("jep.MainInterpreter", false, CdsTraining.class.getClassLoader());
      Path dir = Files.createTempDirectory("ray-cds");
      try (SharedMemoryArena arena = SharedMemoryArena.create(dir.resolve("arena"), 1 << 20)) {
        arena.seal(arena.create(new byte[28], 8, 0));
      }
      Files.deleteIfExists(dir);
    } finally {
      channel.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      control.close();
    }
  }
}
