package io.ray.runtime.worker;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.rpc.ControlServiceGrpc;
import io.ray.engine.rpc.ExitWorker;
import io.ray.engine.rpc.NodeManagerServiceGrpc;
import io.ray.engine.rpc.NodeMessage;
import io.ray.engine.rpc.WorkerChannelServiceGrpc;
import io.ray.engine.rpc.WorkerHello;
import io.ray.engine.rpc.WorkerMessage;
import io.ray.engine.rpc.WorkerSetup;
import io.ray.engine.worker.WorkerProcess;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * A Java worker process: a plain JVM (no CPython) that runs a job's Java tasks. It opens its
 * channel to the node manager (gRPC), introduces itself, takes its setup (arena, job, code search
 * path) and then runs the tasks the node sends, one at a time, on its main thread ({@link
 * JavaTaskRunner}).
 *
 * <p>Callers also push calls to it directly ({@link PushServer}): they run as they arrive, one at a
 * time with the node's tasks, and are answered to the caller.
 *
 * <p>Threading: gRPC's thread only queues what the node sends; the main thread runs the node's
 * tasks, the push server's thread the calls pushed to it, one at a time under the runner's lock (an
 * actor with maxConcurrency > 1 runs its calls on a pool instead); sends on the channel are
 * serialized by {@link WorkerChannel}. The process exits when the node says so, when the channel
 * closes, or when the node's process dies.
 */
public final class JavaWorkerMain {
  private JavaWorkerMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = WorkerProcess.flags(args);
    WorkerProcess.dieWithNode(Long.parseLong(a.get("node-pid")));
    int code = 0;
    try {
      run(a);
    } catch (Throwable t) {
      System.err.println("Java worker failed: " + t);
      t.printStackTrace();
      code = 1;
    }
    Runtime.getRuntime().halt(code);
  }

  private static void run(Map<String, String> a) throws Exception {
    ClusterToken token = ClusterToken.fromEnvironment();
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(a.get("node-manager"))
            .usePlaintext()
            .maxInboundMessageSize(Integer.MAX_VALUE)
            .intercept(token.clientInterceptor())
            .build();
    // What the worker runs, in arrival order: the node's messages and callers' pushes.
    LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    CompletableFuture<WorkerSetup> setup = new CompletableFuture<>();
    CompletableFuture<JavaTaskRunner> runnerReady = new CompletableFuture<>();
    NodeMessage end = NodeMessage.getDefaultInstance();
    StreamObserver<WorkerMessage> out =
        WorkerChannelServiceGrpc.newStub(channel)
            .attach(
                new StreamObserver<>() {
                  @Override
                  public void onNext(NodeMessage m) {
                    if (m.hasSetup()) {
                      setup.complete(m.getSetup());
                    } else if (m.hasCancel()) {
                      // At once, not behind the task it cancels.
                      runnerReady.thenAccept(r -> r.cancel(m.getCancel().getTaskId()));
                    } else {
                      inbox.add(m);
                    }
                  }

                  @Override
                  public void onError(Throwable t) {
                    setup.completeExceptionally(t);
                    inbox.add(end);
                  }

                  @Override
                  public void onCompleted() {
                    setup.completeExceptionally(new IllegalStateException("channel closed"));
                    inbox.add(end);
                  }
                });
    WorkerChannel link = new WorkerChannel(out);
    ByteString workerId = ByteString.copyFrom(HexFormat.of().parseHex(a.get("worker-id")));
    // Callers reach this worker where they reach its node.
    String host = a.get("node-manager").substring(0, a.get("node-manager").lastIndexOf(':'));
    // Pushed calls run on the push server's own thread as they arrive (no hand-off to the main
    // thread and back), under the runner's lock, once the runner exists; until then they queue.
    NodeMessage stop = NodeMessage.newBuilder().setExit(ExitWorker.getDefaultInstance()).build();
    PushServer pushes =
        new PushServer(
            host,
            token,
            p -> {
              JavaTaskRunner r = runnerReady.getNow(null);
              if (r == null) {
                inbox.add(p);
              } else if (!r.runConcurrently(p)) {
                r.runPush(p);
                if (r.exiting()) {
                  inbox.add(stop); // the actor ended: the worker stops taking calls
                }
              }
            });
    link.send(
        WorkerMessage.newBuilder()
            .setHello(
                WorkerHello.newBuilder()
                    .setWorkerId(workerId)
                    .setPid((int) ProcessHandle.current().pid())
                    .setDirectAddress(pushes.address))
            .build());
    WorkerSetup ready = setup.get();
    ManagedChannel control =
        ready.getControlAddress().equals(a.get("node-manager"))
            ? channel
            : NettyChannelBuilder.forTarget(ready.getControlAddress())
                .usePlaintext()
                .intercept(token.clientInterceptor())
                .build();
    JavaTaskRunner runner =
        new JavaTaskRunner(
            ready,
            workerId,
            link,
            NodeManagerServiceGrpc.newBlockingStub(channel),
            ControlServiceGrpc.newBlockingStub(control),
            token);
    runnerReady.complete(runner);
    try {
      while (true) {
        Object item = inbox.take();
        if (item instanceof PushServer.Pushed p) {
          if (!runner.runConcurrently(p)) {
            runner.runPush(p); // pushed before the runner was ready
          }
          if (runner.exiting()) {
            break;
          }
          continue;
        }
        NodeMessage m = (NodeMessage) item;
        if (m == end || m.hasExit()) {
          break;
        }
        if (m.hasExecute()) {
          if (!runner.runConcurrently(m.getExecute())) {
            runner.run(m.getExecute());
          }
          if (runner.exiting()) {
            break;
          }
        }
      }
    } finally {
      pushes.close(); // callers fail over what they pushed and this worker will not run
      runner.close();
      link.close();
      channel.shutdownNow();
    }
  }
}
