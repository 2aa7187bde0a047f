package io.ray.engine.worker;

import java.util.HashMap;
import java.util.Map;

/** What every worker process does first: read its {@code --key=value} flags, watch its node. */
public final class WorkerProcess {
  private WorkerProcess() {}

  /** The flags, {@code --node-pid=123} as {@code "node-pid" -> "123"}. */
  public static Map<String, String> flags(String[] args) {
    Map<String, String> a = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      a.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    return a;
  }

  /** Ends this process at once when the node manager's process ends (or is already gone). */
  public static void dieWithNode(long nodePid) {
    ProcessHandle.of(nodePid)
        .ifPresentOrElse(
            node -> node.onExit().thenRun(() -> Runtime.getRuntime().halt(1)),
            () -> Runtime.getRuntime().halt(1));
  }
}
