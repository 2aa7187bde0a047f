package io.ray.runtime;

import com.google.protobuf.ByteString;
import io.ray.api.exception.RayException;
import io.ray.api.exception.RayTaskException;
import io.ray.api.exception.RayTimeoutException;
import io.ray.engine.common.Ids;
import io.ray.engine.rpc.ClientAction;
import io.ray.engine.rpc.ClientOps;
import io.ray.engine.rpc.CreateObjectReply;
import io.ray.engine.rpc.CreateObjectRequest;
import io.ray.engine.rpc.ErrorInfo;
import io.ray.engine.rpc.GetObjectsReply;
import io.ray.engine.rpc.GetObjectsRequest;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.NodeManagerServiceGrpc.NodeManagerServiceBlockingStub;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.ReferenceDelta;
import io.ray.engine.rpc.SealObjectRequest;
import io.ray.engine.rpc.TaskSpec;
import io.ray.engine.rpc.WaitObjectsRequest;
import io.ray.runtime.serialization.JavaCodec;
import io.ray.runtime.serialization.JavaError;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A Java process's connection to its node (a Java driver's or a Java worker's): objects in and out
 * of the store, task submissions, reference counts.
 *
 * <p>Changes (submissions, puts of small values, reference counts) go out in order on the process's
 * change stream as {@code ClientOps} with seq 1, 2, ... ({@link ChangeStream}); every read carries
 * the seq of the last change ({@code after_seq}) and the changes not sent yet, so the node answers
 * it only after applying them. Reads are unary calls. Thread-safe.
 */
public final class ClientCore implements AutoCloseable {
  final ByteString clientId;
  final ByteString jobId;
  final long maxInlineBytes;
  final JavaCodec codec;
  private final NodeManagerServiceBlockingStub node;
  private final ArenaView arena;
  private final ChangeStream changes;
  private final ByteString putPrefix = Ids.random(Ids.TASK_ID_SIZE - Ids.JOB_ID_SIZE);
  private final AtomicInteger putCounter = new AtomicInteger();

  /**
   * Small values this process has without asking the node: its own puts, and pushed calls' answers.
   * An entry goes when the process's ref to it dies.
   */
  private final ConcurrentHashMap<ByteString, ObjectValue> cache = new ConcurrentHashMap<>();

  /** In a worker running a direct call: the call's owner and the seq that registered it. */
  private final ThreadLocal<Fence> directFence = new ThreadLocal<>();

  /** Calls pushed to actors' and leased workers (null: everything goes through the node). */
  private volatile DirectCalls direct;

  /** A direct call's owner and the seq of its message that registered the call. */
  record Fence(ByteString owner, long seq) {}

  /**
   * @param changes sends one message on the process's change stream (called under a lock, in order)
   */
  public ClientCore(
      ByteString clientId,
      ByteString jobId,
      long maxInlineBytes,
      JavaCodec codec,
      NodeManagerServiceBlockingStub node,
      ArenaView arena,
      Consumer<ClientOps> changes) {
    this.clientId = clientId;
    this.jobId = jobId;
    this.maxInlineBytes = maxInlineBytes;
    this.codec = codec;
    this.node = node;
    this.arena = arena;
    this.changes = new ChangeStream(changes);
  }

  public JavaCodec codec() {
    return codec;
  }

  public long maxInlineBytes() {
    return maxInlineBytes;
  }

  // ---------------------------------------------------------------- the change stream

  private long send(ClientOps.Builder ops, boolean urgent) {
    return changes.add(ops, urgent);
  }

  /** A change the node must act on now (a submission, a kill). */
  long action(ClientAction action) {
    return send(ClientOps.newBuilder().addActions(action), true);
  }

  /**
   * A change nobody waits for (a direct call's registration, a forwarded end): it leaves with the
   * next message, at the latest after {@link ChangeStream#HOLD_NANOS}. Returns that message's seq.
   */
  long lazyAction(ClientAction action) {
    return send(ClientOps.newBuilder().addActions(action), false);
  }

  /** Changes added so far (see {@link ChangeStream#count()}). */
  public long changeCount() {
    return changes.count();
  }

  /** Waits until every change so far is on the stream. */
  public void awaitSent() {
    changes.awaitSent();
  }

  /** The seq of the last change sent: a read carrying it sees every change before it. */
  long fence() {
    return changes.fence();
  }

  /** This process no longer holds one count on the object (an ObjectRef of it died). */
  void release(ByteString objectId) {
    // First stop a pushed call's answer from being cached, then drop what is cached.
    DirectCalls d = direct;
    if (d != null) {
      d.forget(objectId);
    }
    cache.remove(objectId);
    send(
        ClientOps.newBuilder()
            .addReferences(ReferenceDelta.newBuilder().setObjectId(objectId).setRefDelta(-1)),
        false);
  }

