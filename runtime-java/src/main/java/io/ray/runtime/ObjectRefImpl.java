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

  /** A ref whose count the node already holds for this process (a put, a task's return). */
  ObjectRefImpl(ByteString id, ClientCore core) {
    this.id = id;
    this.core = core;
    CLEANER.register(this, new Release(core, id));
  }

  public ByteString id() {
    return id;
  }

  @Override
  @SuppressWarnings("unchecked")
  public T get() {
    return (T) core.get(java.util.List.of(id), -1).get(0);
  }

  @Override
  @SuppressWarnings("unchecked")
  public T get(long timeoutMs) {
    return (T) core.get(java.util.List.of(id), timeoutMs).get(0);
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

  /** Runs once the ref is unreachable; must not refer to the ref itself. */
  private record Release(ClientCore core, ByteString id) implements Runnable {
    @Override
    public void run() {
      core.release(id);
    }
  }
}
