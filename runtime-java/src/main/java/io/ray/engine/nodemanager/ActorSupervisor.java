package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.actors.LocalActor;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.workers.WorkerHandle;
import io.ray.engine.rpc.ActorCreationSpec;
import io.ray.engine.rpc.ActorInfo;
import io.ray.engine.rpc.ActorState;
import io.ray.engine.rpc.KillActor;
import io.ray.engine.rpc.NodeMessage;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.TaskFinished;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actors hosted on this node: their creation, the routing of their calls, their deaths and
 * restarts. Each actor's own state is a {@link LocalActor}; this class ties them to the node's
 * tasks, workers and resources, which it reaches only through its {@link ActorHost}.
 *
 * <p>Threading: runs on the node manager's loop, like everything it touches.
 */
final class ActorSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(ActorSupervisor.class);

  private final ActorHost node;

  /** Actors hosted here, dead ones included until their lifetime object goes away. */
  private final Map<ByteString, LocalActor<TaskRecord>> actors = new HashMap<>();

  /** Actor by its lifetime object (the creation task's return). */
  private final Map<ByteString, LocalActor<TaskRecord>> byLifetime = new HashMap<>();

  /** Actor by the worker that hosts it (or runs its creation task). */
  private final Map<ByteString, LocalActor<TaskRecord>> byWorker = new HashMap<>();

  /** Actors that died of something other than ActorDiedError: the error type of their calls. */
  private final Map<ByteString, String> deathTypes = new HashMap<>();

  /** Why an actor that is being stopped on purpose dies. */
  private final Map<ByteString, String> plannedDeaths = new HashMap<>();

  /**
   * Actors whose creation was forwarded to another node (spillback), by the node that hosts them:
   * their calls are forwarded there in order, and that node's failure is their worker's death.
   */
  private final Map<ByteString, ByteString> remoteHosts = new HashMap<>();

  ActorSupervisor(ActorHost node) {
    this.node = node;
  }

  /**
   * The actor a call goes to; null when the call could not be routed (unknown or dead actor), in
   * which case it has been failed with the reason.
   */
  LocalActor<TaskRecord> route(TaskRecord call) {
    ByteString actorId = call.spec.getActorTask().getActorId();
    LocalActor<TaskRecord> actor = actors.get(actorId);
    if (actor == null) {
      node.fail(
          call,
          "ActorDiedError",
          "The actor "
              + Ids.hex(actorId)
              + " is not known on this node: it was never created here, or it is gone.");
      return null;
    }
    if (actor.state() == LocalActor.State.DEAD) {
      node.fail(call, errorType(actor), deathMessage(actor));
      return null;
    }
    return actor;
  }

  /** An actor's creation task was sent to a worker, which hosts the actor from now on. */
  void creationAssigned(TaskRecord creation, WorkerHandle w) {
    byWorker.put(w.workerId, creation.actor);
  }

  /** A worker is gone; returns whether it hosted an actor (which is then restarted or dead). */
  boolean workerGone(WorkerHandle w, String why) {
    LocalActor<TaskRecord> hosted = byWorker.remove(w.workerId);
    if (hosted == null) {
      return false;
    }
    workerDied(hosted, w, why);
    return true;
  }

  /** Whether this node holds the record of the actor whose lifetime object is {@code id}. */
  boolean isLifetime(ByteString id) {
    return byLifetime.containsKey(id);
  }

  /** Whether this node holds a record of the actor. */
  boolean knows(ByteString actorId) {
    return actors.containsKey(actorId);
  }

  /** Whether the worker hosts a detached actor (which outlives its job). */
  boolean hostsDetachedActor(WorkerHandle w) {
    LocalActor<TaskRecord> hosted = byWorker.get(w.workerId);
    return hosted != null && hosted.detached();
  }

  /** A creation task arrived: the actor exists (pending) from now on. */
  void accepted(TaskRecord r) {
    LocalActor<TaskRecord> actor = new LocalActor<>(r.spec.getCallerId(), r.spec);
    r.actor = actor;
    actors.put(actor.actorId, actor);
    ByteString lifetime = Ids.returnId(r.id(), 1);
    byLifetime.put(lifetime, actor);
    if (actor.detached()) {
      // Nobody's handle keeps a detached actor: the node holds its lifetime object itself.
      node.objects().addClientRef(lifetime, actor.actorId, 1);
    }
    report(actor);
  }

  /**
   * The direct-call address of an alive actor's worker for {@code caller}, or "" (not alive, not
   * here, or a call of the caller's to it is still queued or running here: its later calls must not
   * overtake it).
   */
  WorkerHandle directTarget(ByteString actorId, ByteString caller) {
    LocalActor<TaskRecord> actor = actors.get(actorId);
    if (actor == null
        || actor.state() != LocalActor.State.ALIVE
        || actor.hasCallsFrom(caller, c -> c.spec.getCallerId())) {
      return null;
    }
    return node.worker(actor.workerId());
  }

  /**
   * A direct call's registration: the caller has pushed it to the actor's worker itself. If the
   * actor is alive here the call runs there now (the node only waits for its end); otherwise it is
   * queued like any call, so it runs after a restart or fails with the actor's death.
   */
  void acceptDirect(TaskRecord call) {
    LocalActor<TaskRecord> actor = call.actor;
    WorkerHandle w = actor.state() == LocalActor.State.ALIVE ? node.worker(actor.workerId()) : null;
    if (actor.state() != LocalActor.State.DEAD
        && !call.spec.getPushedTo().isEmpty()
        && (w == null || !w.workerId.equals(call.spec.getPushedTo()))) {
      // Pushed to an incarnation that died before the node heard of the call: the call died
      // with it (it may have run). As for a call running when its actor dies: retried on the
      // next incarnation within max_task_retries, else failed.
      if (call.retriesLeft == 0) {
        String cause = actor.deathCause().isEmpty() ? "Its worker died." : actor.deathCause();
        node.fail(call, errorType(actor), deathMessage(actor, cause));
        return;
      }
      if (call.retriesLeft > 0) {
        call.retriesLeft--;
      }
      w = null;
    }
    if (w == null) {
      actor.enqueue(call.spec.getCallerId(), call);
      pump(actor);
      return;
    }
    actor.startDirect(call.id(), call);
    call.worker = w;
  }

  /** Sends an alive actor the calls that are ready; fails them all if it is dead. */
  void pump(LocalActor<TaskRecord> actor) {
    if (actor.state() == LocalActor.State.DEAD) {
      for (TaskRecord r : actor.die(actor.deathCause())) {
        node.fail(r, errorType(actor), deathMessage(actor));
      }
      return;
    }
    ByteString host = remoteHosts.get(actor.actorId);
    if (host != null && !node.hostAlive(host)) {
      hostLost(actor, host, "it left the cluster");
      return;
    }
    if (host != null) {
      for (TaskRecord r : actor.takeRunnable(c -> c.missingArgs == 0, TaskRecord::id)) {
        if (!node.forwardCall(r, host)) {
          actor.finished(r.id());
          node.fail(
              r,
              "RaySystemError",
              "The call "
                  + r.spec.getName()
                  + " cannot reach its actor on another node: arguments that hold ObjectRefs"
                  + " do not cross nodes yet.");
        }
      }
      return;
    }
    WorkerHandle w = node.worker(actor.workerId());
    for (TaskRecord r : actor.takeRunnable(c -> c.missingArgs == 0, TaskRecord::id)) {
      r.worker = w;
      w.send(NodeMessage.newBuilder().setExecute(node.withResolvedArgs(r.spec, w)).build());
    }
  }

  void taskFinished(WorkerHandle w, TaskRecord r, TaskFinished done) {
    LocalActor<TaskRecord> actor = r.actor;
    if (!r.spec.hasActorCreation()) {
      actor.finished(r.id());
      node.storeReturns(done);
      node.finish(r);
      if (done.getActorExit()) {
        stop(actor, "The actor is dead because it called exit_actor() (ray.actor.exit_actor).");
      }
      return;
    }
    // The creation task: placement resources go back; the creation record (and its arguments)
    // stays while the actor may restart.
    node.endLease(r);
    r.worker = null;
    w.currentTask = null;
    if (done.getApplicationError()) {
      node.storeReturns(done);
      actor.forbidRestart();
      plannedDeaths.put(
          actor.actorId,
          "The actor died because of an error raised in its creation"
              + " task, "
              + actor.className()
              + ".__init__():\n"
              + done.getErrorText());
      node.retireWorker(w);
      return;
    }
    actor.created(w.workerId);
    w.state = WorkerHandle.State.ACTOR;
    node.holdForActor(actor.actorId, actor.lifetimeResources);
    node.replenishPool(actor.jobId);
    report(actor);
    node.storeReturns(done); // the lifetime object is ready: waiting calls go out
    pump(actor);
  }

  /**
   * A forwarded creation or call ended on the node it was forwarded to, its returns stored here.
   * After its creation the actor lives there: its "worker" is that node.
   */
  void forwardedEnded(TaskRecord r, ByteString host) {
    LocalActor<TaskRecord> actor = r.actor;
    if (!r.spec.hasActorCreation()) {
      actor.finished(r.id());
      node.finish(r);
      return;
    }
    if (actor.state() == LocalActor.State.DEAD) {
      node.endRemote(host, actor, true); // it ended while its creation ran there
      return;
    }
    ObjectDirectory.Entry life = node.objects().get(Ids.returnId(r.id(), 1));
    if (life != null && life.format() == ObjectFormat.ERROR) {
      actor.forbidRestart();
      actor.workerDied(
          "The actor died because of an error raised in its creation task, "
              + actor.className()
              + ".__init__(), on node "
              + Ids.hex(host)
              + ".");
      node.endRemote(host, actor, true);
      died(actor);
      return;
    }
    remoteHosts.put(actor.actorId, host);
    actor.created(host);
    LOG.info("actor {} lives on node {}", actor.className(), Ids.shortHex(host));
    pump(actor);
  }

  /**
   * The node hosting an actor (or running its creation) failed: for the actor, its worker died. A
   * creation that never finished runs again (here or on another node).
   */
  void remoteHostLost(TaskRecord r, ByteString host, String why) {
    LocalActor<TaskRecord> actor = r.actor;
    if (r.spec.hasActorCreation()) {
      if (actor.state() == LocalActor.State.DEAD) {
        node.finish(r);
      } else {
        r.attempt++;
        node.enqueue(r);
      }
      return;
    }
    if (host.equals(remoteHosts.get(actor.actorId))) {
      hostLost(actor, host, why);
    } // else handled with the first call that failed
  }

  /** A node left the cluster: the actors it hosted for this node lost their worker. */
  void hostGone(ByteString host) {
    for (LocalActor<TaskRecord> actor : new ArrayList<>(actors.values())) {
      if (host.equals(remoteHosts.get(actor.actorId))) {
        hostLost(actor, host, "it left the cluster");
      }
    }
  }

  private void hostLost(LocalActor<TaskRecord> actor, ByteString host, String why) {
    remoteHosts.remove(actor.actorId);
    String cause =
        "The actor died unexpectedly: the node hosting it ("
            + Ids.hex(host)
            + ") failed ("
            + why
            + ").";
    for (TaskRecord lost : actor.workerDied(cause)) {
      lost.forwardedTo = null; // its own failure, when it comes, is this one
      if (lost.retriesLeft != 0 && actor.state() == LocalActor.State.RESTARTING) {
        if (lost.retriesLeft > 0) {
          lost.retriesLeft--;
        }
        actor.requeueFirst(lost.spec.getCallerId(), lost);
      } else {
        node.fail(lost, errorType(actor), deathMessage(actor, cause));
      }
    }
    if (actor.state() == LocalActor.State.RESTARTING) {
      LOG.info(
          "restarting actor {} ({}): its node failed", actor.className(), Ids.hex(actor.actorId));
      report(actor);
      TaskRecord creation = node.task(actor.creation.getTaskId());
      if (creation != null) {
        creation.attempt++;
        node.enqueue(creation);
      }
    } else {
      died(actor);
    }
  }

  /** The worker of an actor (or of its creation task) is gone. */
  private void workerDied(LocalActor<TaskRecord> actor, WorkerHandle w, String why) {
    TaskRecord creation = node.task(actor.creation.getTaskId());
    if (creation != null && creation.worker == w) {
      node.endLease(creation);
      creation.worker = null;
    }
    node.releaseActor(actor.actorId);
    String planned = plannedDeaths.remove(actor.actorId);
    String cause =
        planned != null
            ? planned
            : "The actor died unexpectedly: its worker process (pid=" + w.pid + ") " + why + ".";
    List<TaskRecord> lost = actor.workerDied(cause);
    for (TaskRecord r : lost) {
      if (r.retriesLeft != 0 && actor.state() == LocalActor.State.RESTARTING) {
        if (r.retriesLeft > 0) {
          r.retriesLeft--;
        }
        r.worker = null;
        actor.requeueFirst(r.spec.getCallerId(), r);
      } else {
        node.fail(r, errorType(actor), deathMessage(actor, cause));
      }
    }
    if (actor.state() == LocalActor.State.RESTARTING) {
      LOG.info("restarting actor {} ({})", actor.className(), Ids.hex(actor.actorId));
      report(actor);
      if (creation != null) {
        creation.attempt++;
        node.enqueue(creation);
      }
    } else {
      died(actor);
    }
  }

  /** Final bookkeeping of a dead actor. */
  private void died(LocalActor<TaskRecord> actor) {
    for (TaskRecord r : actor.die(actor.deathCause())) {
      node.fail(r, errorType(actor), deathMessage(actor));
    }
    TaskRecord creation = node.task(actor.creation.getTaskId());
    if (creation != null) {
      node.unqueue(creation);
      node.finish(creation);
    }
    LOG.info(
        "actor {} ({}) is dead: {}", actor.className(), Ids.hex(actor.actorId), actor.deathCause());
    report(actor);
    if (actor.detached()) {
      node.objects().addClientRef(Ids.returnId(actor.creation.getTaskId(), 1), actor.actorId, -1);
    }
  }

  /**
   * Stops an actor on purpose: it dies with {@code cause} once its worker is gone (at once if it
   * has none yet), and is not restarted.
   */
  private void stop(LocalActor<TaskRecord> actor, String cause) {
    if (actor.state() == LocalActor.State.DEAD) {
      return;
    }
    actor.forbidRestart();
    WorkerHandle w = workerOf(actor);
    ByteString host = remoteHosts.remove(actor.actorId);
    if (host != null) {
      node.endRemote(host, actor, true);
    }
    if (w != null) {
      plannedDeaths.putIfAbsent(actor.actorId, cause);
      node.retireWorker(w);
    } else {
      actor.workerDied(cause);
      died(actor);
    }
  }

  /** The worker hosting the actor here, or null. */
  WorkerHandle workerOfActor(ByteString actorId) {
    LocalActor<TaskRecord> actor = actors.get(actorId);
    return actor == null ? null : workerOf(actor);
  }

  private WorkerHandle workerOf(LocalActor<TaskRecord> actor) {
    for (Map.Entry<ByteString, LocalActor<TaskRecord>> e : byWorker.entrySet()) {
      if (e.getValue() == actor) {
        return node.worker(e.getKey());
      }
    }
    return null;
  }

  void kill(KillActor kill) {
    LocalActor<TaskRecord> actor = actors.get(kill.getActorId());
    if (actor == null || actor.state() == LocalActor.State.DEAD) {
      return;
    }
    if (kill.getNoRestart()) {
      stop(actor, "The actor was killed by ray.kill().");
      return;
    }
    ByteString host = remoteHosts.get(actor.actorId);
    if (host != null) {
      node.endRemote(host, actor, false); // its worker there dies, and it restarts there
      return;
    }
    WorkerHandle w = workerOf(actor);
    if (w != null) {
      node.killWorker(w); // its death restarts the actor if it may restart
    }
  }

  /** An object went away; if it was an actor's lifetime object, no handle to it is left. */
  void objectRemoved(ByteString id) {
    LocalActor<TaskRecord> actor = byLifetime.remove(id);
    if (actor == null) {
      return;
    }
    if (actor.state() != LocalActor.State.DEAD) {
      stop(actor, "The actor is dead because all references to the actor were removed.");
    }
    actors.remove(actor.actorId);
    deathTypes.remove(actor.actorId);
  }

  /** A client left: its non-detached actors die with it, as in Ray. */
  void ownerGone(ByteString client) {
    for (LocalActor<TaskRecord> actor : new ArrayList<>(actors.values())) {
      if (actor.owner.equals(client) && !actor.detached()) {
        stop(
            actor,
            "The actor is dead because its owner has died. Owner Id: " + Ids.hex(client) + ".");
      }
    }
  }

  /**
   * Drops a call that waits for its actor (ray.cancel); false if it is not waiting (running, or
   * never queued here).
   */
  boolean cancelWaiting(TaskRecord call) {
    return call.actor != null && call.actor.cancelWaiting(call.spec.getCallerId(), call);
  }

  boolean survivesJob(TaskRecord r) {
    return r.actor != null && r.actor.detached() && r.actor.state() != LocalActor.State.DEAD;
  }

  /**
   * An actor whose creation can never be placed (hard node affinity to a node that is gone, its
   * placement group removed) dies with {@code errorType} for its calls, not ActorDiedError.
   */
  void unplaceable(TaskRecord creation, String errorType, String cause) {
    LocalActor<TaskRecord> actor = creation.actor;
    if (actor == null || actor.state() == LocalActor.State.DEAD) {
      node.finish(creation);
      return;
    }
    deathTypes.put(actor.actorId, errorType);
    stop(actor, cause);
  }

  private String errorType(LocalActor<?> actor) {
    return deathTypes.getOrDefault(actor.actorId, "ActorDiedError");
  }

  private static String deathMessage(LocalActor<?> actor) {
    return deathMessage(actor, actor.deathCause());
  }

  private static String deathMessage(LocalActor<?> actor, String cause) {
    return "The actor "
        + actor.className()
        + " (id="
        + Ids.hex(actor.actorId)
        + ") died, so this call cannot run. "
        + cause;
  }

  private void report(LocalActor<TaskRecord> actor) {
    WorkerHandle w = workerOf(actor);
    ActorCreationSpec c = actor.creation.getActorCreation();
    node.control()
        .reportActor(
            ActorInfo.newBuilder()
                .setActorId(actor.actorId)
                .setJobId(actor.jobId)
                .setName(c.getName())
                .setRayNamespace(c.getRayNamespace())
                .setOwnerId(actor.owner)
                .setState(ActorState.valueOf(actor.state().name()))
                .setNodeId(node.config().nodeId())
                .setPid(w == null || actor.state() != LocalActor.State.ALIVE ? 0 : w.pid)
                .setClassName(c.getClassName())
                .setDetached(c.getDetached())
                .setDeathCause(actor.deathCause())
                .build());
  }
}
