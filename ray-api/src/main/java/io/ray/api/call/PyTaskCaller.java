package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.function.PyFunction;

/** A call of a Python function as a task: set its options, then {@link #remote()}. */
public class PyTaskCaller<R> extends BaseTaskCaller<PyTaskCaller<R>> {

  private final PyFunction<R> func;
  private final Object[] args;

  public PyTaskCaller(PyFunction<R> func, Object[] args) {
    this.func = func;
    this.args = args.clone();
  }

  /** Submits the task; the reference's object is its result. */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().call(func, args, buildOptions());
  }
}
