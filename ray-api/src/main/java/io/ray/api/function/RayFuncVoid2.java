package io.ray.api.function;

/** A remote function of 2 arguments that returns nothing. */
@FunctionalInterface
public interface RayFuncVoid2<T0, T1> extends RayFuncVoid {

  /** Runs the function. */
  void apply(T0 t0, T1 t1) throws Exception;
}