  private void releasePin(ByteString objectId) {
    send(
        ClientOps.newBuilder()
            .addReferences(ReferenceDelta.newBuilder().setObjectId(objectId).setPinsReleased(1)),
        false);
  }

  // ---------------------------------------------------------------- objects

  /**
   * A Java value serialized for the store, and the objects it holds: the lifetime objects of the
   * actor handles in it, which the stored value keeps alive (nested_refs) until a reader holds them
   * itself.
   */
  public record Encoded(byte[] bytes, List<ByteString> nested) {
    /** The value inline in a message, holding what it holds. */
    public InlineObject inline(ObjectFormat format) {
      return InlineObject.newBuilder()
          .setFormat(format)
          .setPayload(ByteString.copyFrom(bytes))
          .addAllNestedRefs(nested)
          .build();
    }
  }

  /** Serializes a Java value for the store (see {@link Encoded}). */
  public Encoded encode(Object value) {
    List<ByteString> nested = new ArrayList<>();
    ValueRefs.NESTED.set(nested);
    try {
      return new Encoded(codec.serialize(value), nested);
    } finally {
      ValueRefs.NESTED.remove();
    }
  }

  /**
   * This process now holds a count on an object it found inside a value (an actor handle's lifetime
   * object): the returned ref gives it back when it dies.
   */
  ObjectRefImpl<?> hold(ByteString objectId) {
    send(
        ClientOps.newBuilder()
            .addReferences(ReferenceDelta.newBuilder().setObjectId(objectId).setRefDelta(1)),
        false);
    return new ObjectRefImpl<>(objectId, this);
  }

  /** Stores a value this process puts; the ref holds its count. */
  public <T> ObjectRefImpl<T> put(Object value) {
    return putEncoded(encode(value), ObjectFormat.JAVA_VALUE);
  }

  /** Stores an encoded value of {@code format}; the ref holds its count. */
  public <T> ObjectRefImpl<T> putEncoded(byte[] bytes, ObjectFormat format) {
    return putEncoded(new Encoded(bytes, List.of()), format);
  }

  <T> ObjectRefImpl<T> putEncoded(Encoded value, ObjectFormat format) {
    ByteString id = newPutId();
    byte[] bytes = value.bytes();
    if (bytes.length <= maxInlineBytes) {
      ObjectValue v =
          ObjectValue.newBuilder().setObjectId(id).setInline(value.inline(format)).build();
      action(ClientAction.newBuilder().setPut(v).build());
      if (value.nested().isEmpty()) {
        cache.put(id, v); // ours: read back without asking the node
      }
    } else {
      writeToArena(id, value, format, false);
    }
    return new ObjectRefImpl<>(id, this);
  }

  /**
   * Stores a value in the arena (CreateObject, write, SealObject). Returns the payload offset, or
   * -1 when the node says the value is not needed.
   */
  public long writeToArena(
      ByteString id, Encoded value, ObjectFormat format, boolean isTaskReturn) {
    byte[] bytes = value.bytes();
    return writeToArena(
        id, bytes.length, value.nested(), format, isTaskReturn, target -> target.put(bytes));
  }

  /**
   * Stores {@code size} bytes that {@code writer} puts straight into the arena (no copy on the
   * heap); returns the payload offset, or -1 when the node says the value is not needed.
   */
  public long writeToArena(
      ByteString id,
      int size,
      List<ByteString> nested,
      ObjectFormat format,
      boolean isTaskReturn,
      java.util.function.Consumer<ByteBuffer> writer) {
    CreateObjectRequest.Builder req =
        CreateObjectRequest.newBuilder()
            .setClientId(clientId)
            .setObjectId(id)
            .setPayloadSize(size)
            .setFormat(format)
            .addAllNestedRefs(nested)
            .setIsTaskReturn(isTaskReturn)
            .setAfterSeq(fence());
    Fence f = directFence.get();
    if (f != null) {
      // A direct call's return: stored only after its caller registered the call.
      req.setFenceClientId(f.owner()).setFenceSeq(f.seq());
    }
    CreateObjectReply reply = node.createObject(req.build());
    if (!reply.getError().isEmpty()) {
      throw new RayException("The object store is full: " + reply.getError());
    }
    if (reply.getNotNeeded()) {
      return -1;
    }
    writer.accept(arena.writable(reply.getPayloadOffset(), size));
    node.sealObject(SealObjectRequest.newBuilder().setClientId(clientId).setObjectId(id).build());
    return reply.getPayloadOffset();
  }

