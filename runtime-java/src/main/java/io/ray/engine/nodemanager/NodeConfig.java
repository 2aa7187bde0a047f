package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import java.nio.file.Path;

/**
 * A node manager's fixed settings.
 *
 * @param nodeId this node's id
 * @param nodeIp address its services listen on
 * @param isHead whether the node hosts the control service
 * @param total resources the node offers (CPU, GPU, memory, object_store_memory, node:ip, custom)
 * @param arenaPath shared-memory arena file to create
 * @param arenaCapacity its size in bytes
 * @param maxInlineBytes values up to this size travel inside messages rather than the arena
 * @param sessionDir session directory (logs)
 * @param pythonConfig JSON description of the Python installation workers embed
 * @param workerStartTimeoutMs how long a starting worker may take to attach
 * @param address host:port of this node manager, for the other nodes
 */
public record NodeConfig(
    ByteString nodeId,
    String nodeIp,
    boolean isHead,
    ResourceSet total,
    Path arenaPath,
    long arenaCapacity,
    long maxInlineBytes,
    Path sessionDir,
    Path pythonConfig,
    long workerStartTimeoutMs,
    String address) {

  /** Worker processes kept warm: one per whole CPU, at least one. */
  public int workerSoftLimit() {
    return Math.max(1, (int) Math.floor(total.get("CPU")));
  }
}
