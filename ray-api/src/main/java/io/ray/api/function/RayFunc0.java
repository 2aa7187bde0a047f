package io.ray.api.function;

/** A remote function of no arguments that returns a value of type {@code R}. */
@FunctionalInterface
public interface RayFunc0<R> extends RayFuncR<R> {

  /** Runs the function. */
  R apply() throws Exception;
}
