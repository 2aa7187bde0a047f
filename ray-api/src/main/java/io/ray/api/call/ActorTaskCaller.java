package io.ray.api.call;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncR;
import io.ray.api.options.CallOptions;

/** A call of a Java actor's method that returns a value: set options, then {@link #remote()}. */
public class ActorTaskCaller<R> {

  private final ActorHandle<?> actor;
  private final RayFuncR<R> func;
  private final Object[] args;
  private final CallOptions.Builder builder = new CallOptions.Builder();

  public ActorTaskCaller(ActorHandle<?> actor, RayFuncR<R> func, Object[] args) {
    this.actor = actor;
    this.func = func;
    this.args = args.clone();
  }

  /** Runs the call in the actor's concurrency group {@code name}. */
  public ActorTaskCaller<R> setConcurrencyGroup(String name) {
    builder.setConcurrencyGroupName(name);
    return this;
  }

  /** Submits the call; the reference's object is its result. */
  @SuppressWarnings("unchecked")
  public ObjectRef<R> remote() {
    return Ray.internal().callActor(actor, func, args, builder.build());
  }
}
