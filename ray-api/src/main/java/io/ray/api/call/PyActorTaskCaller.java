package io.ray.api.call;

import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorMethod;
import io.ray.api.options.CallOptions;

/** A call of a Python actor's method; {@link #remote()} submits it. */
public class PyActorTaskCaller<R> {

  private final PyActorHandle actor;
  private final PyActorMethod<R> method;
  private final Object[] args;

  public PyActorTaskCaller(PyActorHandle actor, PyActorMethod<R> method, Object[] args) {
    this.actor = actor;
    this.method = method;
    this.args = args.clone();
  }

  /** Submits the call; the reference's object is its result. */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().callActor(actor, method, args, new CallOptions.Builder().build());
  }
}
