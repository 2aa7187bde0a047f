package io.ray.api.runtimecontext;

import io.ray.api.id.UniqueId;
import java.util.Objects;

/** Where a worker listens: its node, IP address and port. */
public class Address {

  public final UniqueId nodeId;
  public final String ip;
  public final int port;

  public Address(UniqueId nodeId, String ip, int port) {
    this.nodeId = nodeId;
    this.ip = ip;
    this.port = port;
  }

  @Override
  public boolean equals(Object obj) {
    if (this == obj) {
      return true;
    }
    if (!(obj instanceof Address)) {
      return false;
    }
    Address other = (Address) obj;
    return port == other.port
        && Objects.equals(nodeId, other.nodeId)
        && Objects.equals(ip, other.ip);
  }

  @Override
  public int hashCode() {
    return Objects.hash(nodeId, ip, port);
  }

  @Override
  public String toString() {
    return ip + ":" + port + " (node " + nodeId + ")";
  }
}
