package io.ray.api;

/**
 * A handle to a Python actor; call it with {@code handle.task(PyActorMethod.of("method"),
 * args...).remote()}. Implemented by the runtime.
 */
public interface PyActorHandle extends BaseActorHandle, PyActorCall {

  /** The Python module of the actor's class. */
  String getModuleName();

  /** The actor's class name. */
  String getClassName();
}
