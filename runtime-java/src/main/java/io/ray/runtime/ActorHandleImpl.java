package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.ActorHandle;
import io.ray.api.id.ActorId;

/**
 * A handle to a Java actor. The creator's handle holds a count on the actor's lifetime object (the
 * creation task's return), and so does a handle received in a value (an argument, a task's return,
 * a put): when the last is garbage collected the actor goes away, as in Ray. Handles found by name
 * ({@code Ray.getActor}) do not keep it alive. Calls are pushed to the actor's worker or go through
 * the node ({@link DirectCalls}), in order per caller. Immutable.
 */
public final class ActorHandleImpl<A> implements ActorHandle<A> {
  final ByteString actorId;
  final String className;
  final ByteString lifetimeId;
  final ByteString homeNodeId;
  final int maxTaskRetries;

  /** Calls the actor runs at once (calls pushed to it at once). */
  final int maxConcurrency;

  /** The creator's count on the lifetime object; null for a handle that does not own one. */
  @SuppressWarnings("unused")
  private final ObjectRefImpl<?> lifetime;

  ActorHandleImpl(
      ByteString actorId,
      String className,
      ByteString lifetimeId,
      ByteString homeNodeId,
      int maxTaskRetries,
      int maxConcurrency,
      ObjectRefImpl<?> lifetime) {
    this.actorId = actorId;
    this.className = className;
    this.lifetimeId = lifetimeId;
    this.homeNodeId = homeNodeId;
    this.maxTaskRetries = maxTaskRetries;
    this.maxConcurrency = maxConcurrency;
    this.lifetime = lifetime;
  }

  /** The same actor, as a handle that does not keep it alive. */
  ActorHandleImpl<A> borrowed() {
    return new ActorHandleImpl<>(
        actorId, className, lifetimeId, homeNodeId, maxTaskRetries, maxConcurrency, null);
  }

  @Override
  public ActorId getId() {
    return ActorId.fromBytes(actorId.toByteArray());
  }

  @Override
  public String toString() {
    return "ActorHandle(" + className + ", " + io.ray.engine.common.Ids.hex(actorId) + ")";
  }

  /**
   * Writes a handle into a value (a task's argument or return, a put): the value keeps the actor
   * alive until its reader's handle holds it, as in Ray.
   */
  public static final class KryoSerializer
      extends com.esotericsoftware.kryo.Serializer<ActorHandleImpl<?>> {
    @Override
    public void write(
        com.esotericsoftware.kryo.Kryo kryo,
        com.esotericsoftware.kryo.io.Output out,
        ActorHandleImpl<?> h) {
      for (ByteString b : new ByteString[] {h.actorId, h.lifetimeId, h.homeNodeId}) {
        out.writeInt(b.size());
        out.writeBytes(b.toByteArray());
      }
      out.writeString(h.className);
      out.writeInt(h.maxTaskRetries);
      out.writeInt(h.maxConcurrency);
      ValueRefs.written(h.lifetimeId);
    }

    @Override
    public ActorHandleImpl<?> read(
        com.esotericsoftware.kryo.Kryo kryo,
        com.esotericsoftware.kryo.io.Input in,
        Class<? extends ActorHandleImpl<?>> type) {
      ByteString[] ids = new ByteString[3];
      for (int i = 0; i < 3; i++) {
        ids[i] = ByteString.copyFrom(in.readBytes(in.readInt()));
      }
      String className = in.readString();
      int maxTaskRetries = in.readInt();
      int maxConcurrency = in.readInt();
      return new ActorHandleImpl<>(
          ids[0],
          className,
          ids[1],
          ids[2],
          maxTaskRetries,
          maxConcurrency,
          ValueRefs.held(ids[1]));
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActorHandleImpl<?> other && other.actorId.equals(actorId);
  }

  @Override
  public int hashCode() {
    return actorId.hashCode();
  }
}
