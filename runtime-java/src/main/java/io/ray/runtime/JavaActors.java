package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.ActorHandle;
import io.ray.api.BaseActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import io.ray.api.function.RayFunc;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.ActorLifetime;
import io.ray.api.options.CallOptions;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.ActorCreationSpec;
import io.ray.engine.rpc.ActorInfo;
import io.ray.engine.rpc.ActorTaskSpec;
import io.ray.engine.rpc.ClientAction;
import io.ray.engine.rpc.ControlServiceGrpc.ControlServiceBlockingStub;
import io.ray.engine.rpc.FunctionDescriptor;
import io.ray.engine.rpc.GetNamedActorReply;
import io.ray.engine.rpc.GetNamedActorRequest;
import io.ray.engine.rpc.KillActor;
import io.ray.engine.rpc.Language;
import io.ray.engine.rpc.RegisterActorReply;
import io.ray.engine.rpc.RegisterActorRequest;
import io.ray.engine.rpc.TaskSpec;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Java actors from a Java process: creation (the creation task runs the constructor in a Java
 * worker that then belongs to the actor), method calls (through the node, in order per caller),
 * names (registered with the control service, found by {@code Ray.getActor}) and kills.
 * Thread-safe.
 */
final class JavaActors {
  /** Marks a Java handle in the control service's actor table (Python's are pickles). */
  private static final byte[] HANDLE_MAGIC = "JAVA".getBytes(StandardCharsets.US_ASCII);

  private final JavaRuntime runtime;
  private final ClientCore core;
  private final ControlServiceBlockingStub control;

  JavaActors(JavaRuntime runtime, ControlServiceBlockingStub control) {
    this.runtime = runtime;
    this.core = runtime.core;
    this.control = control;
  }

  ActorHandleImpl<?> create(RayFunc factory, Object[] args, ActorCreationOptions options) {
    FunctionDescriptor fd = JavaFunctions.describe(factory);
    ActorCreationOptions o = checked(options);
    String className = JavaRuntime.simpleName(fd.getClassName());
    ByteString actorId = Ids.random(12).concat(core.jobId);
    ByteString taskId = Ids.newTaskId(core.jobId);
    String name = o.getName() == null ? "" : o.getName();
    String namespace = o.getNamespace() == null ? runtime.namespace : o.getNamespace();
    ActorHandleImpl<?> handle =
        new ActorHandleImpl<>(
            actorId,
            className,
            Ids.returnId(taskId, 1),
            runtime.nodeId,
            o.getMaxTaskRetries(),
            o.getMaxConcurrency(),
            null);
    if (!name.isEmpty()) {
      register(handle, name, namespace, o.getLifetime() == ActorLifetime.DETACHED);
    }
    TaskSpec.Builder spec = creationSpec(taskId, actorId, fd, className, o, namespace);
    List<ObjectRefImpl<?>> keepAlive = new ArrayList<>();
    runtime.addArguments(spec, args, keepAlive);
    // The creation's return is the actor's lifetime object; the creator's handle holds it.
    ObjectRefImpl<?> lifetime = core.submit(spec.build());
    Reference.reachabilityFence(keepAlive);
    return new ActorHandleImpl<>(
        actorId,
        className,
        handle.lifetimeId,
        runtime.nodeId,
        o.getMaxTaskRetries(),
        o.getMaxConcurrency(),
        lifetime);
  }

  /** A Python actor from Java: its class by module and name, its arguments cross-language. */
  PyActorHandleImpl createPython(PyActorClass cls, Object[] args, ActorCreationOptions options) {
    ActorCreationOptions o = checked(options);
    refuse(o.getName() != null && !o.getName().isEmpty(), "setName (for a Python actor)");
    FunctionDescriptor fd =
        FunctionDescriptor.newBuilder()
            .setLanguage(Language.PYTHON)
            .setModuleName(cls.getModuleName())
            .setFunctionName(cls.getClassName())
            .setFunctionId(
                JavaFunctions.id("python:" + cls.getModuleName() + "." + cls.getClassName()))
            .build();
    ByteString actorId = Ids.random(12).concat(core.jobId);
    ByteString taskId = Ids.newTaskId(core.jobId);
    TaskSpec.Builder spec =
        creationSpec(taskId, actorId, fd, cls.getClassName(), o, runtime.namespace);
    List<ObjectRefImpl<?>> keepAlive = new ArrayList<>();
    runtime.addCrossLanguageArguments(spec, args, keepAlive);
    ObjectRefImpl<?> lifetime = core.submit(spec.build());
    Reference.reachabilityFence(keepAlive);
    return new PyActorHandleImpl(
        actorId,
        cls.getModuleName(),
        cls.getClassName(),
        Ids.returnId(taskId, 1),
        runtime.nodeId,
        lifetime);
  }

