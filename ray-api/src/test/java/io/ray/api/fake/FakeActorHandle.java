package io.ray.api.fake;

import io.ray.api.ActorHandle;
import io.ray.api.id.ActorId;

/** A handle to a Java actor that exists only in {@link FakeRuntime}'s records. */
public final class FakeActorHandle<A> implements ActorHandle<A> {

  private final ActorId id = ActorId.fromRandom();

  @Override
  public ActorId getId() {
    return id;
  }
}
