package io.demo;

import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.exception.CrossLanguageException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import java.util.List;
import java.util.Map;

/** A Java driver calling Python functions, for test_cross_language.py. */
public class CallPython {
  /** A one-argument Python function of py_ops, its result read as {@code type}. */
  private static <R> R call(String function, Class<R> type, Object arg) {
    return Ray.task(PyFunction.of("py_ops", function, type), arg).remote().get();
  }

  public static void main(String[] args) {
    Ray.init();
    System.out.println("add " + Ray.task(PyFunction.of("py_ops", "add", Integer.class), 2, 3).remote().get());
    System.out.println("echo null " + call("echo", Object.class, null));
    System.out.println("echo bool " + call("echo", Boolean.class, true));
    System.out.println("echo long " + call("echo", Long.class, 1L << 40));
    System.out.println("echo double " + call("echo", Double.class, 2.5));
    System.out.println("echo string " + call("echo", String.class, "héllo"));
    byte[] bytes = call("echo", byte[].class, new byte[] {1, 2, 3});
    System.out.println("echo bytes " + bytes.length + " " + bytes[2]);
    System.out.println("echo list " + call("echo", List.class, List.of(1, "a", List.of(2))));
    System.out.println("echo map " + call("echo", Map.class, Map.of("k", List.of(1, 2))));
    System.out.println("describe " + call("describe", String.class, Map.of("n", 1)));
    try {
      call("fail", String.class, "bad input");
      System.out.println("no exception");
    } catch (CrossLanguageException e) {
      System.out.println("raised " + e.getMessage().contains("ValueError: bad input"));
    }
    PyActorHandle counter = Ray.actor(PyActorClass.of("py_ops", "PyCounter"), 10).remote();
    int first = counter.task(PyActorMethod.of("increment", Integer.class), 5).remote().get();
    int second = counter.task(PyActorMethod.of("increment", Integer.class), 5).remote().get();
    System.out.println("py actor " + first + " " + second);
    Ray.shutdown();
  }
}