  private static ActorCreationOptions checked(ActorCreationOptions options) {
    ActorCreationOptions o = options == null ? new ActorCreationOptions.Builder().build() : options;
    refuse(!o.getJvmOptions().isEmpty(), "setJvmOptions");
    refuse(!o.getConcurrencyGroups().isEmpty(), "setConcurrencyGroups");
    refuse(o.getMaxPendingCalls() != -1, "setMaxPendingCalls");
    refuse(o.isAsync(), "setAsync");
    if (o.getMaxConcurrency() < 1) {
      throw new IllegalArgumentException(
          "maxConcurrency must be at least 1, got " + o.getMaxConcurrency());
    }
    return o;
  }

  /** The creation task: placed with one CPU (unless given), holding its resources without it. */
  private TaskSpec.Builder creationSpec(
      ByteString taskId,
      ByteString actorId,
      FunctionDescriptor fd,
      String className,
      ActorCreationOptions o,
      String namespace) {
    String name = o.getName() == null ? "" : o.getName();
    Map<String, Double> lifetimeResources = new LinkedHashMap<>(o.getResources());
    Map<String, Double> placement = new LinkedHashMap<>(lifetimeResources);
    placement.putIfAbsent("CPU", 1.0);
    io.ray.engine.rpc.SchedulingStrategy strategy = null;
    if (o.getGroup() != null) {
      // In a placement group: the group's resources instead of the node's.
      String what = "actor " + className;
      int index = o.getBundleIndex();
      placement = JavaPlacementGroups.demand(placement, o.getGroup(), index, what, true);
      lifetimeResources =
          JavaPlacementGroups.demand(lifetimeResources, o.getGroup(), index, what, false);
      strategy = JavaPlacementGroups.strategy(o.getGroup(), index);
    }
    TaskSpec.Builder spec =
        runtime
            .newSpec(taskId, fd)
            .setMaxRetries(0)
            .setName(className + ".<init>")
            .putAllResources(placement)
            .setActorCreation(
                ActorCreationSpec.newBuilder()
                    .setActorId(actorId)
                    .setMaxRestarts(o.getMaxRestarts())
                    .setMaxTaskRetries(o.getMaxTaskRetries())
                    .setMaxConcurrency(o.getMaxConcurrency())
                    .setDetached(o.getLifetime() == ActorLifetime.DETACHED)
                    .setName(name)
                    .setRayNamespace(name.isEmpty() ? "" : namespace)
                    .setClassName(className)
                    .putAllLifetimeResources(lifetimeResources));
    if (o.getRuntimeEnv() != null) {
      spec.setRuntimeEnv(RuntimeEnvImpl.toProto(o.getRuntimeEnv())); // its worker runs in it
    }
    return strategy == null ? spec : spec.setSchedulingStrategy(strategy);
  }

  private void register(
      ActorHandleImpl<?> handle, String name, String namespace, boolean detached) {
    byte[] state = core.codec().serialize(handle);
    byte[] bytes = Arrays.copyOf(HANDLE_MAGIC, HANDLE_MAGIC.length + state.length);
    System.arraycopy(state, 0, bytes, HANDLE_MAGIC.length, state.length);
    RegisterActorReply reply =
        control.registerActor(
            RegisterActorRequest.newBuilder()
                .setActor(
                    ActorInfo.newBuilder()
                        .setActorId(handle.actorId)
                        .setJobId(core.jobId)
                        .setName(name)
                        .setRayNamespace(namespace)
                        .setOwnerId(core.clientId)
                        .setClassName(handle.className)
                        .setDetached(detached)
                        .setHandle(ByteString.copyFrom(bytes)))
                .build());
    if (!reply.getRegistered()) {
      throw new IllegalArgumentException(
          "The name " + name + " (namespace=" + namespace + ") is already taken by another actor");
    }
  }

