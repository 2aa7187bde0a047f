package io.ray.api.function;

import java.util.Objects;

/**
 * Names a C++ actor class and its factory function. It exists so that code written for Ray
 * compiles; this runtime cannot create C++ actors.
 */
public class CppActorClass {

  /** The registered name of the function that creates the actor. */
  public final String createFunctionName;

  /** The actor's C++ class name. */
  public final String className;

  private CppActorClass(String createFunctionName, String className) {
    this.createFunctionName = Objects.requireNonNull(createFunctionName, "createFunctionName");
    this.className = Objects.requireNonNull(className, "className");
  }

  /** The C++ class {@code className}, created by the function {@code createFunctionName}. */
  public static CppActorClass of(String createFunctionName, String className) {
    return new CppActorClass(createFunctionName, className);
  }
}
