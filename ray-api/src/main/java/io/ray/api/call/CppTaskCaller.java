package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.function.CppFunction;

/** A call of a C++ function as a task; this runtime cannot run it. */
public class CppTaskCaller<R> extends BaseTaskCaller<CppTaskCaller<R>> {

  private final CppFunction<R> func;
  private final Object[] args;

  public CppTaskCaller(CppFunction<R> func, Object[] args) {
    this.func = func;
    this.args = args.clone();
  }

  /**
   * Would submit the task.
   *
   * @throws UnsupportedOperationException always: C++ tasks are not supported
   */
  public ObjectRef<R> remote() {
    throw new UnsupportedOperationException(
        "CppTaskCaller.remote is not supported by this Ray (Ray on the JVM) yet: cannot call C++"
            + " function "
            + func.functionName
            + " with "
            + args.length
            + " arguments");
  }
}