  ObjectRef<?> call(ActorHandle<?> actor, RayFunc func, Object[] args, CallOptions options) {
    if (!(actor instanceof ActorHandleImpl<?> h)) {
      throw new IllegalArgumentException("not an actor handle of this runtime: " + actor);
    }
    FunctionDescriptor fd = JavaFunctions.describe(func);
    JavaRuntime.TaskOptions o = JavaRuntime.TaskOptions.of(options);
    ByteString taskId = Ids.newTaskId(core.jobId);
    TaskSpec.Builder spec =
        runtime
            .newSpec(taskId, fd)
            .setMaxRetries(h.maxTaskRetries)
            .setName(o.name() != null ? o.name() : h.className + "." + fd.getFunctionName())
            .setParentTaskId(runtime.parentTaskId())
            .setActorTask(
                ActorTaskSpec.newBuilder()
                    .setActorId(h.actorId)
                    .setMethodName(fd.getFunctionName())
                    .setLifetimeObjectId(h.lifetimeId)
                    .setHomeNodeId(h.homeNodeId));
    List<ObjectRefImpl<?>> keepAlive = new ArrayList<>();
    runtime.addArguments(spec, args, keepAlive);
    ObjectRef<?> ref = core.submitDirect(spec, h.maxConcurrency);
    Reference.reachabilityFence(keepAlive);
    Reference.reachabilityFence(h);
    return ref;
  }

  ObjectRef<?> callPython(PyActorHandle actor, PyActorMethod<?> method, Object[] args) {
    if (!(actor instanceof PyActorHandleImpl h)) {
      throw new IllegalArgumentException("not a Python actor handle of this runtime: " + actor);
    }
    FunctionDescriptor fd =
        FunctionDescriptor.newBuilder()
            .setLanguage(Language.PYTHON)
            .setModuleName(h.moduleName)
            .setFunctionName(method.getMethodName())
            .build();
    TaskSpec.Builder spec =
        runtime
            .newSpec(Ids.newTaskId(core.jobId), fd)
            .setMaxRetries(0)
            .setName(h.className + "." + method.getMethodName())
            .setParentTaskId(runtime.parentTaskId())
            .setActorTask(
                ActorTaskSpec.newBuilder()
                    .setActorId(h.actorId)
                    .setMethodName(method.getMethodName())
                    .setLifetimeObjectId(h.lifetimeId)
                    .setHomeNodeId(h.homeNodeId));
    List<ObjectRefImpl<?>> keepAlive = new ArrayList<>();
    runtime.addCrossLanguageArguments(spec, args, keepAlive);
    ObjectRef<?> ref = core.submit(spec.build(), method.getReturnType());
    Reference.reachabilityFence(keepAlive);
    Reference.reachabilityFence(h);
    return ref;
  }

  @SuppressWarnings("unchecked")
  <T extends BaseActorHandle> Optional<T> get(String name, String namespace) {
    GetNamedActorReply reply =
        control.getNamedActor(
            GetNamedActorRequest.newBuilder()
                .setName(name)
                .setRayNamespace(namespace == null ? runtime.namespace : namespace)
                .build());
    if (!reply.getFound()) {
      return Optional.empty();
    }
    ActorInfo info = reply.getActor();
    byte[] bytes = info.getHandle().toByteArray();
    if (bytes.length < HANDLE_MAGIC.length
        || !Arrays.equals(Arrays.copyOf(bytes, HANDLE_MAGIC.length), HANDLE_MAGIC)) {
      if (info.getLifetimeObjectId().isEmpty()) {
        throw new io.ray.api.exception.CrossLanguageException(
            "The actor named " + name + " was registered without what a Java handle needs");
      }
      // A Python actor: a PyActorHandle (as Ray's getActor gives), which does not keep it alive.
      return Optional.of(
          (T)
              new PyActorHandleImpl(
                  info.getActorId(),
                  info.getModuleName(),
                  info.getClassName(),
                  info.getLifetimeObjectId(),
                  info.getHomeNodeId(),
                  null));
    }
    Object handle =
        core.codec().deserialize(Arrays.copyOfRange(bytes, HANDLE_MAGIC.length, bytes.length));
    return Optional.of((T) handle);
  }

  void kill(BaseActorHandle actor, boolean noRestart) {
    ByteString actorId;
    if (actor instanceof ActorHandleImpl<?> h) {
      actorId = h.actorId;
    } else if (actor instanceof PyActorHandleImpl p) {
      actorId = p.actorId;
    } else {
      throw new IllegalArgumentException("not an actor handle of this runtime: " + actor);
    }
    core.stopPushing(actorId); // later calls go behind the kill, through the node
    core.action(
        ClientAction.newBuilder()
            .setKillActor(KillActor.newBuilder().setActorId(actorId).setNoRestart(noRestart))
            .build());
  }

  private static void refuse(boolean given, String option) {
    if (given) {
      throw new UnsupportedOperationException(
          "The actor option " + option + " is not supported by this Ray (Ray on the JVM) yet");
    }
  }
}
