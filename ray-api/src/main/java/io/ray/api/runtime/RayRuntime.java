package io.ray.api.runtime;

import io.ray.api.ActorHandle;
import io.ray.api.BaseActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.WaitResult;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.function.RayFunc;
import io.ray.api.id.PlacementGroupId;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.CallOptions;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.runtimecontext.RuntimeContext;
import java.util.List;
import java.util.Optional;

/**
 * What an engine implements to serve Ray's Java API: {@link io.ray.api.Ray} and the call builders
 * hand every request to the one instance that {@link RayRuntimeFactory} created. Methods may be
 * called from any thread.
 */
@SuppressWarnings("rawtypes")
public interface RayRuntime {

  /** Disconnects from Ray and frees what this process holds; called once, by Ray.shutdown(). */
  void shutdown();

  /** Stores {@code obj} in the object store and returns a reference to it. */
  <T> ObjectRef<T> put(T obj);

  /**
   * Waits for an object and returns it.
   *
   * @param timeoutMs how long to wait at most; negative: without limit
   * @throws io.ray.api.exception.RayTimeoutException if the object is not ready in time
   * @throws io.ray.api.exception.RayTaskException if the task that makes it failed
   * @throws io.ray.api.exception.RayActorException if the actor that makes it died
   */
  <T> T get(ObjectRef<T> objectRef, long timeoutMs);

  /**
   * Waits for objects and returns them in the order of {@code objectRefs}.
   *
   * @param timeoutMs how long to wait at most for all of them; negative: without limit
   * @throws io.ray.api.exception.RayTimeoutException if they are not all ready in time
   */
  <T> List<T> get(List<ObjectRef<T>> objectRefs, long timeoutMs);

  /**
   * Waits until {@code numReturns} of the objects are ready or the time is up.
   *
   * @param numReturns how many ready objects to wait for, at most {@code waitList.size()}
   * @param timeoutMs how long to wait at most; negative: without limit
   * @param fetchLocal whether an object counts as ready only once it is on this node
   * @return the ready references (at most {@code numReturns}) and the others, each in the order of
   *     {@code waitList}
   */
  <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal);

  /**
   * Submits a Java task.
   *
   * @param func the static method or lambda to run
   * @param args its arguments; an {@link ObjectRef} stands for the object it refers to
   * @return a reference to the task's result (for a void function, the runtime's choice)
   */
  ObjectRef call(RayFunc func, Object[] args, CallOptions options);

  /**
   * Submits a Python task.
   *
   * @return a reference to the task's result, converted to {@code pyFunction.returnType}
   */
  ObjectRef call(PyFunction pyFunction, Object[] args, CallOptions options);

  /**
   * Creates a Java actor.
   *
   * @param actorFactoryFunc the constructor or factory method that makes the actor
   * @return an {@link ActorHandle} to the new actor
   */
  BaseActorHandle createActor(
      RayFunc actorFactoryFunc, Object[] args, ActorCreationOptions options);

  /**
   * Creates a Python actor.
   *
   * @return a {@link PyActorHandle} to the new actor
   */
  BaseActorHandle createActor(
      PyActorClass pyActorClass, Object[] args, ActorCreationOptions options);

  /**
   * Submits a call of a Java actor's method.
   *
   * @param func the method; its first parameter is the actor
   * @param args the arguments after the actor
   * @return a reference to the call's result (for a void method, the runtime's choice)
   */
  ObjectRef callActor(ActorHandle<?> actor, RayFunc func, Object[] args, CallOptions options);

  /**
   * Submits a call of a Python actor's method.
   *
   * @return a reference to the call's result, converted to {@code pyActorMethod.returnType}
   */
  ObjectRef callActor(
      PyActorHandle pyActor, PyActorMethod pyActorMethod, Object[] args, CallOptions options);

  /**
   * Finds a named actor.
   *
   * @param namespace the actor's namespace; null: the current job's
   * @return a handle to it, or empty if no live actor has that name
   */
  <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace);

  /**
   * Kills an actor at once.
   *
   * @param noRestart true to keep it dead; false to let it restart if its options allow
   */
  void killActor(BaseActorHandle actor, boolean noRestart);

  /**
   * Ends the current actor cleanly, without restarting it. It need not return: it may throw {@link
   * io.ray.api.exception.RayIntentionalSystemExitException} to unwind the running call.
   *
   * @throws IllegalStateException if not called inside an actor
   */
  void exitActor();

  /** What the running code can learn about where it runs. */
  RuntimeContext getRuntimeContext();

  /** Reserves a new placement group (asynchronously: see {@link PlacementGroup#wait}). */
  default PlacementGroup createPlacementGroup(PlacementGroupCreationOptions options) {
    throw unsupported("createPlacementGroup");
  }

  /** The placement group {@code id} as it is now, or null. */
  default PlacementGroup getPlacementGroup(PlacementGroupId id) {
    throw unsupported("getPlacementGroup");
  }

  /** The placement group named {@code name} in {@code namespace} (null: the job's), or null. */
  default PlacementGroup getPlacementGroup(String name, String namespace) {
    throw unsupported("getPlacementGroup");
  }

  /** Every placement group of the cluster. */
  default List<PlacementGroup> getAllPlacementGroups() {
    throw unsupported("getAllPlacementGroups");
  }

  /** Removes a placement group: its bundles are freed, what runs in it is stopped. */
  default void removePlacementGroup(PlacementGroupId id) {
    throw unsupported("removePlacementGroup");
  }

  /** Waits up to {@code timeoutSeconds} for the group's bundles to be reserved. */
  default boolean waitPlacementGroupReady(PlacementGroupId id, int timeoutSeconds) {
    throw unsupported("waitPlacementGroupReady");
  }

  /** A new, empty runtime environment ({@code new RuntimeEnv.Builder().build()}). */
  default io.ray.api.runtimeenv.RuntimeEnv createRuntimeEnv() {
    throw unsupported("createRuntimeEnv");
  }

  /**
   * A runtime environment read from {@link io.ray.api.runtimeenv.RuntimeEnv#serialize()}'s form.
   */
  default io.ray.api.runtimeenv.RuntimeEnv deserializeRuntimeEnv(String serialized) {
    throw unsupported("deserializeRuntimeEnv");
  }

  private static UnsupportedOperationException unsupported(String method) {
    return new UnsupportedOperationException(
        "RayRuntime." + method + " is not supported by this runtime");
  }
}
