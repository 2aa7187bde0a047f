package io.ray.engine.worker;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.Ids;
import io.ray.engine.node.NodeMain;
import io.ray.engine.rpc.CancelTask;
import io.ray.engine.rpc.NodeMessage;
import io.ray.engine.rpc.WorkerHello;
import io.ray.engine.rpc.WorkerMessage;
import io.ray.engine.rpc.WorkerSetup;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import jep.JepConfig;
import jep.MainInterpreter;
import jep.PyConfig;
import jep.SharedInterpreter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker process: one JVM, one embedded CPython (a Jep SharedInterpreter confined to the main
 * thread), one channel to the node manager. The Python side ({@code
 * ray._private.workers.jep_worker}) runs the task loop and calls back into {@link WorkerBridge} for
 * tasks, results, output and RPCs.
 *
 * <p>The process exits when the Python loop ends (the node sent exit or the channel closed), or
 * when the node manager's process dies.
 */
public final class WorkerMain {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerMain.class);

  /** The channel's one method; messages stay bytes here (see {@link WorkerFrames}). */
  private static final MethodDescriptor<byte[], byte[]> ATTACH =
      RawRpc.rawMethod(
          MethodDescriptor.MethodType.BIDI_STREAMING, "ray.rpc.WorkerChannelService/Attach");

  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    ByteString workerId = Ids.fromHex(a.get("worker-id"));
    long nodePid = Long.parseLong(a.get("node-pid"));
    ProcessHandle.of(nodePid)
        .ifPresentOrElse(
            node -> node.onExit().thenRun(() -> Runtime.getRuntime().halt(1)),
            () -> Runtime.getRuntime().halt(1));

    PythonConfig python = PythonConfig.read(Paths.get(a.get("python-config")));
    ManagedChannel nodeChannel = channel(a.get("node-manager"));
    // One connection when the node manager's port also serves the control service (the head).
    ManagedChannel controlChannel =
        a.get("control").equals(a.get("node-manager")) ? nodeChannel : channel(a.get("control"));
    // Callers reach the worker on its node's address (the host part of the node manager's).
    String nodeManager = a.get("node-manager");
    String host = nodeManager.substring(0, nodeManager.lastIndexOf(':'));
    WorkerBridge bridge = new WorkerBridge(workerId, new RawRpc(nodeChannel, controlChannel), host);
    bridge.setConnector(
        directAddress -> {
          StreamObserver<byte[]> toNode =
              ClientCalls.asyncBidiStreamingCall(
                  nodeChannel.newCall(ATTACH, CallOptions.DEFAULT),
                  new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] m) {
                      WorkerFrames.Field f = WorkerFrames.unwrap(m);
                      try {
                        switch (f.number()) {
                          case NodeMessage.SETUP_FIELD_NUMBER ->
                              bridge.onSetup(WorkerSetup.parseFrom(f.payload()));
                          case NodeMessage.EXECUTE_FIELD_NUMBER -> bridge.onTask(f.payload());
                          case NodeMessage.EXIT_FIELD_NUMBER -> bridge.onStop();
                          case NodeMessage.CANCEL_FIELD_NUMBER ->
                              bridge.onCancel(CancelTask.parseFrom(f.payload()));
                          default -> {}
                        }
                      } catch (InvalidProtocolBufferException e) {
                        LOG.error("bad message from the node manager", e);
                        bridge.onStop();
                      }
                    }

                    @Override
                    public void onError(Throwable t) {
                      LOG.info("channel to node manager failed: {}", t.toString());
                      bridge.onStop();
                    }

                    @Override
                    public void onCompleted() {
                      bridge.onStop();
                    }
                  });
          bridge.attach(toNode);
          bridge.send(
              WorkerMessage.newBuilder()
                  .setHello(
                      WorkerHello.newBuilder()
                          .setWorkerId(workerId)
                          .setPid((int) ProcessHandle.current().pid())
                          .setDirectAddress(directAddress))
                  .build()
                  .toByteArray());
        });

    bridge.setFlusher(
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "output-flusher");
              t.setDaemon(true);
              return t;
            }));

    int code = 0;
    try {
      runPython(python, bridge);
    } catch (Throwable t) {
      LOG.error("Python worker loop failed", t);
      code = 1;
    }
    bridge.close();
    nodeChannel.shutdown().awaitTermination(1, TimeUnit.SECONDS);
    controlChannel.shutdownNow();
    // Python may have left non-daemon threads behind; the worker is done regardless.
    Runtime.getRuntime().halt(code);
  }

  private static void runPython(PythonConfig python, WorkerBridge bridge) throws Exception {
    MainInterpreter.setJepLibraryPath(python.jepLibrary());
    PyConfig pyConfig = new PyConfig();
    pyConfig.setPythonHome(python.pythonHome());
    // No implicit site-packages of the base installation: sys.path is exactly the driver's.
    pyConfig.setNoSiteFlag(1);
    MainInterpreter.setInitParams(pyConfig);
    JepConfig config = new JepConfig();
    for (String p : python.sysPath()) {
      if (!p.isEmpty()) {
        config.addIncludePaths(p);
      }
    }
    SharedInterpreter.setConfig(config);
    try (SharedInterpreter interp = new SharedInterpreter()) {
      interp.set("_ray_bridge", bridge);
      interp.exec("import ray._private.workers.jep_worker as _ray_jep_worker");
      interp.exec("_ray_jep_worker.main(_ray_bridge)");
    }
  }

  private static ManagedChannel channel(String target) {
    // Callbacks only hand messages to queues: run them on the I/O thread, no hop.
    return NettyChannelBuilder.forTarget(target)
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(NodeMain.MAX_MESSAGE_BYTES)
        .build();
  }
}