  private ByteString newPutId() {
    ByteBuffer counter = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
    counter.putInt(0x80000000 | (putCounter.incrementAndGet() & 0x7FFFFFFF));
    return putPrefix.concat(jobId).concat(ByteString.copyFrom(counter.array()));
  }

  /** Values of the objects, in order; raises the first stored error, or RayTimeoutException. */
  public List<Object> get(List<ByteString> ids, long timeoutMs) {
    long deadline = timeoutMs < 0 ? Long.MAX_VALUE : System.nanoTime() + timeoutMs * 1_000_000;
    DirectCalls d = direct;
    if (d != null && !d.awaitAnswers(ids, deadline)) {
      throw new RayTimeoutException("Get timed out: some object(s) not ready.");
    }
    // Values this process has (its puts, pushed calls' answers) need no round trip.
    ObjectValue[] found = new ObjectValue[ids.size()];
    List<ByteString> missing = new ArrayList<>();
    for (int i = 0; i < found.length; i++) {
      found[i] = cache.get(ids.get(i));
      if (found[i] == null) {
        missing.add(ids.get(i));
      }
    }
    if (!missing.isEmpty()) {
      long left = timeoutMs < 0 ? -1 : Math.max(0, (deadline - System.nanoTime()) / 1_000_000);
      List<ObjectValue> fetched = fetch(missing, left);
      for (int i = 0, k = 0; i < found.length; i++) {
        if (found[i] == null) {
          found[i] = fetched.get(k++);
        }
      }
    }
    List<Object> values = new ArrayList<>(found.length);
    RuntimeException first = null;
    for (ObjectValue v : found) {
      try {
        // Fetched shared values come pinned for this process; cached ones are inline.
        values.add(decode(v, true));
      } catch (RuntimeException e) {
        first = first == null ? e : first;
        values.add(null);
      }
    }
    if (first != null) {
      throw first;
    }
    return values;
  }

  /** The objects' values from the node (shared ones pinned for this process). */
  private List<ObjectValue> fetch(List<ByteString> ids, long timeoutMs) {
    ChangeStream.Taken taken = takeChanges();
    GetObjectsRequest.Builder req =
        GetObjectsRequest.newBuilder()
            .setClientId(clientId)
            .addAllObjectIds(ids)
            .setTimeoutMs(timeoutMs)
            .setAfterSeq(taken.seq())
            .addAllOps(taken.messages());
    Fence f = directFence.get();
    if (f != null) {
      req.setFenceClientId(f.owner()).setFenceSeq(f.seq());
    }
    GetObjectsReply reply;
    try {
      reply = node.getObjects(req.build());
    } catch (RuntimeException e) {
      changes.putBack(taken.messages());
      throw e;
    }
    if (reply.getTimedOut()) {
      throw new RayTimeoutException("Get timed out: some object(s) not ready.");
    }
    return reply.getObjectsList();
  }

  /** Indices of the ready objects (at least {@code numReady} unless the timeout passed first). */
  public List<Integer> wait(List<ByteString> ids, int numReady, long timeoutMs, boolean fetch) {
    ChangeStream.Taken taken = changes.take();
    WaitObjectsRequest.Builder req =
        WaitObjectsRequest.newBuilder()
            .setClientId(clientId)
            .addAllObjectIds(ids)
            .setNumReady(numReady)
            .setTimeoutMs(timeoutMs < 0 ? -1 : timeoutMs)
            .setAfterSeq(taken.seq())
            .addAllOps(taken.messages())
            .setNoFetch(!fetch);
    Fence f = directFence.get();
    if (f != null) {
      req.setFenceClientId(f.owner()).setFenceSeq(f.seq());
    }
    try {
      return node.waitObjects(req.build()).getReadyIndicesList();
    } catch (RuntimeException e) {
      changes.putBack(taken.messages());
      throw e;
    }
  }

  /**
   * The value of a stored object; raises what an error value holds. A shared-memory value is read
   * in place and its pin (taken by the node for this process when {@code pinned}) released after.
   */
  public Object decode(ObjectValue v, boolean pinned) {
    if (v.hasInline()) {
      return decodePayload(
          v.getInline().getFormat(), v.getInline().getPayload().asReadOnlyByteBuffer());
    }
    if (!v.hasShared()) {
      throw new RayException("object " + Ids.hex(v.getObjectId()) + " is not on this node");
    }
    try {
      ByteBuffer payload =
          arena.read(v.getShared().getPayloadOffset(), v.getShared().getPayloadSize());
      return decodePayload(v.getShared().getFormat(), payload);
    } finally {
      if (pinned) {
        releasePin(v.getObjectId());
      }
    }
  }

