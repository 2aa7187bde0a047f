package io.ray.api.call;

import io.ray.api.Ray;
import io.ray.api.function.RayFuncVoid;

/** A Java task call that returns nothing: set its options, then {@link #remote()}. */
public class VoidTaskCaller extends BaseTaskCaller<VoidTaskCaller> {

  private final RayFuncVoid func;
  private final Object[] args;

  public VoidTaskCaller(RayFuncVoid func, Object[] args) {
    this.func = func;
    this.args = args.clone();
  }

  /** Submits the task. */
  public void remote() {
    Ray.internal().call(func, args, buildOptions());
  }
}
