package io.ray.examples;

import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import java.util.List;

/**
 * Calling Python from Java, as Ray's cross-language documentation shows: Python functions and a
 * Python actor, by module and name, values crossing in Ray's cross-language format. The local
 * cluster Ray.init() starts runs Python workers with the interpreter RAY_PYTHON names (one with
 * this project's ray package): {@code make run-java-python}.
 */
public class CallPython {
  public static void main(String[] args) {
    Ray.init();
    double root = Ray.task(PyFunction.of("math", "sqrt", Double.class), 2.0).remote().get();
    System.out.println("math.sqrt(2) = " + root);
    List<?> sorted =
        Ray.task(PyFunction.of("builtins", "sorted", List.class), List.of(3, 1, 2)).remote().get();
    System.out.println("sorted([3, 1, 2]) = " + sorted);
    PyActorHandle list = Ray.actor(PyActorClass.of("builtins", "list")).remote();
    list.task(PyActorMethod.of("append", Object.class), "from Java").remote().get();
    int count = list.task(PyActorMethod.of("count", Integer.class), "from Java").remote().get();
    System.out.println("a Python list actor holds our value " + count + " time(s)");
    Ray.shutdown();
  }
}
