package io.ray.engine.worker;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Forwards unary calls whose request and reply are already serialized, by full method name
 * ("ray.rpc.NodeManagerService/GetObjects"). This is how Python inside a worker reaches the node
 * manager and the control service: it builds the same protobuf messages a driver sends, and the
 * worker JVM carries them without parsing.
 */
final class RawRpc {
  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };

  private final ManagedChannel nodeManager;
  private final ManagedChannel control;
  private final ConcurrentHashMap<String, MethodDescriptor<byte[], byte[]>> methods =
      new ConcurrentHashMap<>();

  RawRpc(ManagedChannel nodeManager, ManagedChannel control) {
    this.nodeManager = nodeManager;
    this.control = control;
  }

  /** A method whose requests and replies stay bytes. */
  static MethodDescriptor<byte[], byte[]> rawMethod(
      MethodDescriptor.MethodType type, String fullMethodName) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(type)
        .setFullMethodName(fullMethodName)
        .setRequestMarshaller(BYTES)
        .setResponseMarshaller(BYTES)
        .build();
  }

  /**
   * @param timeoutMs deadline, or a negative number for none
   * @throws RpcFailure when the call fails; its message starts with the gRPC status code
   */
  byte[] call(String fullMethodName, byte[] request, long timeoutMs) {
    MethodDescriptor<byte[], byte[]> method =
        methods.computeIfAbsent(
            fullMethodName, name -> rawMethod(MethodDescriptor.MethodType.UNARY, name));
    ManagedChannel channel =
        fullMethodName.startsWith("ray.rpc.ControlService/") ? control : nodeManager;
    CallOptions options = CallOptions.DEFAULT;
    if (timeoutMs >= 0) {
      options = options.withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
    }
    try {
      return ClientCalls.blockingUnaryCall(channel, method, options, request);
    } catch (StatusRuntimeException e) {
      throw new RpcFailure(e.getStatus().getCode() + ": " + e.getStatus().getDescription());
    }
  }

  /** A failed forwarded call; Python sees it as an exception carrying this message. */
  static final class RpcFailure extends RuntimeException {
    RpcFailure(String message) {
      super(message, null, false, false);
    }
  }
}
