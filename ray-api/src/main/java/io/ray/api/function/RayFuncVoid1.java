package io.ray.api.function;

/** A remote function of one argument that returns nothing. */
@FunctionalInterface
public interface RayFuncVoid1<T0> extends RayFuncVoid {

  /** Runs the function. */
  void apply(T0 t0) throws Exception;
}
