package io.ray.engine.worker;

import java.nio.file.Paths;
import java.util.Map;
import jep.JepConfig;
import jep.MainInterpreter;
import jep.PyConfig;
import jep.SharedInterpreter;

/**
 * A Python worker process: one JVM hosting one embedded CPython (a Jep SharedInterpreter confined
 * to the main thread), which runs the task loop ({@code ray._private.workers.jep_worker}).
 *
 * <p>The worker's Python speaks gRPC to its node itself (grpcio: the channel to the node, its RPCs,
 * and the server its direct callers push to). This class only starts the interpreter and watches
 * the node: grpc-java here cost a new worker ~0.7 s of CPU (its channel, the first connection and
 * C1 compiling them) of the ~1.4 s it took to start, and ran interpreted for its first calls.
 *
 * <p>The process exits when the Python loop ends (the node sent exit or the channel closed), or
 * when the node manager's process dies.
 */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) {
    Map<String, String> a = WorkerProcess.flags(args);
    WorkerProcess.dieWithNode(Long.parseLong(a.get("node-pid")));
    int code = 0;
    try {
      runPython(PythonConfig.read(Paths.get(a.get("python-config"))), a);
    } catch (Throwable t) {
      System.err.println("Python worker loop failed: " + t);
      t.printStackTrace();
      code = 1;
    }
    // Python may have left non-daemon threads behind; the worker is done regardless.
    Runtime.getRuntime().halt(code);
  }

  private static void runPython(PythonConfig python, Map<String, String> a) throws Exception {
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
      interp.set("_ray_worker_id", a.get("worker-id"));
      interp.set("_ray_node_manager", a.get("node-manager"));
      interp.set("_ray_control", a.get("control"));
      interp.exec("import ray._private.workers.jep_worker as _ray_jep_worker");
      interp.exec("_ray_jep_worker.main(_ray_worker_id, _ray_node_manager, _ray_control)");
    }
  }
}
