package io.ray.runtime.worker;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.rpc.CoreWorkerServiceGrpc;
import io.ray.engine.rpc.PushTaskReply;
import io.ray.engine.rpc.PushTaskRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A Java worker's server for direct calls ({@code CoreWorkerService/PushStream}): callers (Java or
 * Python) push calls here and get their answers here, as from a Python worker's push server. Each
 * push is handed to the worker's task queue, in arrival order, where the node's tasks queue too;
 * the worker answers it with {@link Pushed#answer} once its calls ran.
 *
 * <p>Threading: the server has an event loop of its own, "ray-push" (no other channel of the
 * process uses it), and a direct executor: {@code onPush} runs there, and may run the calls there
 * too, blocking only this server's I/O while they run (the worker's channel to its node and its own
 * calls out use gRPC's shared event loops). Answers may be sent from any thread, one at a time per
 * stream.
 */
final class PushServer implements AutoCloseable {
  /** One push: its calls, and the stream its answer goes back on. */
  record Pushed(PushTaskRequest request, Replies replies) {
    void answer(PushTaskReply reply) {
      replies.send(reply);
    }
  }

  /** One caller's stream, as the worker answers on it. Thread-safe. */
  static final class Replies {
    private final StreamObserver<PushTaskReply> out;
    private boolean ended;

    Replies(StreamObserver<PushTaskReply> out) {
      this.out = out;
    }

    synchronized void send(PushTaskReply reply) {
      if (!ended) {
        out.onNext(reply);
      }
    }

    /** Ends the stream: the caller fails over the pushes not answered. */
    synchronized void end() {
      if (!ended) {
        ended = true;
        try {
          out.onCompleted();
        } catch (RuntimeException e) {
          // the caller is gone already
        }
      }
    }

    synchronized void lost() {
      ended = true;
    }
  }

  private final Server server;
  private final EventLoopGroup loop =
      new NioEventLoopGroup(1, new DefaultThreadFactory("ray-push", true));
  private final Set<Replies> open = new HashSet<>();
  private boolean stopping;
  final String address;

  /**
   * @param host the node's address (callers reach the worker where they reach its node)
   * @param onPush takes each push, on the server's own event loop thread (see above)
   */
  PushServer(String host, ClusterToken token, Consumer<Pushed> onPush) throws IOException {
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, 0))
            .bossEventLoopGroup(loop)
            .workerEventLoopGroup(loop)
            .channelType(NioServerSocketChannel.class)
            .directExecutor()
            .maxInboundMessageSize(Integer.MAX_VALUE)
            .intercept(token.serverInterceptor())
            .addService(
                new CoreWorkerServiceGrpc.CoreWorkerServiceImplBase() {
                  @Override
                  public StreamObserver<PushTaskRequest> pushStream(
                      StreamObserver<PushTaskReply> out) {
                    Replies replies = new Replies(out);
                    if (!opened(replies)) {
                      replies.end();
                    }
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(PushTaskRequest request) {
                        onPush.accept(new Pushed(request, replies));
                      }

                      @Override
                      public void onError(Throwable t) {
                        replies.lost();
                        closed(replies);
                      }

                      @Override
                      public void onCompleted() {
                        replies.end();
                        closed(replies);
                      }
                    };
                  }
                })
            .build()
            .start();
    this.address = host + ":" + server.getPort();
  }

  private synchronized boolean opened(Replies replies) {
    return !stopping && open.add(replies);
  }

  private synchronized void closed(Replies replies) {
    open.remove(replies);
  }

  /** Ends every stream (callers fail over what they pushed and this worker will not run). */
  @Override
  public void close() {
    List<Replies> streams;
    synchronized (this) {
      stopping = true;
      streams = new ArrayList<>(open);
      open.clear();
    }
    streams.forEach(Replies::end);
    server.shutdown();
    try {
      server.awaitTermination(200, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.shutdownNow();
    loop.shutdownGracefully(0, 200, TimeUnit.MILLISECONDS);
  }
}
