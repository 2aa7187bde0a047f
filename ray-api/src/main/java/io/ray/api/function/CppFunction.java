package io.ray.api.function;

import java.util.Objects;

/**
 * Names a C++ remote function. It exists so that code written for Ray compiles; this runtime cannot
 * call C++ functions.
 */
public class CppFunction<R> {

  /** The function's registered name. */
  public final String functionName;

  /** The Java type the result would be returned as. */
  public final Class<R> returnType;

  private CppFunction(String functionName, Class<R> returnType) {
    this.functionName = Objects.requireNonNull(functionName, "functionName");
    this.returnType = Objects.requireNonNull(returnType, "returnType");
  }

  /** A C++ function whose result would be returned as a plain {@code Object}. */
  public static CppFunction<Object> of(String functionName) {
    return of(functionName, Object.class);
  }

  /** A C++ function whose result would be returned as {@code returnType}. */
  public static <R> CppFunction<R> of(String functionName, Class<R> returnType) {
    return new CppFunction<>(functionName, returnType);
  }
}
