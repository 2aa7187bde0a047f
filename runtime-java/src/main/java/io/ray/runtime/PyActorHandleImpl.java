package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.PyActorHandle;
import io.ray.api.id.ActorId;

/**
 * A Java caller's handle to a Python actor. Created with {@code Ray.actor(PyActorClass.of(...))},
 * it holds the count on the actor's lifetime object, as a Java actor's creator's handle does; found
 * by name ({@code Ray.getActor}), it holds nothing. Calls go through the node; their arguments and
 * results cross as cross-language values. Immutable.
 */
final class PyActorHandleImpl implements PyActorHandle {
  final ByteString actorId;
  final String moduleName;
  final String className;
  final ByteString lifetimeId;
  final ByteString homeNodeId;

  @SuppressWarnings("unused")
  private final ObjectRefImpl<?> lifetime;

  PyActorHandleImpl(
      ByteString actorId,
      String moduleName,
      String className,
      ByteString lifetimeId,
      ByteString homeNodeId,
      ObjectRefImpl<?> lifetime) {
    this.actorId = actorId;
    this.moduleName = moduleName;
    this.className = className;
    this.lifetimeId = lifetimeId;
    this.homeNodeId = homeNodeId;
    this.lifetime = lifetime;
  }

  @Override
  public ActorId getId() {
    return ActorId.fromBytes(actorId.toByteArray());
  }

  @Override
  public String getModuleName() {
    return moduleName;
  }

  @Override
  public String getClassName() {
    return className;
  }

  @Override
  public String toString() {
    return "PyActorHandle(" + moduleName + "." + className + ")";
  }
}
