package io.ray.engine.common;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * gRPC channels to node managers (from other nodes, and from the control service), one per address,
 * made on first use and closed with the node. Thread-safe. Callbacks of calls on these channels run
 * on gRPC's transport threads (direct executor): they must be short and hop to the loop for state.
 */
public final class PeerChannels implements AutoCloseable {
  private static final int FLOW_CONTROL_WINDOW = 16 << 20;

  private final ConcurrentMap<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  /** Calls to other nodes carry this process's cluster token. */
  private final ClusterToken token = ClusterToken.fromEnvironment();

  public ManagedChannel get(String address) {
    return channels.computeIfAbsent(
        address,
        a ->
            NettyChannelBuilder.forTarget(a)
                .usePlaintext()
                .directExecutor()
                .maxInboundMessageSize(Integer.MAX_VALUE)
                // Object chunks are 4 MiB: a window of several lets a pull keep two in flight.
                .flowControlWindow(FLOW_CONTROL_WINDOW)
                .intercept(token.clientInterceptor())
                .build());
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel c : channels.values()) {
      try {
        c.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
