package io.ray.runtime;

import com.google.protobuf.ByteString;
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
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.ControlServiceGrpc;
import io.ray.engine.rpc.FunctionDescriptor;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.Language;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.TaskArg;
import io.ray.engine.rpc.TaskSpec;
import io.ray.runtime.serialization.CrossLanguageCodec;
import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a Java driver and a Java worker share of Ray's Java API: objects, waits and Java tasks, over
 * the process's {@link ClientCore}. Thread-safe.
 */
abstract class JavaRuntime implements RayRuntime {
  /** Ray's default for a task's retries after its worker dies. */
  private static final int DEFAULT_MAX_RETRIES = 3;

  protected final ClientCore core;
  protected final ByteString nodeId;
  protected final String namespace;
  private final ControlServiceGrpc.ControlServiceBlockingStub control;

  /**
   * @param namespace the job's namespace for actor names
   * @param control the control service (named actors)
   */
  JavaRuntime(
      ClientCore core,
      ByteString nodeId,
      String namespace,
      ControlServiceGrpc.ControlServiceBlockingStub control) {
    this.core = core;
    this.nodeId = nodeId;
    this.namespace = namespace;
    this.control = control;
  }

  /** The task whose code runs now (a worker's current task); empty for a driver. */
  protected ByteString parentTaskId() {
    return ByteString.EMPTY;
  }

