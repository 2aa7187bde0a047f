package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncR;

/** A Java task call that returns a value: set its options, then {@link #remote()}. */
public class TaskCaller<R> extends BaseTaskCaller<TaskCaller<R>> {

  private final RayFuncR<R> func;
  private final Object[] args;

  public TaskCaller(RayFuncR<R> func, Object[] args) {
    this.func = func;
    this.args = args.clone();
  }

  /** Submits the task; the reference's object is its result. */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().call(func, args, buildOptions());
  }
}
