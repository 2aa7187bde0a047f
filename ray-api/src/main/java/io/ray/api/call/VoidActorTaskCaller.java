package io.ray.api.call;

import io.ray.api.ActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.RayFuncVoid;
import io.ray.api.options.CallOptions;

/** A call of a Java actor's method that returns nothing: set options, then {@link #remote()}. */
public class VoidActorTaskCaller {

  private final ActorHandle<?> actor;
  private final RayFuncVoid func;
  private final Object[] args;
  private final CallOptions.Builder builder = new CallOptions.Builder();

  public VoidActorTaskCaller(ActorHandle<?> actor, RayFuncVoid func, Object[] args) {
    this.actor = actor;
    this.func = func;
    this.args = args.clone();
  }

  /** Runs the call in the actor's concurrency group {@code name}. */
  public VoidActorTaskCaller setConcurrencyGroup(String name) {
    builder.setConcurrencyGroupName(name);
    return this;
  }

  /** Submits the call. */
  public void remote() {
    Ray.internal().callActor(actor, func, args, builder.build());
  }
}
