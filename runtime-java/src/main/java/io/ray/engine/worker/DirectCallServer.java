package io.ray.engine.worker;

import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCalls;
import io.ray.engine.node.NodeMain;
import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * The worker's CoreWorkerService: callers push direct calls here. Requests and replies stay bytes:
 * the handler only hands them to the {@link WorkerBridge}'s task queue (on the I/O thread, no hop),
 * and Python parses and answers them.
 */
final class DirectCallServer {
  static final String SERVICE = "ray.rpc.CoreWorkerService";

  private DirectCallServer() {}

  /** Starts the server on an ephemeral port of {@code host}. */
  static Server start(String host, WorkerBridge bridge) throws IOException {
    MethodDescriptor<byte[], byte[]> push =
        RawRpc.rawMethod(MethodDescriptor.MethodType.UNARY, SERVICE + "/PushTask");
    MethodDescriptor<byte[], byte[]> watch =
        RawRpc.rawMethod(MethodDescriptor.MethodType.SERVER_STREAMING, SERVICE + "/Watch");
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(push, ServerCalls.asyncUnaryCall(bridge::onDirectCall))
            .addMethod(watch, ServerCalls.asyncServerStreamingCall(bridge::onWatch))
            .build();
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, 0))
        .directExecutor()
        .maxInboundMessageSize(NodeMain.MAX_MESSAGE_BYTES)
        .addService(service)
        .build()
        .start();
  }
}
