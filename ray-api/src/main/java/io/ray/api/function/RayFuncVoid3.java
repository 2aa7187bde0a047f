package io.ray.api.function;

/** A remote function of 3 arguments that returns nothing. */
@FunctionalInterface
public interface RayFuncVoid3<T0, T1, T2> extends RayFuncVoid {

  /** Runs the function. */
  void apply(T0 t0, T1 t1, T2 t2) throws Exception;
}
