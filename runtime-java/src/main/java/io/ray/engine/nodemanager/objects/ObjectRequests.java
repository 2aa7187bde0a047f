package io.ray.engine.nodemanager.objects;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.Reply;
import io.ray.engine.rpc.CreateObjectReply;
import io.ray.engine.rpc.CreateObjectRequest;
import io.ray.engine.rpc.GetObjectsReply;
import io.ray.engine.rpc.GetObjectsRequest;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.SealObjectReply;
import io.ray.engine.rpc.SealObjectRequest;
import io.ray.engine.rpc.SharedMemoryObject;
import io.ray.engine.rpc.WaitObjectsReply;
import io.ray.engine.rpc.WaitObjectsRequest;
import io.ray.shm.Allocator;
import io.ray.shm.SharedMemoryArena;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Clients' reads and writes of objects: get and wait (answered when objects are ready or a timeout
 * passes), and create/seal of arena payloads. Runs on the node manager's loop, which owns the
 * directory and the arena; waiting never blocks the loop (callbacks on the entries).
 */
public final class ObjectRequests {

  /** Told when a client starts and stops waiting, so a worker's CPUs can be lent meanwhile. */
  public interface Lending {
    void blocked(ByteString client);

    void unblocked(ByteString client);
  }

  /** The job of a client that is a driver; null for a worker (which runs any job's calls). */
  public interface Drivers {
    ByteString jobOf(ByteString client);
  }

  private Drivers drivers = client -> null;

  /**
   * Refs each driver was handed inside values this node served it: a driver reads objects of its
   * own job (an object id carries its job's id) and those, never another job's by a made-up id.
   */
  private final Map<ByteString, Set<ByteString>> handedOut = new HashMap<>();

  private final EventLoop loop;
  private final ObjectDirectory objects;
  private final SharedMemoryArena arena;
  private final Lending lending;

  public ObjectRequests(
      EventLoop loop, ObjectDirectory objects, SharedMemoryArena arena, Lending lending) {
    this.loop = loop;
    this.objects = objects;
    this.arena = arena;
    this.lending = lending;
  }

  /**
   * Answers when all objects are ready, or as soon as one of them holds an error (as Ray's get,
   * which raises the first error it learns of without waiting for the rest), or when the timeout
   * passes; pins arena results.
   */
  public void get(GetObjectsRequest req, Reply<GetObjectsReply> reply) {
    ByteString client = req.getClientId();
    List<ByteString> ids = req.getObjectIdsList();
    ByteString notOurs = firstForbidden(client, ids);
    if (notOurs != null) {
      reply.ok(
          GetObjectsReply.newBuilder()
              .setFailed(true)
              .addObjects(
                  ObjectValue.newBuilder()
                      .setObjectId(notOurs)
                      .setInline(
                          EngineErrors.of(
                              "ObjectLostError",
                              "Failed to retrieve object "
                                  + Ids.hex(notOurs)
                                  + ": it belongs to another job, and this driver was not"
                                  + " handed a reference to it.")))
              .build());
      return;
    }
    List<ObjectDirectory.Entry> pending = pendingOf(ids);
    boolean failedAlready = pending.size() < ids.size() && anyReadyError(ids);
    awaitReady(
        client,
        pending,
        failedAlready ? 0 : pending.size(),
        req.getTimeoutMs(),
        true,
        false,
        timedOut ->
            reply.ok(
                timedOut
                    ? GetObjectsReply.newBuilder().setTimedOut(true).build()
                    : objectsReply(client, ids)));
  }

  /** Answers when {@code num_ready} objects are ready (or lost), or the timeout passes. */
  public void await(WaitObjectsRequest req, Reply<WaitObjectsReply> reply) {
    List<ByteString> ids = req.getObjectIdsList();
    boolean noFetch = req.getNoFetch();
    List<ObjectDirectory.Entry> pending = pendingOf(ids);
    // Another job's objects count as ready, as unknown ones do: a get of them then fails.
    pending.removeIf(e -> firstForbidden(req.getClientId(), List.of(e.id)) != null);
    if (noFetch) {
      pending.removeIf(ObjectDirectory.Entry::located);
    }
    int needed = req.getNumReady() - (ids.size() - pending.size());
    awaitReady(
        req.getClientId(),
        pending,
        needed,
        req.getTimeoutMs(),
        false,
        noFetch,
        timedOut -> reply.ok(readyIndices(ids, noFetch)));
  }

