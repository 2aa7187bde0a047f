package io.ray.api.function;

import java.util.Objects;

/**
 * Names a method of a C++ actor. It exists so that code written for Ray compiles; this runtime
 * cannot call C++ actors.
 */
public class CppActorMethod<R> {

  /** The method's name. */
  public final String methodName;

  /** The Java type the result would be returned as. */
  public final Class<R> returnType;

  private CppActorMethod(String methodName, Class<R> returnType) {
    this.methodName = Objects.requireNonNull(methodName, "methodName");
    this.returnType = Objects.requireNonNull(returnType, "returnType");
  }

  /** A C++ actor method whose result would be returned as a plain {@code Object}. */
  public static CppActorMethod<Object> of(String methodName) {
    return of(methodName, Object.class);
  }

  /** A C++ actor method whose result would be returned as {@code returnType}. */
  public static <R> CppActorMethod<R> of(String methodName, Class<R> returnType) {
    return new CppActorMethod<>(methodName, returnType);
  }
}
