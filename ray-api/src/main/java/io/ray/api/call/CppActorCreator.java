package io.ray.api.call;

import io.ray.api.CppActorHandle;
import io.ray.api.function.CppActorClass;

/** Creates a C++ actor; this runtime cannot. */
public class CppActorCreator extends BaseActorCreator<CppActorCreator> {

  private final CppActorClass cppActorClass;
  private final Object[] args;

  public CppActorCreator(CppActorClass cppActorClass, Object[] args) {
    this.cppActorClass = cppActorClass;
    this.args = args.clone();
  }

  /**
   * Would create the actor.
   *
   * @throws UnsupportedOperationException always: C++ actors are not supported
   */
  public CppActorHandle remote() {
    throw new UnsupportedOperationException(
        "CppActorCreator.remote is not supported by this Ray (Ray on the JVM) yet: cannot create"
            + " C++ actor "
            + cppActorClass.className
            + " with "
            + args.length
            + " arguments");
  }
}
