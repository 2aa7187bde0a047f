package io.ray.api;

/**
 * A handle to a Java actor of class {@code A}; call it with {@code handle.task(A::method,
 * args...).remote()}. Implemented by the runtime.
 */
public interface ActorHandle<A> extends BaseActorHandle, ActorCall<A> {}
