package io.ray.api.function;

/** A remote function of 2 arguments that returns a value of type {@code R}. */
@FunctionalInterface
public interface RayFunc2<T0, T1, R> extends RayFuncR<R> {

  /** Runs the function. */
  R apply(T0 t0, T1 t1) throws Exception;
}
