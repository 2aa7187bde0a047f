package io.ray.api.function;

import java.util.Objects;

/** Names a Python class (module and class name) that Java code creates actors of. */
public class PyActorClass {

  /** The Python module, for example {@code "my_package.my_module"}. */
  public final String moduleName;

  /** The class's name inside the module. */
  public final String className;

  private PyActorClass(String moduleName, String className) {
    this.moduleName = Objects.requireNonNull(moduleName, "moduleName");
    this.className = Objects.requireNonNull(className, "className");
  }

  /** The Python class {@code className} of module {@code moduleName}. */
  public static PyActorClass of(String moduleName, String className) {
    return new PyActorClass(moduleName, className);
  }

  /** The Python module. */
  public String getModuleName() {
    return moduleName;
  }

  /** The class's name inside the module. */
  public String getClassName() {
    return className;
  }

  @Override
  public String toString() {
    return "PyActorClass(" + moduleName + "." + className + ")";
  }
}
