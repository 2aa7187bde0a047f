package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.function.RayFunc;
import io.ray.engine.rpc.FunctionDescriptor;
import io.ray.engine.rpc.Language;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Executable;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Java functions by name: a caller turns a method reference or lambda ({@link RayFunc}, which is
 * Serializable) into the class, method name and JVM descriptor of the method it calls; a worker
 * loads that method from the job's code search path. Pure functions.
 */
public final class JavaFunctions {
  private JavaFunctions() {}

  /**
   * What {@link #describe} found per lambda class (a method reference's or lambda's class is made
   * once per call site, and what it calls is a property of the class): a descriptor, or the error
   * to raise.
   */
  private static final java.util.concurrent.ConcurrentHashMap<Class<?>, Object> DESCRIPTORS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Methods found by {@link #load}, per class loader and descriptor. */
  private static final java.util.concurrent.ConcurrentHashMap<LoadKey, Executable> LOADED =
      new java.util.concurrent.ConcurrentHashMap<>();

  private record LoadKey(ClassLoader loader, FunctionDescriptor fd, int arity) {}

  /** The function a method reference or (non-capturing) lambda calls. */
  public static FunctionDescriptor describe(RayFunc func) {
    Object known = DESCRIPTORS.get(func.getClass());
    if (known == null) {
      try {
        known = describeNow(func);
      } catch (IllegalArgumentException e) {
        known = e;
      }
      DESCRIPTORS.putIfAbsent(func.getClass(), known);
    }
    if (known instanceof IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage(), e.getCause());
    }
    return (FunctionDescriptor) known;
  }

  private static FunctionDescriptor describeNow(RayFunc func) {
    SerializedLambda lambda = serializedForm(func);
    if (lambda.getCapturedArgCount() > 0) {
      throw new IllegalArgumentException(
          "A lambda that captures variables cannot be a remote function: pass them as arguments ("
              + lambda.getImplClass().replace('/', '.')
              + "."
              + lambda.getImplMethodName()
              + ")");
    }
    String className = lambda.getImplClass().replace('/', '.');
    String name = lambda.getImplMethodName();
    String signature = lambda.getImplMethodSignature();
    return FunctionDescriptor.newBuilder()
        .setLanguage(Language.JAVA)
        .setClassName(className)
        .setFunctionName(name)
        .setSignature(signature)
        .setFunctionId(id(className + "." + name + signature))
        .build();
  }

  private static SerializedLambda serializedForm(RayFunc func) {
    try {
      Method writeReplace = func.getClass().getDeclaredMethod("writeReplace");
      writeReplace.setAccessible(true);
      return (SerializedLambda) writeReplace.invoke(func);
    } catch (ReflectiveOperationException | ClassCastException e) {
      throw new IllegalArgumentException(
          "A remote function must be a method reference or a lambda, got "
              + func.getClass().getName(),
          e);
    }
  }

  /**
   * The method (or constructor, for "<init>") a descriptor names, loaded with {@code loader}. A
   * descriptor without a signature (a call from Python, which names only the class and method)
   * takes the one method of that name with {@code arity} parameters.
   */
  public static Executable load(FunctionDescriptor fd, ClassLoader loader, int arity) {
    LoadKey key = new LoadKey(loader, fd, fd.getSignature().isEmpty() ? arity : -1);
    Executable found = LOADED.get(key);
    if (found == null) {
      found = loadNow(fd, loader, arity);
      LOADED.putIfAbsent(key, found);
    }
    return found;
  }

  private static Executable loadNow(FunctionDescriptor fd, ClassLoader loader, int arity) {
    Class<?> cls;
    try {
      cls = Class.forName(fd.getClassName(), true, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException(
          "Class "
              + fd.getClassName()
              + " is not in the job's code search path (-Dray.job.code-search-path): "
              + e,
          e);
    }
    if (fd.getSignature().isEmpty()) {
      return byArity(cls, fd, arity);
    }
    if (fd.getFunctionName().equals("<init>")) {
      for (var c : cls.getDeclaredConstructors()) {
        if (descriptor(c.getParameterTypes(), void.class).equals(fd.getSignature())) {
          c.setAccessible(true);
          return c;
        }
      }
    } else {
      for (Method m : cls.getDeclaredMethods()) {
        if (m.getName().equals(fd.getFunctionName())
            && descriptor(m.getParameterTypes(), m.getReturnType()).equals(fd.getSignature())) {
          m.setAccessible(true);
          return m;
        }
      }
    }
    throw new IllegalArgumentException(
        "Method "
            + fd.getClassName()
            + "."
            + fd.getFunctionName()
            + fd.getSignature()
            + " does not exist in the job's code search path");
  }

  private static Executable byArity(Class<?> cls, FunctionDescriptor fd, int arity) {
    java.util.List<Executable> found = new java.util.ArrayList<>();
    if (fd.getFunctionName().equals("<init>")) {
      for (var c : cls.getDeclaredConstructors()) {
        if (c.getParameterCount() == arity) {
          found.add(c);
        }
      }
    } else {
      for (Method m : cls.getDeclaredMethods()) {
        if (m.getName().equals(fd.getFunctionName()) && m.getParameterCount() == arity) {
          found.add(m);
        }
      }
    }
    String what = fd.getClassName() + "." + fd.getFunctionName();
    if (found.isEmpty()) {
      throw new IllegalArgumentException(
          "Method "
              + what
              + " with "
              + arity
              + " parameters does not exist in the job's code search path");
    }
    if (found.size() > 1) {
      throw new IllegalArgumentException(
          "Method "
              + what
              + " has "
              + found.size()
              + " overloads with "
              + arity
              + " parameters: a"
              + " call from another language cannot choose between them");
    }
    found.get(0).setAccessible(true);
    return found.get(0);
  }

  /** The JVM descriptor of a method, e.g. "(I[D)Ljava/lang/String;". */
  static String descriptor(Class<?>[] params, Class<?> returns) {
    StringBuilder b = new StringBuilder("(");
    for (Class<?> p : params) {
      b.append(typeDescriptor(p));
    }
    return b.append(')').append(typeDescriptor(returns)).toString();
  }

  private static String typeDescriptor(Class<?> c) {
    if (c.isArray()) {
      return c.getName().replace('.', '/');
    }
    if (c.isPrimitive()) {
      return switch (c.getName()) {
        case "int" -> "I";
        case "long" -> "J";
        case "double" -> "D";
        case "float" -> "F";
        case "boolean" -> "Z";
        case "byte" -> "B";
        case "char" -> "C";
        case "short" -> "S";
        default -> "V";
      };
    }
    return "L" + c.getName().replace('.', '/') + ";";
  }

  /** A stable id for a function (its scheduling class): the SHA-1 of its name. */
  public static ByteString id(String name) {
    return ByteString.copyFrom(sha1(name));
  }

  private static byte[] sha1(String s) {
    try {
      return MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