  /** Reserves arena space for a payload the client will write, or says why not. */
  public void create(CreateObjectRequest req, Reply<CreateObjectReply> reply) {
    ByteString id = req.getObjectId();
    if (req.getIsTaskReturn() && !objects.wanted(id)) {
      reply.ok(CreateObjectReply.newBuilder().setNotNeeded(true).build());
      return;
    }
    long offset = arena.create(id.toByteArray(), req.getPayloadSize(), req.getFormatValue());
    if (offset == Allocator.NO_SPACE) {
      reply.ok(
          CreateObjectReply.newBuilder()
              .setError(
                  String.format(
                      "Failed to put object %s in the object store: it needs %d bytes, but the"
                          + " store holds %d of %d bytes in objects that are still referenced."
                          + " Release ObjectRefs you no longer need, or start Ray with a larger"
                          + " object_store_memory.",
                      Ids.hex(id), req.getPayloadSize(), arena.used(), arena.capacity()))
              .build());
      return;
    }
    ObjectDirectory.Entry e =
        objects.beginCreate(
            id,
            req.getClientId(),
            offset,
            req.getPayloadSize(),
            req.getFormat(),
            req.getNestedRefsList(),
            req.getIsTaskReturn());
    if (e == null) {
      arena.free(offset);
      reply.ok(CreateObjectReply.newBuilder().setNotNeeded(true).build());
      return;
    }
    reply.ok(CreateObjectReply.newBuilder().setPayloadOffset(offset).build());
  }

  /** Makes a written payload readable. */
  public void seal(SealObjectRequest req, Reply<SealObjectReply> reply) {
    ObjectDirectory.Entry e = objects.get(req.getObjectId());
    if (e == null || !e.beingCreated()) {
      reply.fail(
          Status.FAILED_PRECONDITION.withDescription(
              "object " + Ids.hex(req.getObjectId()) + " is not being created"));
      return;
    }
    arena.seal(e.payloadOffset());
    objects.seal(req.getObjectId(), req.getClientId());
    reply.ok(SealObjectReply.getDefaultInstance());
  }

  /** Tells apart drivers (they read their own job's objects only) from workers. */
  public void useDrivers(Drivers drivers) {
    this.drivers = drivers;
  }

  /** A client left: what it was handed goes with it. */
  public void forget(ByteString client) {
    handedOut.remove(client);
  }

  /** The first of {@code ids} a driver may not read (another job's, not handed to it); or null. */
  private ByteString firstForbidden(ByteString client, List<ByteString> ids) {
    ByteString job = drivers.jobOf(client);
    if (job == null) {
      return null;
    }
    Set<ByteString> handed = handedOut.getOrDefault(client, Set.of());
    for (ByteString id : ids) {
      if (id.size() == Ids.OBJECT_ID_SIZE
          && !Ids.jobOfObject(id).equals(job)
          && !handed.contains(id)) {
        return id;
      }
    }
    return null;
  }

  /** Entries of {@code ids} that exist and are not ready yet (unknown ids count as ready). */
  private List<ObjectDirectory.Entry> pendingOf(List<ByteString> ids) {
    List<ObjectDirectory.Entry> pending = new ArrayList<>();
    for (ByteString id : ids) {
      ObjectDirectory.Entry e = objects.get(id);
      if (e != null && !e.ready()) {
        pending.add(e);
      }
    }
    return pending;
  }

