package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.ActorHandle;
import io.ray.api.id.ActorId;

/**
 * A handle to a Java actor. The creator's handle holds the count on the actor's lifetime object
 * (the creation task's return): when it is garbage collected the actor goes away, as in Ray.
 * Handles found by name ({@code Ray.getActor}) or received in a task's arguments do not keep it
 * alive. Calls go through the node, in order per caller. Immutable.
 */
public final class ActorHandleImpl<A> implements ActorHandle<A> {
  final ByteString actorId;
  final String className;
  final ByteString lifetimeId;
  final ByteString homeNodeId;
  final int maxTaskRetries;

  /** The creator's count on the lifetime object; null for a handle that does not own one. */
  @SuppressWarnings("unused")
  private final ObjectRefImpl<?> lifetime;

  ActorHandleImpl(
      ByteString actorId,
      String className,
      ByteString lifetimeId,
      ByteString homeNodeId,
      int maxTaskRetries,
      ObjectRefImpl<?> lifetime) {
    this.actorId = actorId;
    this.className = className;
    this.lifetimeId = lifetimeId;
    this.homeNodeId = homeNodeId;
    this.maxTaskRetries = maxTaskRetries;
    this.lifetime = lifetime;
  }

  /** The same actor, as a handle that does not keep it alive. */
  ActorHandleImpl<A> borrowed() {
    return new ActorHandleImpl<>(actorId, className, lifetimeId, homeNodeId, maxTaskRetries, null);
  }

  @Override
  public ActorId getId() {
    return ActorId.fromBytes(actorId.toByteArray());
  }

  @Override
  public String toString() {
    return "ActorHandle(" + className + ", " + io.ray.engine.common.Ids.hex(actorId) + ")";
  }

  /** Writes a handle into a value (a task's argument or return): it arrives as a borrowed one. */
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
      return new ActorHandleImpl<>(ids[0], in.readString(), ids[1], ids[2], in.readInt(), null);
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
