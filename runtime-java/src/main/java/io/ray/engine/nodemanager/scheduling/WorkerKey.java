package io.ray.engine.nodemanager.scheduling;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.Language;

/**
 * Which workers may run a task: a worker serves one job in one runtime environment and one language
 * for its whole life (its process environment, working directory and code path are set when it
 * starts; a Java worker runs no Python and a Python worker no Java).
 *
 * @param envHash the runtime_env hash; empty for the job's default environment
 * @param language the language of the functions the worker runs
 */
public record WorkerKey(ByteString jobId, String envHash, Language language) {
  /** A Python worker's key. */
  public WorkerKey(ByteString jobId, String envHash) {
    this(jobId, envHash, Language.PYTHON);
  }
}
