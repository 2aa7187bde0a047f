package io.ray.api;

/**
 * A handle to a C++ actor. It exists so that code written for Ray compiles; this runtime cannot
 * create C++ actors.
 */
public interface CppActorHandle extends BaseActorHandle, CppActorCall {

  /** The actor's C++ class name. */
  String getClassName();
}
