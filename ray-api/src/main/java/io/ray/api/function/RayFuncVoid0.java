package io.ray.api.function;

/** A remote function of no arguments that returns nothing. */
@FunctionalInterface
public interface RayFuncVoid0 extends RayFuncVoid {

  /** Runs the function. */
  void apply() throws Exception;
}
