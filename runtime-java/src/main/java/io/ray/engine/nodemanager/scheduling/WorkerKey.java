package io.ray.engine.nodemanager.scheduling;

import com.google.protobuf.ByteString;

/**
 * Which workers may run a task: a worker serves one job in one runtime environment for its whole
 * life (its process environment, working directory and sys.path are set when it starts).
 *
 * @param envHash the runtime_env hash; empty for the job's default environment
 */
public record WorkerKey(ByteString jobId, String envHash) {}