  private Object decodePayload(ObjectFormat format, ByteBuffer payload) {
    switch (format) {
      case JAVA_VALUE:
        // Refs and actor handles inside hold their objects for this process, as the value did.
        ValueRefs.HOLDER.set(this);
        try {
          return codec.deserialize(payload);
        } finally {
          ValueRefs.HOLDER.remove();
        }
      case CROSS_LANGUAGE:
        return io.ray.runtime.serialization.CrossLanguageCodec.decode(payload);
      case ARRAY:
        // A view of the payload (of shared memory): read in place, or copied when fitted.
        return io.ray.runtime.serialization.ArrayCodec.decode(payload);
      case JAVA_ERROR:
        JavaError error = (JavaError) codec.deserialize(payload);
        throw new RayTaskException(
            error.pid(), error.ip(), error.describe(), new RemoteException(error));
      case ENGINE_ERROR:
        try {
          ErrorInfo info = ErrorInfo.parseFrom(payload);
          throw Errors.fromEngine(info.getErrorType(), info.getMessage());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new RayException("an engine error that cannot be read: " + e.getMessage());
        }
      default:
        throw new io.ray.api.exception.CrossLanguageException(
            "This object holds a Python value ("
                + format
                + "): reading Python values from Java is not supported by this Ray (Ray on the"
                + " JVM) yet");
    }
  }

  /**
   * Pushes Java calls straight to actors' and leased workers from now on ({@code token}: what
   * workers ask of their callers).
   */
  public void enableDirectCalls(io.ray.engine.common.ClusterToken token) {
    this.direct = new DirectCalls(this, node, token);
  }

  /** Takes the unsent changes for a request to carry (see {@link ChangeStream#take()}). */
  ChangeStream.Taken takeChanges() {
    return changes.take();
  }

  /** A request that carried {@code taken} failed: its changes go back. */
  void putBackChanges(ChangeStream.Taken taken) {
    changes.putBack(taken.messages());
  }

  /**
   * Runs {@code body} (a worker's direct call) with reads and stores fenced on the call's owner:
   * the node serves them after the owner's registration of the call.
   */
  public <T> T fenced(ByteString owner, long seq, java.util.function.Supplier<T> body) {
    directFence.set(new Fence(owner, seq));
    try {
      return body.get();
    } finally {
      directFence.remove();
    }
  }

  /**
   * Queues a Java task or Java actor call: pushed to a leased worker or the actor's worker when it
   * can be (see {@link DirectCalls}), else through the node.
   *
   * @param concurrency the actor's max concurrency (calls in flight at once); unused for tasks
   */
  public <T> ObjectRefImpl<T> submitDirect(TaskSpec.Builder spec, int concurrency) {
    DirectCalls d = direct;
    boolean pushed =
        d != null && (spec.hasActorTask() ? d.submitActor(spec, concurrency) : d.submitTask(spec));
    if (!pushed) {
      action(ClientAction.newBuilder().setSubmit(spec).build());
    }
    return new ObjectRefImpl<>(Ids.returnId(spec.getTaskId(), 1), this, null);
  }

  /** Registers a pushed call with the node (not urgent); returns the seq of its message. */
  long registerDirect(TaskSpec spec) {
    return lazyAction(ClientAction.newBuilder().setSubmit(spec).build());
  }

  /** Caches a pushed call's small return (while this process holds a ref to it). */
  void cacheAnswer(ObjectValue v) {
    cache.put(v.getObjectId(), v);
  }

  /** Calls to the actor take the node path from now on (it is being killed). */
  void stopPushing(ByteString actorId) {
    DirectCalls d = direct;
    if (d != null) {
      d.stopPushing(actorId);
    }
  }

  /** Queues a task; returns the ref to its (one) return value. */
  public <T> ObjectRefImpl<T> submit(TaskSpec spec) {
    return submit(spec, null);
  }

  /** As {@link #submit(TaskSpec)}; the return value is fitted to {@code type} when read. */
  public <T> ObjectRefImpl<T> submit(TaskSpec spec, Class<?> type) {
    action(ClientAction.newBuilder().setSubmit(spec).build());
    return new ObjectRefImpl<>(Ids.returnId(spec.getTaskId(), 1), this, type);
  }

  /** Sends the last changes, then stops (the stream is closing). */
  @Override
  public void close() {
    DirectCalls d = direct;
    if (d != null) {
      d.close();
    }
    changes.close();
    arena.close();
  }

  /** The remote exception a RayTaskException carries as its cause: the task's own, as text. */
  public static final class RemoteException extends RuntimeException {
    private final JavaError error;

    RemoteException(JavaError error) {
      super(error.className() + ": " + error.message(), null, false, false);
      this.error = error;
    }

    /** The class of the exception the task threw. */
    public String remoteClassName() {
      return error.className();
    }

    @Override
    public String toString() {
      return error.className() + ": " + error.message();
    }
  }
}
