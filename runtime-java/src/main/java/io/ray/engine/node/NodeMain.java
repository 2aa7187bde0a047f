package io.ray.engine.node;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.util.MutableHandlerRegistry;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.control.ControlServiceImpl;
import io.ray.engine.nodemanager.ControlClient;
import io.ray.engine.nodemanager.NodeConfig;
import io.ray.engine.nodemanager.NodeManager;
import io.ray.engine.nodemanager.NodeManagerService;
import io.ray.engine.nodemanager.WorkerChannelService;
import io.ray.engine.nodemanager.workers.JvmWorkerLauncher;
import io.ray.engine.rpc.NodeInfo;
import io.ray.shm.ArenaFiles;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node process: the node manager, plus the control service on the head node. Started by {@code
 * ray.init()} (embedded, tied to its driver through {@code --parent-pid}) and by {@code ray start}.
 * When ready it prints one line, {@code RAY_NODE_READY {json}}, to stdout.
 */
public final class NodeMain {
  private static final Logger LOG = LoggerFactory.getLogger(NodeMain.class);

  /** gRPC messages may carry many inline objects at once. */
  public static final int MAX_MESSAGE_BYTES = 512 << 20;

  public static final long DEFAULT_MAX_INLINE_BYTES = 100 * 1024;

  private final NodeOptions options;
  private Server controlServer;
  private ControlServiceImpl controlService;
  private Server nodeServer;
  private EventLoopGroup nodeGroup;
  private NodeManager nodeManager;
  private ControlClient controlClient;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean stopping;

  NodeMain(NodeOptions options) {
    this.options = options;
  }

