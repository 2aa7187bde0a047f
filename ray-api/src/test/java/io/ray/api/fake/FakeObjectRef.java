package io.ray.api.fake;

import io.ray.api.ObjectRef;

/** An object reference that already holds its value. */
public final class FakeObjectRef<T> implements ObjectRef<T> {

  private final T value;

  public FakeObjectRef(T value) {
    this.value = value;
  }

  @Override
  public T get() {
    return value;
  }

  @Override
  public T get(long timeoutMs) {
    return value;
  }
}
