package io.ray.api.function;

/** A remote function of 3 arguments that returns a value of type {@code R}. */
@FunctionalInterface
public interface RayFunc3<T0, T1, T2, R> extends RayFuncR<R> {

  /** Runs the function. */
  R apply(T0 t0, T1 t1, T2 t2) throws Exception;
}