  @Override
  public <T> ObjectRef<T> put(T obj) {
    return core.put(obj);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T get(ObjectRef<T> objectRef, long timeoutMs) {
    return (T)
        ((ObjectRefImpl<?>) objectRef).fit(core.get(List.of(idOf(objectRef)), timeoutMs).get(0));
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> List<T> get(List<ObjectRef<T>> objectRefs, long timeoutMs) {
    List<ByteString> ids = new ArrayList<>(objectRefs.size());
    for (ObjectRef<T> r : objectRefs) {
      ids.add(idOf(r));
    }
    List<Object> values = core.get(ids, timeoutMs);
    for (int i = 0; i < values.size(); i++) {
      values.set(i, ((ObjectRefImpl<?>) objectRefs.get(i)).fit(values.get(i)));
    }
    return (List<T>) values;
  }

  @Override
  public <T> WaitResult<T> wait(
      List<ObjectRef<T>> waitList, int numReturns, int timeoutMs, boolean fetchLocal) {
    if (numReturns < 0 || numReturns > waitList.size()) {
      throw new IllegalArgumentException(
          "numReturns must be between 0 and the number of refs ("
              + waitList.size()
              + "), got "
              + numReturns);
    }
    List<ByteString> ids = new ArrayList<>(waitList.size());
    for (ObjectRef<T> r : waitList) {
      ids.add(idOf(r));
    }
    List<Integer> ready = core.wait(ids, numReturns, timeoutMs, fetchLocal);
    List<ObjectRef<T>> readyRefs = new ArrayList<>();
    List<ObjectRef<T>> unready = new ArrayList<>();
    boolean[] isReady = new boolean[waitList.size()];
    // As Ray: at most numReturns refs are ready (the first in the list); the others are not.
    for (int i : ready.subList(0, Math.min(numReturns, ready.size()))) {
      isReady[i] = true;
    }
    for (int i = 0; i < waitList.size(); i++) {
      (isReady[i] ? readyRefs : unready).add(waitList.get(i));
    }
    return new WaitResult<>(readyRefs, unready);
  }

  @Override
  public ObjectRef call(RayFunc func, Object[] args, CallOptions options) {
    FunctionDescriptor fd = JavaFunctions.describe(func);
    TaskOptions o = TaskOptions.of(options);
    ByteString taskId = Ids.newTaskId(core.jobId);
    List<ObjectRefImpl<?>> keepAlive = new ArrayList<>();
    TaskSpec.Builder spec =
        taskSpec(taskId, fd, o, simpleName(fd.getClassName()) + "." + fd.getFunctionName());
    addArguments(spec, args, keepAlive);
    ObjectRef<?> ref = core.submitDirect(spec, 1);
    // The puts made for large arguments stay ours until the submission is on the stream.
    Reference.reachabilityFence(keepAlive);
    return ref;
  }

  /** A plain task with its options applied (Ray's default retries, the given name or one). */
  private TaskSpec.Builder taskSpec(
      ByteString taskId, FunctionDescriptor fd, TaskOptions o, String defaultName) {
    String name = o.name() != null ? o.name() : defaultName;
    TaskSpec.Builder spec =
        newSpec(taskId, fd)
            .setMaxRetries(o.maxRetries() == null ? DEFAULT_MAX_RETRIES : o.maxRetries())
            .setName(name)
            .setParentTaskId(parentTaskId());
    if (o.runtimeEnv() != null) {
      spec.setRuntimeEnv(o.runtimeEnv()); // its worker runs in it (env_vars)
    }
    if (o.group() == null) {
      return spec.putAllResources(o.resources());
    }
    // In a placement group: the group's resources instead of the node's.
    return spec.putAllResources(
            JavaPlacementGroups.demand(
                o.resources(), o.group(), o.bundleIndex(), "task " + name, true))
        .setSchedulingStrategy(JavaPlacementGroups.strategy(o.group(), o.bundleIndex()));
  }

  /** A task of this process with one return: its ids, its function. */
  TaskSpec.Builder newSpec(ByteString taskId, FunctionDescriptor fd) {
    return TaskSpec.newBuilder()
        .setTaskId(taskId)
        .setJobId(core.jobId)
        .setCallerId(core.clientId)
        .setFunction(fd)
        .setNumReturns(1)
        .setCallerLanguage(Language.JAVA);
  }

  /** The task's arguments: refs by reference, small values inline, large ones put first. */
  void addArguments(TaskSpec.Builder spec, Object[] args, List<ObjectRefImpl<?>> keepAlive) {
    for (Object arg : args == null ? new Object[0] : args) {
      spec.addArgs(argument(arg, keepAlive));
    }
  }

  private TaskArg argument(Object arg, List<ObjectRefImpl<?>> keepAlive) {
    if (arg instanceof ObjectRefImpl<?> ref) {
      return TaskArg.newBuilder().setObjectId(ref.id()).build();
    }
    if (arg instanceof ObjectRef<?>) {
      throw new IllegalArgumentException("an ObjectRef of another runtime cannot be an argument");
    }
    ClientCore.Encoded value = core.encode(arg);
    if (value.bytes().length <= core.maxInlineBytes()) {
      return TaskArg.newBuilder().setValue(value.inline(ObjectFormat.JAVA_VALUE)).build();
    }
    ObjectRefImpl<?> put = core.putEncoded(value, ObjectFormat.JAVA_VALUE);
    keepAlive.add(put);
    return TaskArg.newBuilder().setObjectId(put.id()).build();
  }

  static String simpleName(String className) {
    return className.substring(className.lastIndexOf('.') + 1);
  }

  private static ByteString idOf(ObjectRef<?> ref) {
    if (ref instanceof ObjectRefImpl<?> impl) {
      return impl.id();
    }
    throw new IllegalArgumentException("not an ObjectRef of this runtime: " + ref);
  }

  // ---------------------------------------------------------------- not built yet

  private static UnsupportedOperationException notYet(String what) {
    return new UnsupportedOperationException(
        what + " is not supported by this Ray (Ray on the JVM) yet");
  }

  /** A Python function, by module and name: its arguments and result cross as msgpack. */
  @Override
  public ObjectRef call(PyFunction pyFunction, Object[] args, CallOptions options) {
    TaskOptions o = TaskOptions.of(options);
    String module = pyFunction.getModuleName();
    String function = pyFunction.getFunctionName();
    FunctionDescriptor fd =
        FunctionDescriptor.newBuilder()
            .setLanguage(Language.PYTHON)
            .setModuleName(module)
            .setFunctionName(function)
            .setFunctionId(JavaFunctions.id("python:" + module + "." + function))
            .build();
    TaskSpec.Builder spec = taskSpec(Ids.newTaskId(core.jobId), fd, o, module + "." + function);
    List<ObjectRefImpl<?>> keepAlive = new ArrayList<>();
    addCrossLanguageArguments(spec, args, keepAlive);
    ObjectRef<?> ref = core.submit(spec.build(), pyFunction.getReturnType());
    Reference.reachabilityFence(keepAlive);
    return ref;
  }

  /** Arguments for a Python callee: cross-language values (refs by reference). */
  void addCrossLanguageArguments(
      TaskSpec.Builder spec, Object[] args, List<ObjectRefImpl<?>> keepAlive) {
    for (Object arg : args == null ? new Object[0] : args) {
      spec.addArgs(crossLanguageArgument(arg, keepAlive));
    }
  }

  private TaskArg crossLanguageArgument(Object arg, List<ObjectRefImpl<?>> keepAlive) {
    if (arg instanceof ObjectRefImpl<?> ref) {
      return TaskArg.newBuilder().setObjectId(ref.id()).build();
    }
    boolean array = io.ray.runtime.serialization.ArrayCodec.supported(arg);
    ObjectFormat format = array ? ObjectFormat.ARRAY : ObjectFormat.CROSS_LANGUAGE;
    byte[] bytes =
        array
            ? io.ray.runtime.serialization.ArrayCodec.encode(arg)
            : CrossLanguageCodec.encode(arg);
    if (bytes.length <= core.maxInlineBytes()) {
      return TaskArg.newBuilder()
          .setValue(
              InlineObject.newBuilder().setFormat(format).setPayload(ByteString.copyFrom(bytes)))
          .build();
    }
    ObjectRefImpl<?> put = core.putEncoded(bytes, format);
    keepAlive.add(put);
    return TaskArg.newBuilder().setObjectId(put.id()).build();
  }

  @Override
  public BaseActorHandle createActor(
      PyActorClass pyActorClass, Object[] args, ActorCreationOptions options) {
    return actors().createPython(pyActorClass, args, options);
  }

  @Override
  public ObjectRef callActor(
      PyActorHandle pyActor, PyActorMethod pyActorMethod, Object[] args, CallOptions options) {
    return actors().callPython(pyActor, pyActorMethod, args);
  }

  @Override
  public BaseActorHandle createActor(
      RayFunc actorFactoryFunc, Object[] args, ActorCreationOptions options) {
    return actors().create(actorFactoryFunc, args, options);
  }

  @Override
  public ObjectRef callActor(
      ActorHandle<?> actor, RayFunc func, Object[] args, CallOptions options) {
    return actors().call(actor, func, args, options);
  }

  @Override
  public <T extends BaseActorHandle> Optional<T> getActor(String name, String namespace) {
    return actors().get(name, namespace);
  }

  @Override
  public void killActor(BaseActorHandle actor, boolean noRestart) {
    actors().kill(actor, noRestart);
  }

  @Override
  public void exitActor() {
    throw new IllegalStateException("Ray.exitActor() can only be called inside an actor");
  }

  private JavaActors actors;
  private JavaPlacementGroups placementGroups;

  private synchronized JavaPlacementGroups placementGroups() {
    if (placementGroups == null) {
      placementGroups = new JavaPlacementGroups(control, core.jobId, namespace);
    }
    return placementGroups;
  }

  @Override
  public io.ray.api.placementgroup.PlacementGroup createPlacementGroup(
      io.ray.api.options.PlacementGroupCreationOptions options) {
    return placementGroups().create(options);
  }

  @Override
  public io.ray.api.placementgroup.PlacementGroup getPlacementGroup(
      io.ray.api.id.PlacementGroupId id) {
    return placementGroups().get(id);
  }

  @Override
  public io.ray.api.placementgroup.PlacementGroup getPlacementGroup(String name, String namespace) {
    return placementGroups().get(name, namespace);
  }

  @Override
  public List<io.ray.api.placementgroup.PlacementGroup> getAllPlacementGroups() {
    return placementGroups().all();
  }

  @Override
  public void removePlacementGroup(io.ray.api.id.PlacementGroupId id) {
    placementGroups().remove(id);
  }

  @Override
  public io.ray.api.runtimeenv.RuntimeEnv createRuntimeEnv() {
    return new RuntimeEnvImpl();
  }

  @Override
  public io.ray.api.runtimeenv.RuntimeEnv deserializeRuntimeEnv(String serialized) {
    return RuntimeEnvImpl.deserialize(serialized);
  }

  @Override
  public boolean waitPlacementGroupReady(io.ray.api.id.PlacementGroupId id, int timeoutSeconds) {
    return placementGroups().waitReady(id, timeoutSeconds);
  }

  private synchronized JavaActors actors() {
    if (actors == null) {
      actors = new JavaActors(this, control);
    }
    return actors;
  }

  /** A task's options as this runtime uses them. */
  record TaskOptions(
      String name,
      Map<String, Double> resources,
      Integer maxRetries,
      io.ray.api.placementgroup.PlacementGroup group,
      int bundleIndex,
      io.ray.engine.rpc.RuntimeEnv runtimeEnv) {
    static TaskOptions of(CallOptions options) {
      return OptionsReader.task(options);
    }
  }
}
