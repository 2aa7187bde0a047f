package io.ray.engine.nodemanager;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/** Completes one unary call. The node manager answers through this, from its loop. */
public interface Reply<T> {
  void ok(T value);

  void fail(Status status);

  /** Whether the caller has gone away (its answer would be dropped). */
  default boolean cancelled() {
    return false;
  }

  static <T> Reply<T> of(StreamObserver<T> out) {
    return new Reply<>() {
      @Override
      public void ok(T value) {
        try {
          out.onNext(value);
          out.onCompleted();
        } catch (RuntimeException e) {
          // The caller cancelled; nothing to deliver.
        }
      }

      @Override
      public void fail(Status status) {
        try {
          out.onError(status.asRuntimeException());
        } catch (RuntimeException e) {
          // The caller cancelled.
        }
      }

      @Override
      public boolean cancelled() {
        return out instanceof ServerCallStreamObserver<?> s && s.isCancelled();
      }
    };
  }
}
