package io.ray.engine.nodemanager.workers;

import com.google.protobuf.ByteString;
import io.ray.engine.common.Ids;
import io.ray.engine.common.JvmOptions;
import io.ray.engine.rpc.Language;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Starts each worker as a JVM: a Python worker embeds CPython through Jep ({@code WorkerMain}); a
 * Java worker runs Java tasks and loads no Python ({@code io.ray.runtime.worker.JavaWorkerMain}).
 */
public final class JvmWorkerLauncher implements WorkerLauncher {
  private final String nodeManagerAddress;
  private final String controlAddress;
  private final Path pythonConfig;
  private final Path logDir;

  /**
   * @param pythonConfig JSON file describing the Python installation workers embed; null when this
   *     node runs no Python (a Java driver's node started without one)
   * @param logDir where each worker's raw stdout and stderr go
   */
  public JvmWorkerLauncher(
      String nodeManagerAddress, String controlAddress, Path pythonConfig, Path logDir) {
    this.nodeManagerAddress = nodeManagerAddress;
    this.controlAddress = controlAddress;
    this.pythonConfig = pythonConfig;
    this.logDir = logDir;
  }

  @Override
  public Process launch(
      ByteString workerId, ByteString jobId, Map<String, String> envVars, Language language)
      throws IOException {
    if (language == Language.PYTHON && pythonConfig == null) {
      throw new IOException(
          "this node was started without a Python installation (--python-config): it runs only"
              + " Java workers");
    }
    Files.createDirectories(logDir);
    List<String> flags =
        new ArrayList<>(
            language == Language.JAVA ? JvmOptions.JAVA_WORKER_FLAGS : JvmOptions.WORKER_FLAGS);
    // A crashing JVM writes its report to the session's logs, never to the user's directory.
    flags.add("-XX:ErrorFile=" + logDir.resolve("hs_err_pid%p.log"));
    List<String> cmd = new ArrayList<>(JvmOptions.javaCommand(flags));
    boolean java = language == Language.JAVA;
    cmd.add(java ? "io.ray.runtime.worker.JavaWorkerMain" : "io.ray.engine.worker.WorkerMain");
    cmd.add("--node-manager=" + nodeManagerAddress);
    cmd.add("--control=" + controlAddress);
    cmd.add("--worker-id=" + Ids.hex(workerId));
    cmd.add("--job-id=" + Ids.hex(jobId));
    if (!java) {
      cmd.add("--python-config=" + pythonConfig);
    }
    cmd.add("--node-pid=" + ProcessHandle.current().pid());
    String name = "worker-" + Ids.shortHex(workerId);
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectOutput(logDir.resolve(name + ".out").toFile())
            .redirectError(logDir.resolve(name + ".err").toFile());
    pb.environment().putAll(envVars);
    pb.environment().put("PYTHONUNBUFFERED", "1");
    return pb.start();
  }
}
