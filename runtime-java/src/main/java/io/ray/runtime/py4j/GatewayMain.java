package io.ray.runtime.py4j;

import io.ray.engine.worker.WorkerProcess;
import java.net.InetAddress;
import java.util.Map;
import py4j.GatewayServer;

/**
 * A JVM a Python driver talks to directly with py4j ({@code ray.util.java_gateway()}), PySpark's
 * way: the driver starts it with the job's code search path on its class path; it serves a py4j
 * gateway on a free loopback port, refusing calls without the token the driver gave it (in {@code
 * RAY_PY4J_TOKEN}, never on the command line), prints {@code RAY_PY4J_READY <port>}, and exits when
 * the driver closes it or the driver's process ends. Control, not data: values stay in the JVM
 * unless the caller converts them; Ray's objects travel through the object store instead.
 */
public final class GatewayMain {
  private GatewayMain() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = WorkerProcess.flags(args);
    WorkerProcess.dieWithNode(Long.parseLong(a.get("parent-pid")));
    String token = System.getenv("RAY_PY4J_TOKEN");
    if (token == null || token.isEmpty()) {
      throw new IllegalStateException("RAY_PY4J_TOKEN is not set");
    }
    GatewayServer server =
        new GatewayServer.GatewayServerBuilder()
            .javaPort(0)
            .javaAddress(InetAddress.getLoopbackAddress())
            .authToken(token)
            .build();
    server.start();
    System.out.println("RAY_PY4J_READY " + server.getListeningPort());
    System.out.flush();
    // Ends when the driver closes stdin (it exits, or shuts the gateway down).
    while (System.in.read() != -1) {
      // Nothing is expected on stdin: it only tells that the driver is still there.
    }
    server.shutdown();
    Runtime.getRuntime().halt(0);
  }
}
