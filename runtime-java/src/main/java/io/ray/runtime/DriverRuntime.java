package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.ray.api.runtimecontext.RuntimeContext;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.AttachDriverRequest;
import io.ray.engine.rpc.ControlServiceGrpc;
import io.ray.engine.rpc.DriverEvent;
import io.ray.engine.rpc.DriverMessage;
import io.ray.engine.rpc.GetAllNodesRequest;
import io.ray.engine.rpc.JobConfig;
import io.ray.engine.rpc.LogBatch;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.NodeInfo;
import io.ray.engine.rpc.NodeManagerServiceGrpc;
import io.ray.engine.rpc.NodeWelcome;
import io.ray.engine.rpc.RegisterJobRequest;
import io.ray.engine.rpc.SubscribeLogsRequest;
import io.ray.runtime.serialization.JavaCodec;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A Java driver: {@code Ray.init()} in a user's JVM. It joins a running cluster ({@code
 * -Dray.address}) or starts a head node of its own ({@link EmbeddedNode}), registers the job (with
 * its code search path), attaches to its node (the session stream that carries its changes), prints
 * its workers' output as {@code (name pid=N) line}, and undoes all of it at {@link #shutdown}
 * (which Ray's facade also calls at JVM exit). Thread-safe.
 */
final class DriverRuntime extends JavaRuntime {
  private final ManagedChannel nodeChannel;
  private final ManagedChannel controlChannel;
  private final StreamObserver<DriverMessage> session;
  private final CompletableFuture<Void> sessionEnded;
  private final EmbeddedNode embedded;
  private boolean stopped;

  private DriverRuntime(
      ClientCore core,
      ManagedChannel nodeChannel,
      ManagedChannel controlChannel,
      StreamObserver<DriverMessage> session,
      CompletableFuture<Void> sessionEnded,
      EmbeddedNode embedded,
      ByteString nodeId,
      String namespace) {
    super(core, nodeId, namespace, ControlServiceGrpc.newBlockingStub(controlChannel));
    this.nodeChannel = nodeChannel;
    this.controlChannel = controlChannel;
    this.session = session;
    this.sessionEnded = sessionEnded;
    this.embedded = embedded;
  }

  static DriverRuntime connect(DriverConfig config) {
    EmbeddedNode embedded = null;
    ClusterToken token;
    String control;
    String nodeManager;
    if (config.address() == null) {
      String secret = HexFormat.of().formatHex(Ids.random(16).toByteArray());
      embedded = EmbeddedNode.start(null, secret);
      token = ClusterToken.of(secret);
      control = embedded.controlAddress();
      nodeManager = embedded.nodeManagerAddress();
    } else {
      control = config.address();
      token = findToken(control);
      nodeManager = null;
    }
    ManagedChannel controlChannel = channel(control, token);
    try {
      var controlStub = ControlServiceGrpc.newBlockingStub(controlChannel);
      if (nodeManager == null) {
        nodeManager = localNodeManager(controlStub, control);
      }
      ManagedChannel nodeChannel =
          nodeManager.equals(control) ? controlChannel : channel(nodeManager, token);
      ByteString jobId =
          controlStub
              .registerJob(
                  RegisterJobRequest.newBuilder()
                      .setDriverPid((int) ProcessHandle.current().pid())
                      .setDriverIp("127.0.0.1")
                      .setConfig(
                          JobConfig.newBuilder()
                              .addAllCodeSearchPath(config.codeSearchPath())
                              .setRayNamespace(config.namespace())
                              .setWorkingDir(System.getProperty("user.dir"))
                              .setDriverLanguage(io.ray.engine.rpc.Language.JAVA))
                      .build())
              .getJobId();
      ByteString clientId = Ids.random(Ids.UNIQUE_ID_SIZE);
      CompletableFuture<NodeWelcome> welcome = new CompletableFuture<>();
      CompletableFuture<Void> ended = new CompletableFuture<>();
      StreamObserver<DriverMessage> session =
          NodeManagerServiceGrpc.newStub(nodeChannel)
              .attachDriver(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(DriverEvent e) {
                      if (e.hasWelcome()) {
                        welcome.complete(e.getWelcome());
                      }
                    }

                    @Override
                    public void onError(Throwable t) {
                      welcome.completeExceptionally(t);
                      ended.complete(null);
                    }

                    @Override
                    public void onCompleted() {
                      ended.complete(null);
                    }
                  });
      session.onNext(
          DriverMessage.newBuilder()
              .setAttach(
                  AttachDriverRequest.newBuilder()
                      .setClientId(clientId)
                      .setJobId(jobId)
                      .setPid((int) ProcessHandle.current().pid())
                      // As a Python driver: Ray.init() returns once the job's first workers are
                      // up, so the first tasks do not wait for worker JVMs to start.
                      .setWaitForWorkers(true))
              .build());
      NodeWelcome w = welcome.get(60, TimeUnit.SECONDS);
      ClientCore core =
          new ClientCore(
              clientId,
              jobId,
              w.getMaxInlineBytes(),
              new JavaCodec(Thread.currentThread().getContextClassLoader()),
              NodeManagerServiceGrpc.newBlockingStub(nodeChannel),
              new ArenaView(w.getArenaPath()),
              ops -> session.onNext(DriverMessage.newBuilder().setOps(ops).build()));
      core.enableDirectCalls(token);
      printLogs(controlChannel, jobId, w.getNodeIp());
      String namespace =
          config.namespace().isEmpty() ? "anonymous-" + Ids.hex(jobId) : config.namespace();
      return new DriverRuntime(
          core, nodeChannel, controlChannel, session, ended, embedded, w.getNodeId(), namespace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while connecting to Ray", e);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      controlChannel.shutdownNow();
      if (embedded != null) {
        embedded.stop();
      }
      throw new IllegalStateException(
          "Could not connect to the Ray cluster at " + control + ": " + e, e);
    }
  }

  /**
   * The token to present to the cluster at {@code address}, as a Python driver finds it:
   * RAY_AUTH_TOKEN, else the one a cluster started on this machine left for that address, else the
   * one {@code ray start} left; none with RAY_AUTH_MODE=disabled.
   */
  private static ClusterToken findToken(String address) {
    String mode = System.getenv("RAY_AUTH_MODE");
    if (mode != null && mode.trim().equalsIgnoreCase("disabled")) {
      return ClusterToken.of(null);
    }
    String env = System.getenv("RAY_AUTH_TOKEN");
    if (env != null && !env.isBlank()) {
      return ClusterToken.of(env.trim());
    }
    java.nio.file.Path root =
        java.nio.file.Path.of(System.getenv().getOrDefault("RAY_TMPDIR", "/tmp/ray"));
    for (java.nio.file.Path p :
        new java.nio.file.Path[] {
          root.resolve("auth_tokens").resolve(address.replace(":", "_").replace("/", "_")),
          root.resolve("ray_auth_token")
        }) {
      try {
        String found = java.nio.file.Files.readString(p).trim();
        if (!found.isEmpty()) {
          return ClusterToken.of(found);
        }
      } catch (java.io.IOException e) {
        // Not there: try the next place.
      }
    }
    return ClusterToken.of(null);
  }

  private static ManagedChannel channel(String address, ClusterToken token) {
    return NettyChannelBuilder.forTarget(address)
        .usePlaintext()
        .maxInboundMessageSize(Integer.MAX_VALUE)
        .intercept(token.clientInterceptor())
        .build();
  }

  /** The node manager on this machine, from the control service's node table. */
  private static String localNodeManager(
      ControlServiceGrpc.ControlServiceBlockingStub control, String address) {
    for (NodeInfo n : control.getAllNodes(GetAllNodesRequest.getDefaultInstance()).getNodesList()) {
      if (n.getAlive() && (n.getNodeIp().equals("127.0.0.1") || n.getIsHead())) {
        return n.getNodeIp() + ":" + n.getNodeManagerPort();
      }
    }
    throw new IllegalStateException(
        "The Ray cluster at " + address + " has no node on this machine");
  }

  /** Prints the job's worker output as it comes: {@code (name pid=N) line}. */
  private static void printLogs(ManagedChannel control, ByteString jobId, String driverIp) {
    ControlServiceGrpc.newStub(control)
        .subscribeLogs(
            SubscribeLogsRequest.newBuilder().setJobId(jobId).build(),
            new StreamObserver<>() {
              @Override
              public void onNext(LogBatch batch) {
                for (LogLine line : batch.getLinesList()) {
                  (line.getIsErr() ? System.err : System.out)
                      .println(format(line, batch.getNodeIp(), driverIp));
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
  }

  static String format(LogLine line, String nodeIp, String driverIp) {
    if (line.getPid() == 0) {
      return line.getText();
    }
    String where = "pid=" + line.getPid();
    if (!nodeIp.isEmpty() && !nodeIp.equals(driverIp)) {
      where += ", ip=" + nodeIp;
    }
    String prefix =
        line.getSource().isEmpty() ? "(" + where + ")" : "(" + line.getSource() + " " + where + ")";
    return prefix + " " + line.getText();
  }

  @Override
  public RuntimeContext getRuntimeContext() {
    return new RuntimeContextImpl(core.jobId, nodeId, ByteString.EMPTY, namespace);
  }

  @Override
  public synchronized void shutdown() {
    if (stopped) {
      return;
    }
    stopped = true;
    core.close();
    session.onCompleted();
    try {
      sessionEnded.get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // The node notices a driver that is gone either way.
    }
    nodeChannel.shutdownNow();
    controlChannel.shutdownNow();
    if (embedded != null) {
      embedded.stop();
    }
  }
}