  /**
   * A node that joined a cluster stops itself, as Ray's raylet does, once the head is gone: when
   * the control service has not answered its reports for {@code
   * RAY_gcs_rpc_server_reconnect_timeout_s} seconds (60 by default, Ray's name and default), or
   * answers that it declared this node dead. Nothing of it is left behind (workers, arena file).
   */
  private void watchHead() {
    long timeoutMs = reconnectTimeoutMs();
    Thread watchdog =
        new Thread(
            () -> {
              while (true) {
                try {
                  Thread.sleep(1000);
                } catch (InterruptedException e) {
                  return;
                }
                long silentMs = System.currentTimeMillis() - controlClient.lastReportOkMs();
                if (controlClient.disowned() || silentMs > timeoutMs) {
                  LOG.error(
                      controlClient.disowned()
                          ? "the control service declared this node dead; stopping"
                          : "the control service (head node) has not answered for {} s; stopping",
                      silentMs / 1000);
                  stop();
                  System.exit(1);
                }
              }
            },
            "head-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
  }

  private static long reconnectTimeoutMs() {
    String s = System.getenv("RAY_gcs_rpc_server_reconnect_timeout_s");
    try {
      return s == null ? 60_000 : (long) (Double.parseDouble(s) * 1000);
    } catch (NumberFormatException e) {
      return 60_000;
    }
  }

  public static void main(String[] args) throws Exception {
    NodeOptions options;
    try {
      options = NodeOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
      return;
    }
    // stdout carries only the ready line; everything else goes to stderr (the log file).
    PrintStream ready = System.out;
    System.setOut(System.err);
    NodeMain node = new NodeMain(options);
    Runtime.getRuntime().addShutdownHook(new Thread(node::stop, "node-shutdown"));
    try {
      String json = node.start();
      ready.println("RAY_NODE_READY " + json);
      ready.flush();
    } catch (Throwable t) {
      LOG.error("node failed to start", t);
      // Whatever it made (its arena file, its workers, its ports) goes with it: a node refused
      // by the cluster (a wrong token) leaves nothing behind.
      try {
        node.stop();
      } catch (Throwable cleanup) {
        LOG.warn("cleaning up after a failed start: {}", cleanup.toString());
      }
      System.err.flush();
      Runtime.getRuntime().halt(1);
    }
    node.stopped.await();
  }

  String start() throws IOException {
    Path sessionDir = options.sessionDir();
    Files.createDirectories(sessionDir.resolve("logs"));
    Path shmDir = ArenaFiles.defaultDirectory();
    for (Path stale : ArenaFiles.sweepStale(shmDir)) {
      LOG.info("removed arena {} left by a dead node", stale);
    }
    String ip = options.nodeIp();
    ClusterToken token = ClusterToken.fromEnvironment();
    if (!token.enabled()) {
      LOG.warn("token authentication is off (RAY_AUTH_MODE=disabled, or no RAY_AUTH_TOKEN)");
    }

    String controlAddress;
    if (options.head()) {
      controlService = new ControlServiceImpl();
      controlServer =
          NettyServerBuilder.forAddress(new InetSocketAddress(ip, options.controlPort()))
              .maxInboundMessageSize(MAX_MESSAGE_BYTES)
              // Handlers only post to the service's loop: run them on the I/O thread, no hop.
              .directExecutor()
              .intercept(token.serverInterceptor())
              .addService(controlService)
              .build()
              .start();
      controlAddress = ip + ":" + controlServer.getPort();
      LOG.info("control service listening on {}", controlAddress);
    } else {
      controlAddress = options.controlAddress();
    }
    ManagedChannel controlChannel =
        NettyChannelBuilder.forTarget(controlAddress)
            .usePlaintext()
            .directExecutor()
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .intercept(token.clientInterceptor())
            .build();
    controlClient = new ControlClient(controlAddress, controlChannel);

    // The node manager's port must be known before the node manager exists (workers are told
    // where to connect), so the server starts with an empty registry that is filled in after.
    // Its one I/O thread is also the node manager's loop: requests are handled where they are
    // read and answers written where they are made, with no thread hop either way.
    MutableHandlerRegistry registry = new MutableHandlerRegistry();
    nodeGroup = IoGroups.singleThreaded("node-manager");
    nodeServer =
        NettyServerBuilder.forAddress(new InetSocketAddress(ip, options.nodeManagerPort()))
            .bossEventLoopGroup(nodeGroup)
            .workerEventLoopGroup(nodeGroup)
            .channelType(IoGroups.serverChannelType())
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .directExecutor()
            .intercept(token.serverInterceptor())
            .fallbackHandlerRegistry(registry)
            .build()
            .start();
    String nodeManagerAddress = ip + ":" + nodeServer.getPort();

    ByteString nodeId = Ids.random(Ids.UNIQUE_ID_SIZE);
    long arenaBytes =
        options.objectStoreMemory() > 0
            ? options.objectStoreMemory()
            : defaultObjectStoreBytes(shmDir);
    ResourceSet total = ResourceSet.of(totalResources(ip, arenaBytes));
    NodeConfig config =
        new NodeConfig(
            nodeId,
            ip,
            options.head(),
            total,
            ArenaFiles.arenaPath(shmDir, ProcessHandle.current().pid(), Ids.shortHex(nodeId)),
            arenaBytes,
            DEFAULT_MAX_INLINE_BYTES,
            sessionDir,
            options.pythonConfig(),
            60_000,
            nodeManagerAddress);
    // On the head the node manager's port serves the control service too, so that its workers
    // reach both over one connection (each connection costs a new worker JVM ~0.1 s of CPU).
    if (options.head()) {
      registry.addService(controlService);
    }
    String workersControlAddress = options.head() ? nodeManagerAddress : controlAddress;
    JvmWorkerLauncher launcher =
        new JvmWorkerLauncher(
            nodeManagerAddress,
            workersControlAddress,
            options.pythonConfig(),
            sessionDir.resolve("logs"));
    nodeManager = new NodeManager(config, EventLoop.on(nodeGroup.next()), launcher, controlClient);
    registry.addService(new NodeManagerService(nodeManager));
    registry.addService(new WorkerChannelService(nodeManager));

    controlClient.registerNode(
        NodeInfo.newBuilder()
            .setNodeId(nodeId)
            .setNodeIp(ip)
            .setNodeManagerPort(nodeServer.getPort())
            .putAllTotalResources(total.toMap())
            .putAllAvailableResources(total.toMap())
            .setIsHead(options.head())
            .setArenaPath(config.arenaPath().toString())
            .setHostname(hostname())
            .setSessionDir(sessionDir.toString())
            .build());
    LOG.info(
        "node {} ready: node manager {}, resources {}",
        Ids.shortHex(nodeId),
        nodeManagerAddress,
        total);

    if (!options.head()) {
      watchHead();
    }
    if (options.parentPid() > 0) {
      ProcessHandle.of(options.parentPid())
          .ifPresentOrElse(
              parent ->
                  parent
                      .onExit()
                      .thenRun(
                          () -> {
                            LOG.info("parent process {} exited; stopping", options.parentPid());
                            stop();
                            System.exit(0);
                          }),
              () -> {
                LOG.info("parent process {} is gone; stopping", options.parentPid());
                stop();
                System.exit(0);
              });
    }

    Map<String, Object> info = new LinkedHashMap<>();
    info.put("control_address", controlAddress);
    info.put("node_manager_address", nodeManagerAddress);
    info.put("node_id", Ids.hex(nodeId));
    info.put("node_ip", ip);
    info.put("arena_path", config.arenaPath().toString());
    info.put("session_dir", sessionDir.toString());
    info.put("pid", ProcessHandle.current().pid());
    return Json.write(info);
  }

  /** Stops workers, servers and the arena. Safe to call more than once, from any thread. */
  synchronized void stop() {
    if (stopping) {
      return;
    }
    stopping = true;
    LOG.info("stopping node");
    try {
      if (nodeManager != null) {
        controlClient.unregisterNode(nodeManager.config().nodeId());
        nodeManager.close();
      }
      if (nodeServer != null) {
        nodeServer.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      }
      if (nodeGroup != null) {
        nodeGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(2, TimeUnit.SECONDS);
      }
      if (controlClient != null) {
        controlClient.close();
      }
      if (controlService != null) {
        controlService.close();
      }
      if (controlServer != null) {
        controlServer.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("error while stopping", e);
    } finally {
      stopped.countDown();
    }
  }

  private Map<String, Double> totalResources(String ip, long arenaBytes) {
    Map<String, Double> r = new LinkedHashMap<>(options.customResources());
    double cpus =
        options.numCpus() >= 0 ? options.numCpus() : Runtime.getRuntime().availableProcessors();
    r.put("CPU", cpus);
    if (options.numGpus() > 0) {
      r.put("GPU", options.numGpus());
    }
    long memory =
        options.memory() > 0
            ? options.memory()
            : Math.max(0, (long) (SystemMemory.availableBytes() * 0.7) - arenaBytes);
    r.put("memory", (double) memory);
    r.put("object_store_memory", (double) arenaBytes);
    r.put("node:" + ip, 1.0);
    if (options.head()) {
      r.put("node:__internal_head__", 1.0);
    }
    return r;
  }

  /** Ray's default: 30% of memory, but no more than the shared-memory file system can hold. */
  private static long defaultObjectStoreBytes(Path shmDir) {
    long bytes = (long) (SystemMemory.totalBytes() * 0.3);
    try {
      long free = Files.getFileStore(shmDir).getUsableSpace();
      bytes = Math.min(bytes, (long) (free * 0.95));
    } catch (IOException e) {
      LOG.warn("cannot size {}: {}", shmDir, e.toString());
    }
    return Math.max(bytes, 64L << 20);
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** Parsed command line. */
  record NodeOptions(
      boolean head,
      String controlAddress,
      int controlPort,
      int nodeManagerPort,
      String nodeIp,
      double numCpus,
      double numGpus,
      Map<String, Double> customResources,
      long objectStoreMemory,
      long memory,
      Path sessionDir,
      Path pythonConfig,
      long parentPid) {

    static NodeOptions parse(String[] args) {
      Map<String, String> a = new LinkedHashMap<>();
      for (String arg : args) {
        if (!arg.startsWith("--")) {
          throw new IllegalArgumentException("unexpected argument " + arg);
        }
        int eq = arg.indexOf('=');
        a.put(
            eq < 0 ? arg.substring(2) : arg.substring(2, eq),
            eq < 0 ? "true" : arg.substring(eq + 1));
      }
      boolean head = Boolean.parseBoolean(a.getOrDefault("head", "false"));
      String control = a.get("control-address");
      if (!head && control == null) {
        throw new IllegalArgumentException("a non-head node needs --control-address");
      }
      if (!a.containsKey("session-dir")) {
        throw new IllegalArgumentException("--session-dir is required");
      }
      Map<String, Double> custom = new LinkedHashMap<>();
      if (a.containsKey("resources")) {
        Json.readObject(a.get("resources"))
            .forEach((k, v) -> custom.put(k, ((Number) v).doubleValue()));
      }
      return new NodeOptions(
          head,
          control,
          Integer.parseInt(a.getOrDefault("control-port", "0")),
          Integer.parseInt(a.getOrDefault("node-manager-port", "0")),
          a.getOrDefault("node-ip", "127.0.0.1"),
          Double.parseDouble(a.getOrDefault("num-cpus", "-1")),
          Double.parseDouble(a.getOrDefault("num-gpus", "0")),
          custom,
          Long.parseLong(a.getOrDefault("object-store-memory", "0")),
          Long.parseLong(a.getOrDefault("memory", "0")),
          Paths.get(a.get("session-dir")),
          // Without one (a Java driver's own node), the node runs only Java workers.
          a.containsKey("python-config") ? Paths.get(a.get("python-config")) : null,
          Long.parseLong(a.getOrDefault("parent-pid", "0")));
    }
  }
}
