package io.ray.api.fake;

import io.ray.api.PyActorHandle;
import io.ray.api.function.PyActorClass;
import io.ray.api.id.ActorId;

/** A handle to a Python actor that exists only in {@link FakeRuntime}'s records. */
public final class FakePyActorHandle implements PyActorHandle {

  private final ActorId id = ActorId.fromRandom();
  private final PyActorClass pyActorClass;

  public FakePyActorHandle(PyActorClass pyActorClass) {
    this.pyActorClass = pyActorClass;
  }

  @Override
  public ActorId getId() {
    return id;
  }

  @Override
  public String getModuleName() {
    return pyActorClass.moduleName;
  }

  @Override
  public String getClassName() {
    return pyActorClass.className;
  }
}