  /**
   * Calls {@code done(timedOut)} once {@code needed} of the pending entries are ready, or the
   * timeout passes (negative: never; zero: now); with {@code stopOnError}, also as soon as one of
   * them becomes ready holding an error. While it waits, a worker caller's CPUs are lent to the
   * node.
   */
  private void awaitReady(
      ByteString client,
      List<ObjectDirectory.Entry> pending,
      int needed,
      long timeoutMs,
      boolean stopOnError,
      boolean locatedIsEnough,
      Consumer<Boolean> done) {
    if (needed <= 0) {
      done.accept(false);
      return;
    }
    if (timeoutMs == 0) {
      done.accept(true);
      return;
    }
    Waiter waiter = new Waiter(needed);
    waiter.onDone =
        timedOut -> {
          lending.unblocked(client);
          done.accept(timedOut);
        };
    for (ObjectDirectory.Entry e : pending) {
      if (locatedIsEnough) {
        objects.whenLocated(e, () -> waiter.oneReady(false));
      } else if (stopOnError) {
        objects.whenReady(e, () -> waiter.oneReady(isError(e)));
      } else {
        objects.whenReady(e, () -> waiter.oneReady(false));
      }
    }
    waiter.armTimeout(timeoutMs);
    lending.blocked(client);
  }

  /**
   * All the objects, in request order; or, when some are still pending (an error ended the wait
   * early), only the ready ones that hold errors, with {@code failed} set.
   */
  private GetObjectsReply objectsReply(ByteString client, List<ByteString> ids) {
    GetObjectsReply.Builder b = GetObjectsReply.newBuilder();
    if (pendingOf(ids).isEmpty()) {
      for (ByteString id : ids) {
        b.addObjects(describe(client, id));
      }
      return b.build();
    }
    b.setFailed(true);
    for (ByteString id : ids) {
      ObjectDirectory.Entry e = objects.get(id);
      if (e != null && e.ready() && isError(e)) {
        b.addObjects(describe(client, id));
      }
    }
    return b.build();
  }

  private boolean anyReadyError(List<ByteString> ids) {
    for (ByteString id : ids) {
      ObjectDirectory.Entry e = objects.get(id);
      if (e != null && e.ready() && isError(e)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isError(ObjectDirectory.Entry e) {
    return e.format() == ObjectFormat.ERROR || e.format() == ObjectFormat.ENGINE_ERROR;
  }

  /** Where a ready object can be read; an arena object is pinned for the reader. */
  public ObjectValue describe(ByteString client, ByteString id) {
    ObjectDirectory.Entry e = objects.get(id);
    if (e != null && !e.nested().isEmpty() && drivers.jobOf(client) != null) {
      handedOut.computeIfAbsent(client, c -> new HashSet<>()).addAll(e.nested());
    }
    ObjectValue.Builder v = ObjectValue.newBuilder().setObjectId(id);
    if (e == null) {
      return v.setInline(
              EngineErrors.of(
                  "ObjectLostError",
                  "Failed to retrieve object "
                      + Ids.hex(id)
                      + ": it no longer exists. It was freed because no ObjectRef to it"
                      + " remained, or it was never created on this cluster."))
          .build();
    }
    if (e.inArena()) {
      objects.pin(e, client);
      return v.setShared(
              SharedMemoryObject.newBuilder()
                  .setPayloadOffset(e.payloadOffset())
                  .setPayloadSize(e.payloadSize())
                  .setFormat(e.format()))
          .build();
    }
    return v.setInline(e.inline()).build();
  }

  private WaitObjectsReply readyIndices(List<ByteString> ids, boolean locatedIsEnough) {
    WaitObjectsReply.Builder b = WaitObjectsReply.newBuilder();
    for (int i = 0; i < ids.size(); i++) {
      ObjectDirectory.Entry e = objects.get(ids.get(i));
      if (e == null || e.ready() || (locatedIsEnough && e.located())) {
        b.addReadyIndices(i);
      }
    }
    return b.build();
  }

  /** Counts readiness events down to zero, or gives up at a deadline; completes once. */
  private final class Waiter {
    int remaining;
    boolean done;
    ScheduledFuture<?> timer;
    Consumer<Boolean> onDone;

    Waiter(int remaining) {
      this.remaining = remaining;
    }

    void oneReady(boolean error) {
      if (!done && (--remaining <= 0 || error)) {
        complete(false);
      }
    }

    void armTimeout(long timeoutMs) {
      if (timeoutMs >= 0 && !done) {
        timer = loop.schedule(() -> complete(true), timeoutMs, TimeUnit.MILLISECONDS);
      }
    }

    private void complete(boolean timedOut) {
      if (done) {
        return;
      }
      done = true;
      if (timer != null) {
        timer.cancel(false);
      }
      onDone.accept(timedOut);
    }
  }
}
