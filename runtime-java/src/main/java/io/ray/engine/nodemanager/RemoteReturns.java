package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.objects.EngineErrors;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.rpc.ForwardTaskReply;
import io.ray.engine.rpc.ObjectValue;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Objects another node keeps for this one: the large returns of tasks that ran there, and the
 * objects that returned values hold refs to (puts and task returns made there). Their entries here
 * stay pending, marked as being elsewhere, and are pulled only when something here waits for them
 * ({@link ObjectDirectory#onDemand}): a value read on the node that made it never travels. The peer
 * holds each one for this node until it is pulled (with release) or no longer referenced here
 * ({@code ReleaseObjects}).
 *
 * <p>If the peer is lost before a return is pulled, the task that made it runs again (lineage, as
 * in Ray): its record stays alive, holding its arguments, while any of its returns is elsewhere. An
 * object with no such task here (a put made there) is lost: its readers get {@code OwnerDiedError},
 * an {@code ObjectLostError}.
 *
 * <p>Owned by the node manager's loop.
 */
final class RemoteReturns {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteReturns.class);

  /** What happens to a task whose returns are elsewhere. */
  interface Lineage {
    /** The node holding the task's returns was lost: rebuild them (run it again) or fail them. */
    void lost(TaskRecord task, ByteString node);

    /** None of the task's returns is elsewhere any more: its record may go. */
    void settled(TaskRecord task);
  }

  /** An object a peer keeps for this node; {@code task} (or null) can make it again. */
  private record Held(ByteString node, String address, TaskRecord task) {}

  private final ObjectDirectory objects;
  private final ObjectTransfers transfers;
  private final Spillback spillback;
  private final Lineage lineage;
  private final Map<ByteString, Held> held = new HashMap<>();
  private final Set<ByteString> pulling = new HashSet<>();

  /** Per task kept for lineage, how many of its returns are elsewhere. */
  private final Map<TaskRecord, Integer> away = new IdentityHashMap<>();

  RemoteReturns(
      ObjectDirectory objects, ObjectTransfers transfers, Spillback spillback, Lineage lineage) {
    this.objects = objects;
    this.transfers = transfers;
    this.spillback = spillback;
    this.lineage = lineage;
  }

  /**
   * Stores what a peer answered for a forwarded task: small values at once, large ones as being at
   * the peer. Returns whether some return stays there; {@code task} (null: it cannot run again,
   * e.g. an actor call) is then kept for lineage until they are all here or forgotten.
   */
  boolean store(TaskRecord task, ByteString node, String address, ForwardTaskReply reply) {
    List<ByteString> release = new ArrayList<>();
    List<ByteString> provisional = new ArrayList<>();
    // Nested objects first (inner ones come first), so the values holding them count them.
    for (ObjectValue n : reply.getNestedList()) {
      ByteString id = n.getObjectId();
      if (objects.get(id) != null) {
        release.add(id); // known here already: the peer need not keep it for us
        continue;
      }
      objects.addPending(id, node);
      provisional.add(id);
      held.put(id, new Held(node, address, null));
      if (n.hasRemote()) {
        objects.markElsewhere(id, n.getRemote());
      } else {
        objects.putInline(id, n.getInline(), null);
      }
    }
    int left = 0;
    for (ObjectValue v : reply.getReturnsList()) {
      ByteString id = v.getObjectId();
      if (!v.hasRemote()) {
        objects.putInline(id, v.getInline(), null);
      } else if (!objects.wanted(id) || objects.get(id).ready()) {
        release.add(id);
      } else {
        held.put(id, new Held(node, address, task));
        left++;
        objects.markElsewhere(id, v.getRemote());
      }
    }
    // The values holding the nested objects keep them now (the unreferenced ones go at once).
    provisional.forEach(id -> objects.addClientRef(id, node, -1));
    if (!release.isEmpty()) {
      spillback.releaseObjects(address, release);
    }
    if (left > 0 && task != null) {
      away.merge(task, left, Integer::sum);
    }
    return left > 0;
  }

  /** Something here waits for an object: pull it if a peer keeps it for this node. */
  void demanded(ObjectDirectory.Entry e) {
    Held h = held.get(e.id);
    if (h == null || !pulling.add(e.id)) {
      return;
    }
    transfers.pull(e.id, h.address(), true, ok -> pulled(e.id, h, ok));
  }

  private void pulled(ByteString id, Held h, boolean ok) {
    pulling.remove(id);
    if (held.get(id) != h) {
      return; // forgotten meanwhile (released, or its task runs again)
    }
    if (ok || !objects.wanted(id)) {
      held.remove(id);
      settleOne(h.task());
    } else {
      lost(id, h);
    }
  }

  /** The entry is gone here: the peer need not keep the object any more. */
  void removed(ByteString id) {
    Held h = held.remove(id);
    if (h == null) {
      return;
    }
    if (!pulling.contains(id)) {
      spillback.releaseObjects(h.address(), List.of(id)); // a pull in flight releases it itself
    }
    settleOne(h.task());
  }

  /** A peer left the cluster: what it kept for this node is rebuilt now, or lost. */
  void nodeGone(ByteString node) {
    for (Map.Entry<ByteString, Held> e : new ArrayList<>(held.entrySet())) {
      Held h = e.getValue();
      if (h.node().equals(node) && held.get(e.getKey()) == h && !pulling.contains(e.getKey())) {
        if (objects.wanted(e.getKey())) {
          lost(e.getKey(), h);
        } else {
          held.remove(e.getKey());
        }
      }
    }
  }

  private void lost(ByteString id, Held h) {
    if (h.task() == null) {
      held.remove(id);
      objects.clearElsewhere(id);
      objects.putInline(
          id,
          EngineErrors.of(
              "OwnerDiedError",
              "Failed to retrieve object "
                  + Ids.hex(id)
                  + ": it was stored only on node "
                  + Ids.shortHex(h.node())
                  + ", which died, and no task here can make it again (a ray.put, or the return"
                  + " of a call made there)."),
          null);
      return;
    }
    // Every return of that task that was kept there is lost with it: the task runs again.
    for (Map.Entry<ByteString, Held> e : new ArrayList<>(held.entrySet())) {
      if (e.getValue().task() == h.task()) {
        held.remove(e.getKey());
        objects.clearElsewhere(e.getKey());
      }
    }
    away.remove(h.task());
    LOG.info(
        "returns of task {} were lost with node {}",
        h.task().spec.getName(),
        Ids.shortHex(h.node()));
    lineage.lost(h.task(), h.node());
  }

  private void settleOne(TaskRecord task) {
    if (task == null) {
      return;
    }
    Integer n = away.get(task);
    if (n == null) {
      return;
    }
    if (n > 1) {
      away.put(task, n - 1);
    } else {
      away.remove(task);
      lineage.settled(task);
    }
  }
}
