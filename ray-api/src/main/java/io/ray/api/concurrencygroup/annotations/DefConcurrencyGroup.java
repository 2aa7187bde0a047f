package io.ray.api.concurrencygroup.annotations;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Declares a concurrency group on an actor class; repeat it to declare several. */
@Target(ElementType.TYPE)
@Inherited
@Repeatable(DefConcurrencyGroups.class)
@Retention(RetentionPolicy.RUNTIME)
public @interface DefConcurrencyGroup {

  /** The group's name. */
  String name() default "";

  /** How many calls of the group may run at once. */
  int maxConcurrency() default 1;
}
