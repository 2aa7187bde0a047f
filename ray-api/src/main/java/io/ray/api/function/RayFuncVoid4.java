package io.ray.api.function;

/** A remote function of 4 arguments that returns nothing. */
@FunctionalInterface
public interface RayFuncVoid4<T0, T1, T2, T3> extends RayFuncVoid {

  /** Runs the function. */
  void apply(T0 t0, T1 t1, T2 t2, T3 t3) throws Exception;
}
