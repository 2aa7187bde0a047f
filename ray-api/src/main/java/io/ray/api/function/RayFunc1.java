package io.ray.api.function;

/** A remote function of one argument that returns a value of type {@code R}. */
@FunctionalInterface
public interface RayFunc1<T0, R> extends RayFuncR<R> {

  /** Runs the function. */
  R apply(T0 t0) throws Exception;
}
