package io.ray.api.call;

import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorClass;

/** Creates a Python actor: set its options, then {@link #remote()}. */
public class PyActorCreator extends BaseActorCreator<PyActorCreator> {

  private final PyActorClass pyActorClass;
  private final Object[] args;

  public PyActorCreator(PyActorClass pyActorClass, Object[] args) {
    this.pyActorClass = pyActorClass;
    this.args = args.clone();
  }

  /** Makes the actor an asyncio actor. */
  public PyActorCreator setAsync(boolean isAsync) {
    builder.setAsync(isAsync);
    return this;
  }

  /** Creates the actor and returns a handle to it; the creation itself runs asynchronously. */
  public PyActorHandle remote() {
    return (PyActorHandle) Ray.internal().createActor(pyActorClass, args, buildOptions());
  }
}
