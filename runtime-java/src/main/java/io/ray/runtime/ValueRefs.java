package io.ray.runtime;

import com.google.protobuf.ByteString;
import java.util.List;

/**
 * What a Java value in the object store refers to: the ObjectRefs and actor handles inside it.
 * While a value is encoded ({@link ClientCore#encode}) its serializers list here the objects it
 * holds (a ref's object, a handle's lifetime object), which the stored value keeps alive ({@code
 * nested_refs}); while a value from the store is decoded, the refs and handles read from it take a
 * count of their own for the reading process ({@link ClientCore#hold}), as in Ray. Per thread; pure
 * bookkeeping.
 */
final class ValueRefs {
  private ValueRefs() {}

  /** While a value is encoded for the store: the objects it holds. */
  static final ThreadLocal<List<ByteString>> NESTED = new ThreadLocal<>();

  /**
   * While a value from the store is decoded: the process whose refs and handles read from it hold
   * their objects. Unset (a handle found by name): handles hold nothing, refs cannot be read.
   */
  static final ThreadLocal<ClientCore> HOLDER = new ThreadLocal<>();

  /** A serializer wrote a ref to {@code id}; false if no value for the store is being encoded. */
  static boolean written(ByteString id) {
    List<ByteString> nested = NESTED.get();
    if (nested == null) {
      return false;
    }
    nested.add(id);
    return true;
  }

  /**
   * A serializer read a ref to {@code id}: the reading process's own count on it, or null if no
   * value from the store is being decoded.
   */
  static ObjectRefImpl<?> held(ByteString id) {
    ClientCore holder = HOLDER.get();
    return holder == null ? null : holder.hold(id);
  }
}
