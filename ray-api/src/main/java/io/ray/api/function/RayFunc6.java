package io.ray.api.function;

/** A remote function of 6 arguments that returns a value of type {@code R}. */
@FunctionalInterface
public interface RayFunc6<T0, T1, T2, T3, T4, T5, R> extends RayFuncR<R> {

  /** Runs the function. */
  R apply(T0 t0, T1 t1, T2 t2, T3 t3, T4 t4, T5 t5) throws Exception;
}
