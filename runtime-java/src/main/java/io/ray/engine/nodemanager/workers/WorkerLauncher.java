package io.ray.engine.nodemanager.workers;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.Language;
import java.io.IOException;
import java.util.Map;

/**
 * Starts worker processes. The node manager's only dependency on process creation; it calls it on a
 * thread of its own, never on its loop.
 */
public interface WorkerLauncher {
  /**
   * Starts a worker for a job. The worker connects back to the node manager and introduces itself
   * with {@code workerId}.
   *
   * @param envVars variables added to the worker's environment (its runtime_env's env_vars)
   * @param language what the worker runs: Python (a JVM embedding CPython) or Java (a plain JVM)
   * @return the process, or null for a worker that is not a process of this machine (tests)
   */
  Process launch(
      ByteString workerId, ByteString jobId, Map<String, String> envVars, Language language)
      throws IOException;
}
