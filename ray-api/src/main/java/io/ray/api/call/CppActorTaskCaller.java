package io.ray.api.call;

import io.ray.api.CppActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.function.CppActorMethod;

/** A call of a C++ actor's method; this runtime cannot run it. */
public class CppActorTaskCaller<R> {

  private final CppActorHandle actor;
  private final CppActorMethod<R> method;
  private final Object[] args;

  public CppActorTaskCaller(CppActorHandle actor, CppActorMethod<R> method, Object[] args) {
    this.actor = actor;
    this.method = method;
    this.args = args.clone();
  }

  /**
   * Would submit the call.
   *
   * @throws UnsupportedOperationException always: C++ actors are not supported
   */
  public ObjectRef<R> remote() {
    throw new UnsupportedOperationException(
        "CppActorTaskCaller.remote is not supported by this Ray (Ray on the JVM) yet: cannot call"
            + " C++ method "
            + method.methodName
            + " of actor "
            + actor.getId()
            + " with "
            + args.length
            + " arguments");
  }
}
