package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.ray.engine.common.Ids;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.objects.EngineErrors;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.scheduling.ClusterView;
import io.ray.engine.rpc.EndForwardedActorRequest;
import io.ray.engine.rpc.ForwardTaskReply;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.NodeInfo;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.RemoteObject;
import io.ray.engine.rpc.TaskArg;
import io.ray.engine.rpc.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spillback, both ways. Sending: a queued task this node has no room for travels to a peer, and
 * ends here when the peer answers with its returns: small ones inline, large ones kept there until
 * something here wants them ({@link RemoteReturns}, which also reruns the task if they are lost); a
 * refusal puts it back in the queue, and a peer that fails retries the task within {@code
 * max_retries} or fails it with {@code NodeDiedError}. Receiving: a task a peer forwarded runs as
 * any task once its arguments are pulled here, and the peer gets its returns, with the objects they
 * hold refs to, once they are all ready. Small values travel inside the messages; arena values
 * travel as {@code RemoteObject}s that the other side pulls ({@link ObjectTransfers}).
 *
 * <p>What cannot travel yet stays on its node: actor tasks, and arguments that are errors or hold
 * refs (a peer cannot resolve this node's refs); a large returned value that holds refs comes back
 * as an error naming the gap.
 *
 * <p>Threading: owned by the node manager's loop, like the {@link TaskScheduler} it serves.
 */
final class TaskForwarding {
  private static final Logger LOG = LoggerFactory.getLogger(TaskForwarding.class);

  /** What a forwarded task's end does to the scheduler's tasks. */
  interface Tasks {
    /** A forwarded plain task ended; its record stays while its returns are at the peer. */
    void resultsElsewhere(TaskRecord r);

    /** Whether the record is still the scheduler's live record of its task. */
    boolean current(TaskRecord r);

    void requeue(TaskRecord r);

    void retryNow(TaskRecord r);

    void finish(TaskRecord r);

    /** A forwarded task ended and its returns are here (an actor's creation or call, or not). */
    void forwardedEnded(TaskRecord r, ByteString node);

    /**
     * The node running a forwarded actor creation or call failed; false for a plain task (it is
     * then retried or failed here).
     */
    boolean forwardedLost(TaskRecord r, ByteString node, String why);

    void fail(TaskRecord r, String errorType, String message);

    /** Whether {@code id} is the lifetime object of an actor this node holds the record of. */
    boolean isActorLifetime(ByteString id);

    String cancelledMessage(TaskRecord r);
  }

  private final ClusterView view;
  private final Spillback spillback;
  private final ObjectTransfers transfers;
  private final ObjectDirectory objects;
  private final RemoteReturns remote;
  private final Tasks tasks;
  private final ByteString self;
  private final String selfAddress;

  TaskForwarding(
      NodeConfig config,
      Spillback spillback,
      ObjectTransfers transfers,
      ObjectDirectory objects,
      Tasks tasks) {
    this.view = new ClusterView(config.nodeId());
    this.spillback = spillback;
    this.transfers = transfers;
    this.objects = objects;
    this.tasks = tasks;
    this.remote =
        new RemoteReturns(
            objects,
            transfers,
            spillback,
            new RemoteReturns.Lineage() {
              @Override
              public void lost(TaskRecord task, ByteString node) {
                returnsLost(task, node);
              }

              @Override
              public void settled(TaskRecord task) {
                returnsSettled(task);
              }
            });
    objects.onDemand(remote::demanded);
    this.self = config.nodeId();
    this.selfAddress = config.address();
  }

  /**
   * The control service's latest view; holds kept here for nodes that left end. Returns the nodes
   * that left (the actors they hosted for this node are lost).
   */
  List<ByteString> clusterView(List<NodeInfo> nodes) {
    List<ByteString> gone = view.update(nodes);
    gone.forEach(objects::dropClient);
    gone.forEach(remote::nodeGone);
    return gone;
  }

  List<ClusterView.Peer> candidates(long nowMs) {
    return view.candidates(nowMs);
  }

  /** Whether {@code node} is an alive peer in the cluster view, and no call to it failed lately. */
  boolean alive(ByteString node) {
    return view.peer(node) != null && !view.failedLately(node, System.currentTimeMillis());
  }

  /** Sends the task to {@code node}; false (nothing changed) if it must run here. */
  boolean forward(TaskRecord r, ByteString node) {
    ClusterView.Peer peer = view.peer(node);
    Travelling t = r.fromPeer || peer == null ? null : travelling(r);
    if (t == null) {
      return false;
    }
    view.charge(node, r.demand);
    r.forwardedDemand = r.demand;
    r.forwardedTo = node;
    LOG.debug("task {} spills to node {}", r.spec.getName(), Ids.shortHex(node));
    spillback.forward(peer.address(), t.spec(), t.nested(), outcome(r, node, peer.address()));
    return true;
  }

  /**
   * Sends a call of an actor that lives on {@code node} (created there by forwarding) to it, in the
   * order calls are sent: one connection per peer, handled there in arrival order. False if the
   * node is not in the view or the call's arguments cannot travel.
   */
  boolean forwardCall(TaskRecord call, ByteString node) {
    ClusterView.Peer peer = view.peer(node);
    Travelling t = peer == null || call.spec.getStreaming() ? null : withTravellingArgs(call);
    if (t == null) {
      return false;
    }
    call.forwardedDemand = ResourceSet.EMPTY;
    call.forwardedTo = node;
    spillback.forward(peer.address(), t.spec(), t.nested(), outcome(call, node, peer.address()));
    return true;
  }

  /** Tells the node hosting an actor to end it for good, or to restart it ({@code noRestart}). */
  void endActor(ByteString node, ByteString actorId, ByteString lifetime, boolean noRestart) {
    ClusterView.Peer peer = view.peer(node);
    if (peer == null) {
      return; // gone: the actor went with it, and its hold here with its view
    }
    spillback.endActor(
        peer.address(),
        EndForwardedActorRequest.newBuilder()
            .setActorId(actorId)
            .setFromNodeId(self)
            .setLifetimeObjectId(lifetime)
            .setNoRestart(noRestart)
            .build());
  }

  /** Tells every peer that a job started here (they warm its workers). */
  void announceJob(ByteString jobId) {
    for (ClusterView.Peer p : view.candidates(0)) {
      spillback.jobStarted(p.address(), jobId);
    }
  }

  /** Cancels a forwarded task at its peer; its failure then ends it here. */
  void cancel(ByteString taskId, String why) {
    spillback.cancel(taskId, why);
  }

  /** A task as it travels: its spec, and the objects its arguments hold refs to. */
  private record Travelling(TaskSpec spec, List<ObjectValue> nested) {}

  /**
   * The task as it travels: small arguments by value, arena ones as remote objects the peer pulls
   * from here (the task's record keeps them alive meanwhile). Null when it must run here: an actor
   * task, a leased one, or an argument that cannot travel (below).
   */
  private Travelling travelling(TaskRecord r) {
    TaskSpec spec = r.spec;
    if (spec.hasActorTask() || !spec.getLeaseId().isEmpty() || spec.getStreaming()) {
      return null; // a generator's items are read from the node that runs it (not built: others)
    }
    return withTravellingArgs(r);
  }

  /**
   * The spec with its arguments as they travel, and the objects their values hold refs to (inner
   * ones first; actor handles travel as they are, see {@link #nestedOf}). Null if an argument
   * cannot travel: an error, a large value holding refs, or a value holding a ref to an object that
   * is not ready here yet.
   */
  private Travelling withTravellingArgs(TaskRecord r) {
    TaskSpec spec = r.spec;
    TaskSpec.Builder b = spec.toBuilder().setAttempt(r.attempt);
    List<ByteString> refs = new ArrayList<>();
    for (int i = 0; i < spec.getArgsCount(); i++) {
      TaskArg arg = spec.getArgs(i);
      if (arg.hasValue()) {
        refs.addAll(arg.getValue().getNestedRefsList());
        continue;
      }
      ObjectDirectory.Entry e = objects.get(arg.getObjectId());
      if (e == null
          || !e.ready()
          || (e.inArena() && !onlyActorHandles(e.nested()))
          || e.format() == ObjectFormat.ERROR
          || e.format() == ObjectFormat.ENGINE_ERROR) {
        return null;
      }
      refs.addAll(e.nested());
      b.setArgs(
          i,
          e.inArena()
              ? arg.toBuilder().setResolved(remote(e)).build()
              : TaskArg.newBuilder().setKeyword(arg.getKeyword()).setValue(e.inline()).build());
    }
    List<ObjectValue> nested = new ArrayList<>();
    for (ByteString id : nestedOf(refs, new java.util.HashSet<>())) {
      ObjectDirectory.Entry e = objects.get(id);
      if (e == null || !e.ready() || (e.inArena() && !e.nested().isEmpty())) {
        return null;
      }
      nested.add(valueOf(e));
    }
    return new Travelling(b.build(), nested);
  }

  /**
   * Whether the refs a value holds are all actors' lifetime objects (handles): those may travel, as
   * the other node never reads them; a call it makes on such a handle comes back here ({@code
   * ActorTaskSpec.home_node_id}), and this node's task record keeps the actor alive.
   */
  private boolean onlyActorHandles(List<ByteString> nested) {
    for (ByteString id : nested) {
      if (!tasks.isActorLifetime(id)) {
        return false;
      }
    }
    return true;
  }

  private Spillback.Outcome outcome(TaskRecord r, ByteString node, String address) {
    return new Spillback.Outcome() {
      @Override
      public void answered(ForwardTaskReply reply) {
        if (!settled(r, node)) {
          return;
        }
        if (!reply.getRejected().isEmpty() && r.isActorCall()) {
          // The node hosting the actor no longer serves it (it is leaving, or lost the job).
          nodeFailed(r, node, Status.UNAVAILABLE.withDescription(reply.getRejected()));
          return;
        }
        if (!reply.getRejected().isEmpty()) {
          LOG.debug(
              "node {} refused {}: {}", Ids.shortHex(node), r.spec.getName(), reply.getRejected());
          view.backOff(node, System.currentTimeMillis(), ClusterView.BACK_OFF_MS);
          tasks.requeue(r);
          return;
        }
        storeReturns(r, node, address, reply);
      }

      @Override
      public void failed(Status status) {
        if (settled(r, node)) {
          nodeFailed(r, node, status);
        }
      }
    };
  }

  /** The forwarding of {@code r} to {@code node} is over; true if the record still waits on it. */
  private boolean settled(TaskRecord r, ByteString node) {
    view.discharge(node, r.forwardedDemand);
    r.forwardedDemand = ResourceSet.EMPTY;
    if (!tasks.current(r) || !node.equals(r.forwardedTo)) {
      return false; // ended here meanwhile (its job ended)
    }
    r.forwardedTo = null;
    return true;
  }

  /**
   * Stores a forwarded task's returns: small ones at once, large ones stay at the peer until
   * something here wants them ({@link RemoteReturns}). The task ends now; a plain task whose
   * returns stay there keeps its record (and its arguments) so that it can run again if they are
   * lost.
   */
  private void storeReturns(TaskRecord r, ByteString node, String address, ForwardTaskReply reply) {
    boolean rebuildable = r.actor == null && !r.isActorCall();
    if (remote.store(rebuildable ? r : null, node, address, reply) && rebuildable) {
      r.resultsAt = node;
      tasks.resultsElsewhere(r);
    } else {
      tasks.forwardedEnded(r, node);
    }
  }

  /** Something here waits for an object another node keeps for this one: pull it. */
  void demanded(ObjectDirectory.Entry e) {
    remote.demanded(e);
  }

  /** An object's entry is gone here. */
  void objectRemoved(ByteString id) {
    remote.removed(id);
  }

  /**
   * The node holding a task's returns was lost before they came here: the task runs again within
   * its {@code max_retries}, as Ray rebuilds objects from their lineage, or its returns fail.
   */
  private void returnsLost(TaskRecord r, ByteString node) {
    if (!tasks.current(r)) {
      return;
    }
    r.resultsAt = null;
    if (r.retriesLeft != 0) {
      LOG.info(
          "rebuilding the returns of task {} (lost with node {}): running it again",
          r.spec.getName(),
          Ids.shortHex(node));
      tasks.retryNow(r);
    } else {
      tasks.fail(
          r,
          "ObjectReconstructionFailedError",
          "The returns of task "
              + r.spec.getName()
              + " were lost with node "
              + Ids.shortHex(node)
              + ", and it may not run again (max_retries=0, or its retries are used up).");
    }
  }

  private void returnsSettled(TaskRecord r) {
    if (tasks.current(r) && r.resultsAt != null) {
      r.resultsAt = null;
      tasks.finish(r);
    }
  }

  /** The peer running {@code r} failed, or lost a return before this node had it. */
  private void nodeFailed(TaskRecord r, ByteString node, Status status) {
    if (r.cancelled) {
      tasks.fail(r, "TaskCancelledError", tasks.cancelledMessage(r));
      return;
    }
    view.failed(node, System.currentTimeMillis());
    if (tasks.forwardedLost(r, node, String.valueOf(status.getCode()))) {
      return;
    }
    if (r.isActorCall()) {
      // A call passed on to the node holding its actor's record: that node is out of reach.
      tasks.fail(
          r,
          "ActorDiedError",
          "The actor of call "
              + r.spec.getName()
              + " is out of reach: the node holding it ("
              + Ids.shortHex(node)
              + ") could not be reached ("
              + status.getCode()
              + ").");
      return;
    }
    if (r.retriesLeft != 0) {
      LOG.info(
          "retrying task {}: node {} failed ({})",
          r.spec.getName(),
          Ids.shortHex(node),
          status.getCode());
      tasks.retryNow(r);
    } else {
      tasks.fail(
          r,
          "NodeDiedError",
          "Task "
              + r.spec.getName()
              + " failed: the node it ran on ("
              + Ids.shortHex(node)
              + ") could not be reached ("
              + status.getCode()
              + ").");
    }
  }

  private ObjectValue remote(ObjectDirectory.Entry e) {
    return ObjectValue.newBuilder()
        .setObjectId(e.id)
        .setRemote(
            RemoteObject.newBuilder()
                .setNodeId(self)
                .setAddress(selfAddress)
                .setPayloadSize(e.payloadSize()))
        .build();
  }

  /**
   * A forwarded task's arena arguments: each gets an entry here (pending, held by {@code from}
   * until the task's record holds it) and a pull, started by the runnables added to {@code
   * afterAccept}. Returns the spec as it runs here.
   */
  TaskSpec receiving(
      TaskSpec spec,
      ByteString from,
      List<ObjectValue> nested,
      List<Runnable> afterAccept,
      List<ByteString> pulled) {
    // The objects the arguments hold refs to: stored or pulled here, held by the peer's id until
    // the task's record holds them (through its arguments' values).
    for (ObjectValue n : nested) {
      ByteString id = n.getObjectId();
      if (objects.get(id) != null) {
        continue;
      }
      objects.addPending(id, from);
      afterAccept.add(() -> objects.addClientRef(id, from, -1));
      if (n.hasInline()) {
        objects.putInline(id, n.getInline(), null);
      } else {
        pulled.add(id);
        String address = n.getRemote().getAddress();
        afterAccept.add(
            () -> transfers.pull(id, address, false, ok -> argumentPulled(id, address, ok)));
      }
    }
    TaskSpec.Builder b = null;
    for (int i = 0; i < spec.getArgsCount(); i++) {
      TaskArg arg = spec.getArgs(i);
      if (!arg.hasObjectId() || !arg.getResolved().hasRemote()) {
        continue;
      }
      if (b == null) {
        b = spec.toBuilder();
      }
      b.setArgs(i, arg.toBuilder().clearResolved());
      ByteString id = arg.getObjectId();
      if (objects.get(id) != null) {
        continue; // here already, or on its way
      }
      objects.addPending(id, from);
      String address = arg.getResolved().getRemote().getAddress();
      afterAccept.add(
          () -> {
            objects.addClientRef(id, from, -1); // the task holds it now
            transfers.pull(id, address, false, ok -> argumentPulled(id, address, ok));
          });
    }
    return b == null ? spec : b.build();
  }

  private void argumentPulled(ByteString id, String address, boolean ok) {
    if (!ok && objects.wanted(id)) {
      objects.putInline(
          id,
          EngineErrors.of(
              "ObjectLostError",
              "Failed to retrieve object "
                  + Ids.hex(id)
                  + " from the node that holds it ("
                  + address
                  + ")."),
          null);
    }
  }

  /**
   * Answers a peer that forwarded {@code spec} once all its returns are ready: small ones inline,
   * arena ones as remote objects held here for {@code from} until it pulls them or lets go, and
   * with them every object the inline returns hold refs to (once those are ready too), held here
   * for {@code from} the same way. The caller's own hold here ends then.
   */
  void answerWhenDone(
      TaskSpec spec, ByteString from, List<ByteString> pulled, Reply<ForwardTaskReply> reply) {
    List<ByteString> ids = new ArrayList<>();
    for (int i = 1; i <= spec.getNumReturns(); i++) {
      ids.add(Ids.returnId(spec.getTaskId(), i));
    }
    // The objects its arguments held refs to are all here before the peer may let go of them.
    whenAllReady(
        pulled,
        () ->
            whenAllReady(
                ids, () -> whenAllReady(nestedOf(ids), () -> answer(spec, ids, from, reply))));
  }

  private void answer(
      TaskSpec spec, List<ByteString> ids, ByteString from, Reply<ForwardTaskReply> reply) {
    ForwardTaskReply.Builder b = ForwardTaskReply.newBuilder();
    if (spec.hasActorCreation()) {
      // The actor lives here now: its lifetime object stays, held for the node that owns
      // it, until that node ends the actor (EndForwardedActor) or leaves the cluster.
      objects.addClientRef(ids.get(0), from, 1);
    }
    for (ByteString n : nestedOf(ids)) {
      ObjectDirectory.Entry e = objects.get(n);
      if (e == null || !e.ready()) {
        continue; // freed meanwhile: the peer's reader gets ObjectLostError
      }
      objects.addClientRef(n, from, 1);
      b.addNested(valueOf(e));
    }
    for (ByteString id : ids) {
      ObjectDirectory.Entry e = objects.get(id);
      if (e != null && e.inArena() && e.nested().isEmpty()) {
        objects.addClientRef(id, from, 1);
        b.addReturns(remote(e));
      } else {
        b.addReturns(ObjectValue.newBuilder().setObjectId(id).setInline(returnCopy(e, id)));
      }
      objects.addClientRef(id, spec.getCallerId(), -1);
    }
    reply.ok(b.build());
  }

  /**
   * The objects that the inline values among {@code ids} hold refs to, and those inside them, inner
   * ones first (so that the receiver stores an object before the values that hold it).
   */
  private List<ByteString> nestedOf(List<ByteString> ids) {
    List<ByteString> out = new ArrayList<>();
    java.util.Set<ByteString> seen = new java.util.HashSet<>(ids);
    for (ByteString id : ids) {
      addNested(objects.get(id), out, seen);
    }
    return out;
  }

  /**
   * The objects {@code refs} name and those inside them, inner ones first; actor handles (their
   * lifetime objects) are left out: they travel as they are (see {@link #onlyActorHandles}).
   */
  private List<ByteString> nestedOf(List<ByteString> refs, java.util.Set<ByteString> seen) {
    List<ByteString> out = new ArrayList<>();
    for (ByteString n : refs) {
      if (!tasks.isActorLifetime(n) && seen.add(n)) {
        addNested(objects.get(n), out, seen);
        out.add(n);
      }
    }
    return out;
  }

  /** An object's value as it travels: inline, or where to pull it from (this node). */
  private ObjectValue valueOf(ObjectDirectory.Entry e) {
    return e.inArena()
        ? remote(e)
        : ObjectValue.newBuilder().setObjectId(e.id).setInline(e.inline()).build();
  }

  private void addNested(
      ObjectDirectory.Entry e, List<ByteString> out, java.util.Set<ByteString> seen) {
    if (e == null || e.inArena()) {
      return; // arena values travel by pull, without the refs they hold (not supported yet)
    }
    for (ByteString n : e.nested()) {
      if (seen.add(n)) {
        addNested(objects.get(n), out, seen);
        out.add(n);
      }
    }
  }

  /** Runs {@code then} once every object of {@code ids} that exists here is ready. */
  private void whenAllReady(List<ByteString> ids, Runnable then) {
    int[] left = {1};
    Runnable one =
        () -> {
          if (--left[0] == 0) {
            then.run();
          }
        };
    for (ByteString id : ids) {
      ObjectDirectory.Entry e = objects.get(id);
      if (e != null) {
        left[0]++;
        objects.whenReady(e, one);
      }
    }
    one.run();
  }

  /** A small return value as it travels back to the peer that forwarded its task. */
  private static InlineObject returnCopy(ObjectDirectory.Entry e, ByteString id) {
    if (e != null && (!e.inArena() || e.nested().isEmpty())) {
      return e.inline();
    }
    return EngineErrors.of(
        "RaySystemError",
        e == null
            ? "The return value " + Ids.hex(id) + " was lost on the node that ran its task."
            : "The task returned a large value holding ObjectRefs on another node of the"
                + " cluster; such values cannot cross nodes yet (return the refs in a small value,"
                + " e.g. a list of refs).");
  }
}
