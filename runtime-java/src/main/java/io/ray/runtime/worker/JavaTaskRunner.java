package io.ray.runtime.worker;

import com.google.protobuf.ByteString;
import io.ray.api.Ray;
import io.ray.api.exception.RayIntentionalSystemExitException;
import io.ray.engine.common.ClusterToken;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.ControlServiceGrpc.ControlServiceBlockingStub;
import io.ray.engine.rpc.ErrorInfo;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.Language;
import io.ray.engine.rpc.LogLine;
import io.ray.engine.rpc.NodeManagerServiceGrpc.NodeManagerServiceBlockingStub;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.PushTaskReply;
import io.ray.engine.rpc.PushTaskRequest;
import io.ray.engine.rpc.SharedMemoryObject;
import io.ray.engine.rpc.TaskArg;
import io.ray.engine.rpc.TaskFinished;
import io.ray.engine.rpc.TaskSpec;
import io.ray.engine.rpc.WorkerSetup;
import io.ray.runtime.ArenaView;
import io.ray.runtime.ClientCore;
import io.ray.runtime.JavaFunctions;
import io.ray.runtime.RuntimeHolder;
import io.ray.runtime.WorkerRuntime;
import io.ray.runtime.serialization.ArrayCodec;
import io.ray.runtime.serialization.CrossLanguageCodec;
import io.ray.runtime.serialization.JavaCodec;
import io.ray.runtime.serialization.JavaError;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Runs a Java worker's tasks, one at a time, on the thread that calls {@link #run}: loads the
 * function from the job's code search path, resolves its arguments (values sent with the task, or
 * objects the node attached and pinned for this worker), calls it, stores its return value (in the
 * task's reply when small, else in the arena) or what it threw, and reports the task's end. What
 * the task prints reaches the driver as {@code (name pid=N) line}.
 */
final class JavaTaskRunner implements AutoCloseable {
  private final WorkerChannel link;
  private final ByteString workerId;
  private final ClientCore core;
  private final ClassLoader loader;
  private final int pid = (int) ProcessHandle.current().pid();
  private final String nodeIp;
  private final WorkerRuntime runtime;
  private final ThreadLocal<String> taskName = ThreadLocal.withInitial(() -> "");
  private final Lines out = new Lines(false);
  private final Lines err = new Lines(true);

  /** The actor this worker hosts (built by its creation task); null for a task worker. */
  private volatile Object actor;

  private volatile int maxConcurrency = 1;

  private final Cancellation cancellation = new Cancellation();

  /** Held while a task runs, except the calls of an actor with maxConcurrency > 1. */
  private final Object oneAtATime = new Object();

  /** Runs the calls of an actor with maxConcurrency > 1. */
  private ExecutorService pool;

  /** Ray.exitActor() ran: the worker ends after reporting it (as a Python actor's process does). */
  private volatile boolean exiting;

  JavaTaskRunner(
      WorkerSetup setup,
      ByteString workerId,
      WorkerChannel link,
      NodeManagerServiceBlockingStub node,
      ControlServiceBlockingStub control,
      ClusterToken token) {
    this.link = link;
    this.nodeIp = setup.getNodeIp();
    this.loader = codeSearchPath(setup.getJobConfig().getCodeSearchPathList());
    Thread.currentThread().setContextClassLoader(loader);
    JavaCodec codec = new JavaCodec(loader);
    this.core =
        new ClientCore(
            workerId,
            setup.getJobId(),
            setup.getMaxInlineBytes(),
            codec,
            node,
            new ArenaView(setup.getArenaPath()),
            link::changes);
    this.workerId = workerId;
    // Calls this worker's tasks make go straight to actors' and leased workers, as a driver's do.
    core.enableDirectCalls(token);
    this.runtime = new WorkerRuntime(core, setup, control);
    RuntimeHolder.setWorkerRuntime(runtime);
    Ray.init();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static ClassLoader codeSearchPath(List<String> entries) {
    List<URL> urls = new ArrayList<>();
    for (String entry : entries) {
      try {
        urls.add(Path.of(entry).toAbsolutePath().toUri().toURL());
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException("bad code search path entry " + entry, e);
      }
    }
    return new URLClassLoader(urls.toArray(URL[]::new), JavaTaskRunner.class.getClassLoader());
  }

  /** Whether the actor this worker hosts asked to exit (the worker stops taking calls). */
  boolean exiting() {
    return exiting;
  }

  /** Method calls an actor runs at once (1 until an actor with more was created here). */
  int maxConcurrency() {
    return maxConcurrency;
  }

  /**
   * Hands a call of an actor created with maxConcurrency > 1 to its pool (that many run at once);
   * false for anything else, which runs one at a time ({@link #run}, {@link #runPush}).
   */
  boolean runConcurrently(Object work) {
    boolean actorCall =
        work instanceof TaskSpec spec
            ? spec.hasActorTask()
            : ((PushServer.Pushed) work).request().getSpecs(0).hasActorTask();
    if (maxConcurrency <= 1 || !actorCall) {
      return false;
    }
    synchronized (this) {
      if (pool == null) {
        pool = Executors.newFixedThreadPool(maxConcurrency);
      }
    }
    pool.execute(
        () -> {
          if (work instanceof TaskSpec spec) {
            report(execute(spec));
          } else {
            answer((PushServer.Pushed) work);
          }
        });
    return true;
  }

  /** Runs a task the node sent, and reports its end to the node. */
  void run(TaskSpec spec) {
    TaskFinished.Builder finished;
    synchronized (oneAtATime) {
      finished = execute(spec);
    }
    report(finished);
  }

  private void report(TaskFinished.Builder f) {
    TaskFinished finished = f.build();
    // The task's own changes (submissions, puts, released refs) go first.
    core.awaitSent();
    link.finished(finished);
  }

  /**
   * Runs the calls a caller pushed, in order, and answers the caller. The node hears of each end
   * from this worker, or, when the call sent nothing of its own to the node, from the caller, who
   * forwards it on its own stream ({@code caller_reports}), one message for a run of calls.
   */
  void runPush(PushServer.Pushed push) {
    synchronized (oneAtATime) {
      answer(push);
    }
  }

  private void answer(PushServer.Pushed push) {
    Thread.currentThread().setContextClassLoader(loader);
    PushTaskRequest request = push.request();
    List<TaskFinished> results = new ArrayList<>();
    for (TaskSpec spec : request.getSpecsList()) {
      if (exiting) {
        break; // the calls after an exit did not run: the caller fails them over to the node
      }
      long before = core.changeCount();
      TaskFinished.Builder f =
          core.fenced(request.getOwnerId(), request.getOwnerSeq(), () -> execute(spec));
      f.setDirectOwnerId(request.getOwnerId()).setDirectOwnerSeq(request.getOwnerSeq());
      if (!f.getActorExit() && core.changeCount() == before && !holdsRefs(f)) {
        f.setCallerReports(true);
      } else {
        // Its changes go first; an exit the node must act on now.
        core.awaitSent();
        link.finished(f.build());
      }
      results.add(f.build());
      if (f.getActorExit()) {
        break;
      }
    }
    push.answer(
        PushTaskReply.newBuilder()
            .addAllResults(results)
            .setCallId(request.getCallId())
            .setWorkerId(workerId)
            .build());
  }

  /** Whether a return keeps objects alive: the node must have it before the caller's reports. */
  private static boolean holdsRefs(TaskFinished.Builder f) {
    for (ObjectValue v : f.getReturnsList()) {
      if (v.hasInline() && v.getInline().getNestedRefsCount() > 0) {
        return true;
      }
    }
    return false;
  }

  /** ray.cancel without force (from the node's channel, any thread). */
  void cancel(ByteString taskId) {
    cancellation.cancel(taskId);
  }

  /** Runs a task: its end, to report (its return stored, or its error). */
  private TaskFinished.Builder execute(TaskSpec spec) {
    taskName.set(spec.getName());
    runtime.setCurrentTask(spec.getTaskId());
    ByteString returnId = Ids.returnId(spec.getTaskId(), 1);
    TaskFinished.Builder finished = TaskFinished.newBuilder().setTaskId(spec.getTaskId());
    boolean fromPython = spec.getCallerLanguage() == Language.PYTHON;
    if (cancellation.begin(spec.getTaskId())) {
      return cancelled(finished, returnId);
    }
    boolean ended = false;
    try {
      Object result = call(spec);
      ended = true;
      if (cancellation.end(spec.getTaskId())) {
        return cancelled(finished, returnId);
      }
      if (fromPython && ArrayCodec.supported(result)) {
        finished.addReturns(storeArray(returnId, result));
      } else {
        finished.addReturns(
            fromPython
                ? store(returnId, CrossLanguageCodec.encode(result), ObjectFormat.CROSS_LANGUAGE)
                : store(returnId, core.encode(result), ObjectFormat.JAVA_VALUE));
      }
    } catch (Throwable t) {
      if (!ended && cancellation.end(spec.getTaskId())) {
        return cancelled(finished, returnId); // interrupted by ray.cancel, most likely
      }
      Throwable cause = t instanceof InvocationTargetException ite ? ite.getCause() : t;
      if (fromPython) {
        // A Python caller gets a CrossLanguageError: the Java type, message and stack as text.
        JavaError error = JavaError.of(cause, spec.getName(), pid, nodeIp);
        String text = error.className() + ": " + error.message() + "\n" + error.stackTrace();
        finished
            .setApplicationError(true)
            .setErrorText(text)
            .addReturns(engineError(returnId, "CrossLanguageError", text));
      } else if (cause instanceof RayIntentionalSystemExitException && spec.hasActorTask()) {
        // Ray.exitActor(): the node ends the actor without restarting it.
        exiting = true;
        finished
            .setActorExit(true)
            .addReturns(store(returnId, core.encode(null), ObjectFormat.JAVA_VALUE));
      } else {
        JavaError error = JavaError.of(cause, spec.getName(), pid, nodeIp);
        finished
            .setApplicationError(true)
            .setErrorText(error.describe())
            .setExceptionRetryable(spec.getRetryExceptions())
            .addReturns(store(returnId, core.encode(error), ObjectFormat.JAVA_ERROR));
      }
    } finally {
      System.out.flush();
      System.err.flush();
      out.endTask();
      err.endTask();
      taskName.set("");
    }
    return finished;
  }

  /** A cancelled task's end: its return holds TaskCancelledError. */
  private static TaskFinished.Builder cancelled(
      TaskFinished.Builder finished, ByteString returnId) {
    String message = "Task " + Ids.hex(finished.getTaskId()) + " was cancelled";
    return finished
        .clearReturns()
        .setCancelled(true)
        .setApplicationError(true)
        .setErrorText("TaskCancelledError: " + message)
        .addReturns(engineError(returnId, "TaskCancelledError", message));
  }

  /** A return that holds an error the caller raises as its type (ray.exceptions.<type>). */
  private static ObjectValue engineError(ByteString returnId, String type, String message) {
    return ObjectValue.newBuilder()
        .setObjectId(returnId)
        .setInline(
            InlineObject.newBuilder()
                .setFormat(ObjectFormat.ENGINE_ERROR)
                .setPayload(
                    ErrorInfo.newBuilder()
                        .setErrorType(type)
                        .setMessage(message)
                        .build()
                        .toByteString()))
        .build();
  }

  private Object call(TaskSpec spec) throws Exception {
    Object[] args = arguments(spec);
    Executable fn = JavaFunctions.load(spec.getFunction(), loader, args.length);
    if (spec.getCallerLanguage() == Language.PYTHON) {
      // Cross-language values are plain (Long, Double, List, ...): fit them to the parameters.
      java.lang.reflect.Type[] types = fn.getGenericParameterTypes();
      for (int i = 0; i < args.length && i < types.length; i++) {
        args[i] = CrossLanguageCodec.convert(args[i], types[i]);
      }
    }
    String what = spec.getFunction().getClassName() + "." + spec.getFunction().getFunctionName();
    if (args.length != fn.getParameterCount()) {
      throw new IllegalArgumentException(
          what + " takes " + fn.getParameterCount() + " arguments, got " + args.length);
    }
    if (fn instanceof Constructor<?> c) {
      Object instance = c.newInstance(args);
      return created(spec, instance);
    }
    Method m = (Method) fn;
    boolean isStatic = Modifier.isStatic(m.getModifiers());
    if (spec.hasActorTask()) {
      if (actor == null) {
        throw new IllegalStateException("this worker hosts no actor for the call " + what);
      }
      return m.invoke(isStatic ? null : actor, args);
    }
    if (!isStatic) {
      throw new IllegalArgumentException(
          "Method " + what + " is not static: call it on an actor, or make it static");
    }
    Object result = m.invoke(null, args);
    // A static factory may create an actor, too (Ray.actor(Factory::make)).
    return spec.hasActorCreation() ? created(spec, result) : result;
  }

  private Object created(TaskSpec spec, Object instance) {
    if (!spec.hasActorCreation()) {
      return instance; // a task that builds a value with a constructor reference
    }
    actor = instance;
    maxConcurrency = Math.max(1, spec.getActorCreation().getMaxConcurrency());
    return null;
  }

  private Object[] arguments(TaskSpec spec) {
    Object[] args = new Object[spec.getArgsCount()];
    List<Integer> fetch = new ArrayList<>();
    List<ByteString> ids = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      TaskArg a = spec.getArgs(i);
      if (a.hasValue()) {
        args[i] = core.decode(ObjectValue.newBuilder().setInline(a.getValue()).build(), false);
      } else if (a.hasResolved()) {
        args[i] = core.decode(a.getResolved(), a.getResolved().hasShared());
      } else {
        fetch.add(i);
        ids.add(a.getObjectId());
      }
    }
    if (!ids.isEmpty()) {
      List<Object> values = core.get(ids, -1);
      for (int k = 0; k < fetch.size(); k++) {
        args[fetch.get(k)] = values.get(k);
      }
    }
    return args;
  }

  /** A return value: inline in the reply when small, else written to the arena first. */
  private ObjectValue store(ByteString id, ClientCore.Encoded value, ObjectFormat format) {
    byte[] bytes = value.bytes();
    if (bytes.length <= core.maxInlineBytes()) {
      return ObjectValue.newBuilder().setObjectId(id).setInline(value.inline(format)).build();
    }
    return shared(id, core.writeToArena(id, value, format, true), bytes.length, format);
  }

  private ObjectValue store(ByteString id, byte[] bytes, ObjectFormat format) {
    return store(id, new ClientCore.Encoded(bytes, List.of()), format);
  }

  /** A return written to the arena at {@code offset} (-1: the node did not need it). */
  private static ObjectValue shared(ByteString id, long offset, int size, ObjectFormat format) {
    return ObjectValue.newBuilder()
        .setObjectId(id)
        .setShared(
            SharedMemoryObject.newBuilder()
                .setPayloadOffset(Math.max(offset, 0))
                .setPayloadSize(size)
                .setFormat(format))
        .build();
  }

  /** A primitive array (or NIO view) for a Python caller, written straight into the arena. */
  private ObjectValue storeArray(ByteString id, Object array) {
    int size = ArrayCodec.encodedSize(array);
    if (size <= core.maxInlineBytes()) {
      return store(id, ArrayCodec.encode(array), ObjectFormat.ARRAY);
    }
    long offset =
        core.writeToArena(
            id, size, List.of(), ObjectFormat.ARRAY, true, t -> ArrayCodec.write(array, t));
    return shared(id, offset, size, ObjectFormat.ARRAY);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (pool != null) {
        pool.shutdownNow();
      }
    }
    core.close();
  }

  /** What a task prints: each line goes to the node (and on to the driver) as it ends. */
  private final class Lines extends OutputStream {
    private final boolean err;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    Lines(boolean err) {
      this.err = err;
    }

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        emit();
      } else {
        line.write(b);
      }
    }

    /**
     * A flush does not end a line: {@code printf} flushes after each piece it writes, and the
     * pieces belong on one line.
     */
    @Override
    public void flush() {}

    /** A task ended: what it wrote without a newline at the end is its last line. */
    synchronized void endTask() {
      if (line.size() > 0) {
        emit();
      }
    }

    private void emit() {
      String text = line.toString(StandardCharsets.UTF_8);
      line.reset();
      link.output(
          List.of(
              LogLine.newBuilder()
                  .setIsErr(err)
                  .setText(text)
                  .setSource(taskName.get())
                  .setPid(pid)
                  .build()));
    }
  }
}
