package io.ray.engine.node;

import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;

/** Netty I/O threads for our servers: epoll on Linux, NIO elsewhere. */
final class IoGroups {
  private IoGroups() {}

  /** One I/O thread with the given name (it shows up as the component's loop in dumps). */
  static EventLoopGroup singleThreaded(String name) {
    return new MultiThreadIoEventLoopGroup(
        1,
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        },
        Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
  }

  static Class<? extends ServerChannel> serverChannelType() {
    return Epoll.isAvailable() ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }
}
