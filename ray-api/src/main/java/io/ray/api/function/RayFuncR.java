package io.ray.api.function;

/** A remote function whose result has type {@code R}. */
public interface RayFuncR<R> extends RayFunc {}
