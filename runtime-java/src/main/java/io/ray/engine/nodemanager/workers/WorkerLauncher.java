package io.ray.engine.nodemanager.workers;

import com.google.protobuf.ByteString;
import java.io.IOException;

/** Starts worker processes. The node manager's only dependency on process creation. */
public interface WorkerLauncher {
  /**
   * Starts a worker for a job. The worker connects back to the node manager and introduces itself
   * with {@code workerId}.
   */
  Process launch(ByteString workerId, ByteString jobId) throws IOException;
}
