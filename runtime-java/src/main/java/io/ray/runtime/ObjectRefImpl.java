package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.ObjectRef;
import java.lang.ref.Cleaner;

/**
 * A Java process's reference to an object: while it is reachable the process holds one count on the
 * object; when the garbage collector finds it unreachable, the count is given back to the node (on
 * the process's change stream, after everything the process sent before). Immutable.
 */
public final class ObjectRefImpl<T> implements ObjectRef<T> {
  private static final Cleaner CLEANER = Cleaner.create();

  private final ByteString id;
  private final transient ClientCore core;

  /**
   * The type a value from the other language is fitted to (a PyFunction's return type); or null.
   */
  private final Class<?> type;

  /** A ref whose count the node already holds for this process (a put, a task's return). */
  ObjectRefImpl(ByteString id, ClientCore core) {
    this(id, core, null);
  }

  ObjectRefImpl(ByteString id, ClientCore core, Class<?> type) {
    this.id = id;
    this.core = core;
    this.type = type;
    CLEANER.register(this, new Release(core, id));
  }

  /** The value as this ref's type asks (a cross-language value made to fit it). */
  Object fit(Object value) {
    if (type == null && value instanceof io.ray.runtime.serialization.ArrayCodec.NdArray a) {
      return io.ray.runtime.serialization.ArrayCodec.convert(a, null); // a Java array (a copy)
    }
    return type == null
        ? value
        : io.ray.runtime.serialization.CrossLanguageCodec.convert(value, type);
  }

  public ByteString id() {
    return id;
  }

  @Override
  @SuppressWarnings("unchecked")
  public T get() {
    return (T) fit(core.get(java.util.List.of(id), -1).get(0));
  }

  @Override
  @SuppressWarnings("unchecked")
  public T get(long timeoutMs) {
    return (T) fit(core.get(java.util.List.of(id), timeoutMs).get(0));
  }

  @Override
  public String toString() {
    return "ObjectRef(" + io.ray.engine.common.Ids.hex(id) + ")";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectRefImpl<?> other && other.id.equals(id);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  /**
   * Writes a ref into a value (a task's argument or return, a put): the stored value keeps the
   * object alive until its reader's ref holds it ({@link ValueRefs}), as in Ray.
   */
  public static final class KryoSerializer
      extends com.esotericsoftware.kryo.Serializer<ObjectRef<?>> {
    @Override
    public void write(
        com.esotericsoftware.kryo.Kryo kryo,
        com.esotericsoftware.kryo.io.Output out,
        ObjectRef<?> ref) {
      if (!(ref instanceof ObjectRefImpl<?> impl) || !ValueRefs.written(impl.id)) {
        throw new UnsupportedOperationException(
            "An ObjectRef can be written only into a value of this runtime's object store (a task's"
                + " argument or return, a put): "
                + ref);
      }
      out.writeInt(impl.id.size());
      out.writeBytes(impl.id.toByteArray());
    }

    @Override
    public ObjectRef<?> read(
        com.esotericsoftware.kryo.Kryo kryo,
        com.esotericsoftware.kryo.io.Input in,
        Class<? extends ObjectRef<?>> type) {
      ByteString id = ByteString.copyFrom(in.readBytes(in.readInt()));
      ObjectRef<?> held = ValueRefs.held(id);
      if (held == null) {
        throw new UnsupportedOperationException(
            "An ObjectRef can be read only from a value of this runtime's object store");
      }
      return held;
    }
  }

  /** Runs once the ref is unreachable; must not refer to the ref itself. */
  private record Release(ClientCore core, ByteString id) implements Runnable {
    @Override
    public void run() {
      core.release(id);
    }
  }
}
