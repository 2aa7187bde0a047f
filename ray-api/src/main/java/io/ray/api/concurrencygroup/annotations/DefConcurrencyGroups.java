package io.ray.api.concurrencygroup.annotations;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Holds the {@link DefConcurrencyGroup}s repeated on one actor class. */
@Target(ElementType.TYPE)
@Inherited
@Retention(RetentionPolicy.RUNTIME)
public @interface DefConcurrencyGroups {

  /** The declared groups. */
  DefConcurrencyGroup[] value();
}
