package io.ray.api.function;

import java.io.Serializable;

/**
 * A function that can run remotely. Implementations are serializable lambdas or method references,
 * from which the runtime recovers the class and method they name.
 */
public interface RayFunc extends Serializable {}
