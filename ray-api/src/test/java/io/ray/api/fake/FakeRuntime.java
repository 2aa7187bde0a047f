package io.ray.api.fake;

import io.ray.api.ActorHandle;
import io.ray.api.BaseActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.WaitResult;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.PyFunction;
import io.ray.api.function.RayFunc;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.CallOptions;
import io.ray.api.runtime.RayRuntime;
import io.ray.api.runtimecontext.RuntimeContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A runtime that runs nothing: it records every call (method, target, arguments, options) and
 * answers with values already at hand.
 */
@SuppressWarnings("rawtypes")
public final class FakeRuntime implements RayRuntime {

  /** One recorded call. */
  public record Call(String method, Object target, List<Object> args, Object options) {}

  public final List<Call> calls = new CopyOnWriteArrayList<>();
  public final Map<String, BaseActorHandle> namedActors = new ConcurrentHashMap<>();
  public volatile int shutdowns;

  /** The only call recorded under {@code method}. */
  public Call only(String method) {
    List<Call> found = calls.stream().filter(c -> c.method.equals(method)).toList();
    if (found.size() != 1) {
      throw new AssertionError("Expected one " + method + " call, got " + calls);
    }
    return found.get(0);
  }

  private void record(String method, Object target, Object[] args, Object options) {
    calls.add(new Call(method, target, Arrays.asList(args), options));
  }

  @Override
  public void shutdown() {
    shutdowns++;
  }

  @Override
  public <T> ObjectRef<T> put(T obj) {
    record("put", null, new Object[] {obj}, null);
    return new FakeObjectRef<>(obj);
  }

  @Override
  public <T> T get(ObjectRef<T> objectRef, long timeoutMs) {
    record("get", objectRef, new Object[] {timeoutMs}, null);
    return objectRef.get();
  }

  @Override
  public <T> List<T> get(List<ObjectRef<T>> objectRefs, long timeoutMs) {
    record("getList", objectRefs, new Object[] {timeoutMs}, null);
    List<T> values = new ArrayList<>();
    for (ObjectRef<T> ref : objectRefs) {
      values.add(ref.get());
    }
    return values;
  }

  @Override
  public <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal) {
    record("wait", waitList, new Object[] {numReturns, timeoutMs, fetchLocal}, null);
    return new WaitResult<>(
        waitList.subList(0, numReturns), waitList.subList(numReturns, waitList.size()));
  }

  @Override
  public ObjectRef call(RayFunc func, Object[] args, CallOptions options) {
    record("call", func, args, options);
    return new FakeObjectRef<>("result of call");
  }

  @Override
  public ObjectRef call(PyFunction pyFunction, Object[] args, CallOptions options) {
    record("callPy", pyFunction, args, options);
    return new FakeObjectRef<>("result of callPy");
  }

  @Override
  public BaseActorHandle createActor(
      RayFunc actorFactoryFunc, Object[] args, ActorCreationOptions options) {
    record("createActor", actorFactoryFunc, args, options);
    return named(options, new FakeActorHandle<>());
  }

  @Override
  public BaseActorHandle createActor(
      PyActorClass pyActorClass, Object[] args, ActorCreationOptions options) {
    record("createPyActor", pyActorClass, args, options);
    return named(options, new FakePyActorHandle(pyActorClass));
  }

  private BaseActorHandle named(ActorCreationOptions options, BaseActorHandle handle) {
    if (options.getName() != null) {
      String namespace = options.getNamespace() == null ? "" : options.getNamespace();
      namedActors.put(namespace + "/" + options.getName(), handle);
    }
    return handle;
  }

  @Override
  public ObjectRef callActor(
      ActorHandle<?> actor, RayFunc func, Object[] args, CallOptions options) {
    record("callActor", actor, args, options);
    return new FakeObjectRef<>(func);
  }

  @Override
  public ObjectRef callActor(
      PyActorHandle pyActor, PyActorMethod pyActorMethod, Object[] args, CallOptions options) {
    record("callPyActor", pyActor, args, options);
    return new FakeObjectRef<>(pyActorMethod);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace) {
    record("getActor", name, new Object[] {namespace}, null);
    String key = (namespace == null ? "" : namespace) + "/" + name;
    return Optional.ofNullable((T) namedActors.get(key));
  }

  @Override
  public void killActor(BaseActorHandle actor, boolean noRestart) {
    record("killActor", actor, new Object[] {noRestart}, null);
  }

  @Override
  public void exitActor() {
    record("exitActor", null, new Object[0], null);
  }

  @Override
  public RuntimeContext getRuntimeContext() {
    record("getRuntimeContext", null, new Object[0], null);
    return null;
  }
}
