package io.ray.api.function;

import java.util.Objects;

/**
 * Names a Python function (module and function name) that Java code calls as a remote task, with
 * the Java type its result is converted to.
 */
public class PyFunction<R> {

  /** The Python module, for example {@code "my_package.my_module"}. */
  public final String moduleName;

  /** The function's name inside the module. */
  public final String functionName;

  /** The Java type the result is returned as. */
  public final Class<R> returnType;

  private PyFunction(String moduleName, String functionName, Class<R> returnType) {
    this.moduleName = Objects.requireNonNull(moduleName, "moduleName");
    this.functionName = Objects.requireNonNull(functionName, "functionName");
    this.returnType = Objects.requireNonNull(returnType, "returnType");
  }

  /** A Python function whose result is returned as a plain {@code Object}. */
  public static PyFunction<Object> of(String moduleName, String functionName) {
    return of(moduleName, functionName, Object.class);
  }

  /** A Python function whose result is returned as {@code returnType}. */
  public static <R> PyFunction<R> of(String moduleName, String functionName, Class<R> returnType) {
    return new PyFunction<>(moduleName, functionName, returnType);
  }

  /** The Python module. */
  public String getModuleName() {
    return moduleName;
  }

  /** The function's name inside the module. */
  public String getFunctionName() {
    return functionName;
  }

  /** The Java type the result is returned as. */
  public Class<R> getReturnType() {
    return returnType;
  }

  @Override
  public String toString() {
    return "PyFunction(" + moduleName + "." + functionName + " -> " + returnType.getName() + ")";
  }
}
