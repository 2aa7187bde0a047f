package io.ray.api.call;

import io.ray.api.ActorHandle;
import io.ray.api.Ray;
import io.ray.api.concurrencygroup.ConcurrencyGroup;
import io.ray.api.function.RayFuncR;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.List;

/** Creates a Java actor of class {@code A}: set its options, then {@link #remote()}. */
public class ActorCreator<A> extends BaseActorCreator<ActorCreator<A>> {

  private final RayFuncR<A> func;
  private final Object[] args;

  public ActorCreator(RayFuncR<A> func, Object[] args) {
    this.func = func;
    this.args = args.clone();
  }

  /** Sets extra options for the JVM the actor runs in, for example {@code -Xmx1g}. */
  public ActorCreator<A> setJvmOptions(List<String> jvmOptions) {
    builder.setJvmOptions(jvmOptions);
    return this;
  }

  /** Creates the actor and returns a handle to it; the creation itself runs asynchronously. */
  @SuppressWarnings("unchecked")
  public ActorHandle<A> remote() {
    return (ActorHandle<A>) Ray.internal().createActor(func, args, buildOptions());
  }

  /** Sets the actor's concurrency groups. */
  public ActorCreator<A> setConcurrencyGroups(ConcurrencyGroup... groups) {
    builder.setConcurrencyGroups(List.of(groups));
    return this;
  }

  /** Runs the actor in {@code runtimeEnv}. */
  public ActorCreator<A> setRuntimeEnv(RuntimeEnv runtimeEnv) {
    builder.setRuntimeEnv(runtimeEnv);
    return this;
  }
}
