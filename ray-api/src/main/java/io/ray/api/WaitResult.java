package io.ray.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** What {@link Ray#wait} found: the references whose objects are ready and those still pending. */
public final class WaitResult<T> {

  private final List<ObjectRef<T>> ready;
  private final List<ObjectRef<T>> unready;

  public WaitResult(List<ObjectRef<T>> ready, List<ObjectRef<T>> unready) {
    this.ready = Collections.unmodifiableList(new ArrayList<>(ready));
    this.unready = Collections.unmodifiableList(new ArrayList<>(unready));
  }

  /** The references whose objects are ready, in the order they were given (unmodifiable). */
  public List<ObjectRef<T>> getReady() {
    return ready;
  }

  /** The references whose objects are not ready yet, in the order given (unmodifiable). */
  public List<ObjectRef<T>> getUnready() {
    return unready;
  }
}
