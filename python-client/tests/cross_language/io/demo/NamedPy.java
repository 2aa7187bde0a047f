package io.demo;

import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorMethod;

/** Finds a Python actor by name from Java and calls it, for test_cross_language.py. */
public class NamedPy {
  public static long incrementNamed(String name, long by) {
    PyActorHandle counter =
        Ray.<PyActorHandle>getActor(name)
            .orElseThrow(() -> new IllegalStateException("no actor named " + name));
    return counter.task(PyActorMethod.of("increment", Long.class), by).remote().get();
  }
}
