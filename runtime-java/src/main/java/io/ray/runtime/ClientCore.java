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

  private long send(ClientOps.Builder ops) {
    return changes.add(ops);
  }

  long action(ClientAction action) {
    return send(ClientOps.newBuilder().addActions(action));
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
    send(
        ClientOps.newBuilder()
            .addReferences(ReferenceDelta.newBuilder().setObjectId(objectId).setRefDelta(-1)));
  }

  private void releasePin(ByteString objectId) {
    send(
        ClientOps.newBuilder()
            .addReferences(ReferenceDelta.newBuilder().setObjectId(objectId).setPinsReleased(1)));
  }

  // ---------------------------------------------------------------- objects

  /** Stores a value this process puts; the ref holds its count. */
  public <T> ObjectRefImpl<T> put(Object value) {
    return putEncoded(codec.serialize(value), ObjectFormat.JAVA_VALUE);
  }

  /** Stores an encoded value of {@code format}; the ref holds its count. */
  public <T> ObjectRefImpl<T> putEncoded(byte[] bytes, ObjectFormat format) {
    ByteString id = newPutId();
    if (bytes.length <= maxInlineBytes) {
      ObjectValue v =
          ObjectValue.newBuilder()
              .setObjectId(id)
              .setInline(
                  InlineObject.newBuilder()
                      .setFormat(format)
                      .setPayload(ByteString.copyFrom(bytes)))
              .build();
      action(ClientAction.newBuilder().setPut(v).build());
    } else {
      writeToArena(id, bytes, format, false);
    }
    return new ObjectRefImpl<>(id, this);
  }

  /**
   * Stores a value in the arena (CreateObject, write, SealObject). Returns the payload offset, or
   * -1 when the node says the value is not needed.
   */
  public long writeToArena(ByteString id, byte[] bytes, ObjectFormat format, boolean isTaskReturn) {
    return writeToArena(id, bytes.length, format, isTaskReturn, target -> target.put(bytes));
  }

  /**
   * Stores {@code size} bytes that {@code writer} puts straight into the arena (no copy on the
   * heap); returns the payload offset, or -1 when the node says the value is not needed.
   */
  public long writeToArena(
      ByteString id,
      int size,
      ObjectFormat format,
      boolean isTaskReturn,
      java.util.function.Consumer<ByteBuffer> writer) {
    CreateObjectReply reply =
        node.createObject(
            CreateObjectRequest.newBuilder()
                .setClientId(clientId)
                .setObjectId(id)
                .setPayloadSize(size)
                .setFormat(format)
                .setIsTaskReturn(isTaskReturn)
                .setAfterSeq(fence())
                .build());
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
    ChangeStream.Taken taken = changes.take();
    GetObjectsReply reply;
    try {
      reply =
          node.getObjects(
              GetObjectsRequest.newBuilder()
                  .setClientId(clientId)
                  .addAllObjectIds(ids)
                  .setTimeoutMs(timeoutMs < 0 ? -1 : timeoutMs)
                  .setAfterSeq(taken.seq())
                  .addAllOps(taken.messages())
                  .build());
    } catch (RuntimeException e) {
      changes.putBack(taken.messages());
      throw e;
    }
    if (reply.getTimedOut()) {
      throw new RayTimeoutException("Get timed out: some object(s) not ready.");
    }
    List<Object> values = new ArrayList<>(reply.getObjectsCount());
    RuntimeException first = null;
    for (ObjectValue v : reply.getObjectsList()) {
      try {
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

  /** Indices of the ready objects (at least {@code numReady} unless the timeout passed first). */
  public List<Integer> wait(List<ByteString> ids, int numReady, long timeoutMs, boolean fetch) {
    ChangeStream.Taken taken = changes.take();
    try {
      return node.waitObjects(
              WaitObjectsRequest.newBuilder()
                  .setClientId(clientId)
                  .addAllObjectIds(ids)
                  .setNumReady(numReady)
                  .setTimeoutMs(timeoutMs < 0 ? -1 : timeoutMs)
                  .setAfterSeq(taken.seq())
                  .addAllOps(taken.messages())
                  .setNoFetch(!fetch)
                  .build())
          .getReadyIndicesList();
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
        return codec.deserialize(payload);
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
