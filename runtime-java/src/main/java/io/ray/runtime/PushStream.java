package io.ray.runtime;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.rpc.CoreWorkerServiceGrpc;
import io.ray.engine.rpc.PushTaskReply;
import io.ray.engine.rpc.PushTaskRequest;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * This process's stream to one worker ({@code CoreWorkerService/PushStream}), the Java counterpart
 * of Python's {@code _PushStream}. {@link #push} sends a request and returns at once; each reply is
 * matched to its push by call id and its callback runs on the channel's event loop (the channel
 * uses a direct executor: no hand-off between the network and the answer). When the stream ends,
 * every push not answered gets the failure: its worker is gone or stopped taking calls, and the
 * node, which registered those calls, retries or fails them.
 *
 * <p>Threading: any thread pushes; sends are serialized by this object's lock; callbacks run
 * outside it.
 */
final class PushStream {
  /** What a push's callback gets: the reply, or why there is none. */
  interface Callback {
    void answered(PushTaskReply reply, Throwable failure);
  }

  /** The worker ended the stream without an error: it stopped. */
  static final class StreamEnded extends RuntimeException {
    StreamEnded(String message) {
      super(message, null, false, false);
    }
  }

  final String address;
  private final ManagedChannel channel;
  private final StreamObserver<PushTaskRequest> requests;
  private final Consumer<PushStream> onEnd;
  private Map<Long, Callback> callbacks = new HashMap<>();
  private long nextId;
  private Throwable failure;

  PushStream(String address, ClusterToken token, Consumer<PushStream> onEnd) {
    this.address = address;
    this.onEnd = onEnd;
    this.channel =
        NettyChannelBuilder.forTarget(address)
            .usePlaintext()
            .directExecutor()
            .maxInboundMessageSize(Integer.MAX_VALUE)
            .intercept(token.clientInterceptor())
            .build();
    this.requests =
        CoreWorkerServiceGrpc.newStub(channel)
            .pushStream(
                new StreamObserver<>() {
                  @Override
                  public void onNext(PushTaskReply reply) {
                    Callback cb;
                    synchronized (PushStream.this) {
                      cb = callbacks.remove(reply.getCallId());
                    }
                    if (cb != null) {
                      cb.answered(reply, null);
                    }
                  }

                  @Override
                  public void onError(Throwable t) {
                    end(t);
                  }

                  @Override
                  public void onCompleted() {
                    end(new StreamEnded("the worker ended the stream"));
                  }
                });
  }

  synchronized boolean alive() {
    return failure == null;
  }

  /** Sends the calls; {@code callback} runs once they are answered or the stream ended. */
  void push(PushTaskRequest.Builder request, Callback callback) {
    Throwable f;
    synchronized (this) {
      f = failure;
      if (f == null) {
        long id = ++nextId;
        callbacks.put(id, callback);
        try {
          requests.onNext(request.setCallId(id).build());
          return;
        } catch (RuntimeException e) {
          callbacks.remove(id);
          f = e;
        }
      }
    }
    callback.answered(null, f);
  }

  private void end(Throwable t) {
    Map<Long, Callback> unanswered;
    synchronized (this) {
      if (failure != null) {
        return;
      }
      failure = t;
      unanswered = callbacks;
      callbacks = new HashMap<>();
    }
    channel.shutdown();
    onEnd.accept(this);
    unanswered.values().forEach(cb -> cb.answered(null, t));
  }

  /** Ends the stream from this side (the process is leaving). */
  void close() {
    synchronized (this) {
      if (failure == null) {
        try {
          requests.onCompleted();
        } catch (RuntimeException e) {
          // already broken
        }
      }
    }
    channel.shutdownNow();
  }

  /**
   * Whether a push failed because its worker went away (the node then retries or fails the calls by
   * itself) rather than because the worker did not take them.
   */
  static boolean workerGone(Throwable failure) {
    if (failure instanceof StreamEnded) {
      return true;
    }
    Status.Code code = Status.fromThrowable(failure).getCode();
    return code == Status.Code.UNAVAILABLE || code == Status.Code.CANCELLED;
  }
}
