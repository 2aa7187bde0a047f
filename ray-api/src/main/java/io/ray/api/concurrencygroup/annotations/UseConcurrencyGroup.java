package io.ray.api.concurrencygroup.annotations;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Runs an actor method in the named concurrency group of its class. */
@Target(ElementType.METHOD)
@Inherited
@Retention(RetentionPolicy.RUNTIME)
public @interface UseConcurrencyGroup {

  /** The group's name. */
  String name() default "";
}
