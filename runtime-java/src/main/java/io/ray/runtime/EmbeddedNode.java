package io.ray.runtime;

import io.ray.api.exception.RayException;
import io.ray.engine.common.JvmOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A head node a Java driver starts for itself ({@code Ray.init()} with no address), as {@code
 * ray.init()} does in Python: a child JVM running {@code NodeMain --head}, told the driver's pid so
 * that it stops when the driver dies, and stopped by {@link #stop} (SIGTERM, then its arena file is
 * removed if it could not). It runs Java workers only unless a Python installation is named ({@code
 * -Dray.python} or {@code RAY_PYTHON}).
 */
final class EmbeddedNode {
  private static final String READY = "RAY_NODE_READY ";
  private static final long START_TIMEOUT_MS = 60_000;

  private final Process process;
  private final Map<String, Object> info;

  private EmbeddedNode(Process process, Map<String, Object> info) {
    this.process = process;
    this.info = info;
  }

  static EmbeddedNode start(Double numCpus, String token) {
    Path session = sessionDir();
    String pythonConfig = pythonConfig(session);
    // Our jars only, as the Python launcher starts nodes: the node and its workers can then use
    // the class-data-sharing archive (the user's classes reach workers by the code search path).
    List<String> cmd =
        new ArrayList<>(
            JvmOptions.javaCommand(List.of("-XX:TieredStopAtLevel=1"), JvmOptions.ourClassPath()));
    cmd.add("io.ray.engine.node.NodeMain");
    cmd.add("--head");
    cmd.add("--session-dir=" + session);
    cmd.add("--node-ip=127.0.0.1");
    cmd.add("--parent-pid=" + ProcessHandle.current().pid());
    if (numCpus != null) {
      cmd.add("--num-cpus=" + numCpus);
    }
    if (pythonConfig != null) {
      cmd.add("--python-config=" + pythonConfig);
    }
    Path log = session.resolve("logs").resolve("node.err");
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    // The cluster's token: the node and its workers require it, this driver presents it.
    pb.environment().remove("RAY_AUTH_MODE");
    pb.environment().put("RAY_AUTH_TOKEN", token);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new RayException("Could not start a Ray node: " + e.getMessage());
    }
    return new EmbeddedNode(p, awaitReady(p, log));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> awaitReady(Process p, Path log) {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    Thread watchdog =
        new Thread(
            () -> {
              try {
                if (!p.waitFor(
                    Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS)) {
                  p.destroyForcibly();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "ray-node-start-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    try {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith(READY)) {
          watchdog.interrupt();
          return new com.google.gson.Gson().fromJson(line.substring(READY.length()), Map.class);
        }
      }
    } catch (IOException e) {
      // Falls through to the error below.
    }
    throw new RayException("The Ray node did not start. Its log:\n" + tail(log));
  }

  /**
   * The Python installation the node's Python workers embed (for calls from Java to Python): the
   * interpreter named by {@code -Dray.python} or {@code RAY_PYTHON}, which must have this project's
   * {@code ray} package and Jep; none given, the node runs Java workers only.
   */
  private static String pythonConfig(Path session) {
    String python = System.getProperty("ray.python", System.getenv("RAY_PYTHON"));
    if (python == null || python.isEmpty()) {
      return null;
    }
    Path out = session.resolve("python_worker_" + ProcessHandle.current().pid() + ".json");
    String script =
        "import json, sys\n"
            + "from ray._private.node import python_worker_config\n"
            + "json.dump(python_worker_config(), open(sys.argv[1], 'w'))\n";
    try {
      Process p =
          new ProcessBuilder(python, "-c", script, out.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new RayException(
            "The Python interpreter "
                + python
                + " (ray.python / RAY_PYTHON) cannot run Ray's"
                + " Python workers: "
                + output);
      }
    } catch (IOException e) {
      throw new RayException("Cannot run the Python interpreter " + python + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RayException("interrupted while inspecting " + python);
    }
    return out.toString();
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }

  private static Path sessionDir() {
    String root = System.getenv().getOrDefault("RAY_TMPDIR", "/tmp/ray");
    String now =
        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd_HH-mm-ss_SSSSSS"));
    Path dir = Path.of(root, "session_" + now + "_" + ProcessHandle.current().pid());
    try {
      Files.createDirectories(dir.resolve("logs"));
    } catch (IOException e) {
      throw new RayException("Cannot create the session directory " + dir + ": " + e.getMessage());
    }
    return dir;
  }

  String controlAddress() {
    return (String) info.get("control_address");
  }

  String nodeManagerAddress() {
    return (String) info.get("node_manager_address");
  }

  /** Asks the node to stop (it stops its workers and removes its arena) and waits. */
  void stop() {
    if (process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Object arena = info.get("arena_path");
    if (arena instanceof String path) {
      try {
        Files.deleteIfExists(Path.of(path));
      } catch (IOException e) {
        // Nothing more to do: the node removes it when it stops cleanly.
      }
    }
  }
}
