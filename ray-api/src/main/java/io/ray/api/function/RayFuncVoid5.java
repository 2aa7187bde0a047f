package io.ray.api.function;

/** A remote function of 5 arguments that returns nothing. */
@FunctionalInterface
public interface RayFuncVoid5<T0, T1, T2, T3, T4> extends RayFuncVoid {

  /** Runs the function. */
  void apply(T0 t0, T1 t1, T2 t2, T3 t3, T4 t4) throws Exception;
}
