package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.exception.CrossLanguageException;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A Java driver calling Python on the real engine: the driver's own node runs Python workers (the
 * interpreter RAY_PYTHON names; `make test` sets it), which run standard-library functions and a
 * list as an actor, values and errors crossing both ways.
 */
class CrossLanguageITCase {
  @BeforeAll
  static void start() {
    String python = System.getenv("RAY_PYTHON");
    Assumptions.assumeTrue(
        python != null && Files.isExecutable(Path.of(python)),
        "RAY_PYTHON names no interpreter (make test sets it)");
    Ray.init();
  }

  @AfterAll
  static void stop() {
    Ray.shutdown();
  }

  @Test
  void pythonFunctionsTakeAndGiveCrossLanguageValues() {
    assertEquals(3.0, Ray.task(PyFunction.of("math", "sqrt", Double.class), 9).remote().get());
    assertEquals(7, Ray.task(PyFunction.of("operator", "add", Integer.class), 3, 4).remote().get());
    assertEquals(
        List.of(1L, 2L, 3L),
        Ray.task(PyFunction.of("builtins", "sorted", List.class), List.of(3, 1, 2)).remote().get());
    assertEquals(
        "ab", Ray.task(PyFunction.of("operator", "concat", String.class), "a", "b").remote().get());
  }

  @Test
  void pythonExceptionsArriveAsCrossLanguageExceptions() {
    CrossLanguageException e =
        assertThrows(
            CrossLanguageException.class,
            () -> Ray.task(PyFunction.of("math", "sqrt", Double.class), -1).remote().get());
    assertTrue(e.getMessage().contains("ValueError: math domain error"), e.getMessage());
    CrossLanguageException missing =
        assertThrows(
            CrossLanguageException.class,
            () -> Ray.task(PyFunction.of("no_such_module", "f", Object.class)).remote().get());
    assertTrue(missing.getMessage().contains("no_such_module"), missing.getMessage());
  }

  @Test
  void aPythonActorKeepsItsState() {
    PyActorHandle list = Ray.actor(PyActorClass.of("builtins", "list")).remote();
    list.task(PyActorMethod.of("append", Object.class), 5).remote().get();
    list.task(PyActorMethod.of("append", Object.class), 5).remote().get();
    assertEquals(2, list.task(PyActorMethod.of("count", Integer.class), 5).remote().get());
  }
}
