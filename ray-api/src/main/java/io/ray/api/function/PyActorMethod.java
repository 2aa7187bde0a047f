package io.ray.api.function;

import java.util.Objects;

/** Names a method of a Python actor, with the Java type its result is converted to. */
public class PyActorMethod<R> {

  /** The method's name. */
  public final String methodName;

  /** The Java type the result is returned as. */
  public final Class<R> returnType;

  private PyActorMethod(String methodName, Class<R> returnType) {
    this.methodName = Objects.requireNonNull(methodName, "methodName");
    this.returnType = Objects.requireNonNull(returnType, "returnType");
  }

  /** A Python actor method whose result is returned as a plain {@code Object}. */
  public static PyActorMethod<Object> of(String methodName) {
    return of(methodName, Object.class);
  }

  /** A Python actor method whose result is returned as {@code returnType}. */
  public static <R> PyActorMethod<R> of(String methodName, Class<R> returnType) {
    return new PyActorMethod<>(methodName, returnType);
  }

  /** The method's name. */
  public String getMethodName() {
    return methodName;
  }

  /** The Java type the result is returned as. */
  public Class<R> getReturnType() {
    return returnType;
  }

  @Override
  public String toString() {
    return "PyActorMethod(" + methodName + " -> " + returnType.getName() + ")";
  }
}
