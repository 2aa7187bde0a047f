package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.objects.EngineErrors;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.nodemanager.objects.ObjectRequests;
import io.ray.engine.nodemanager.scheduling.ClusterView;
import io.ray.engine.rpc.ForwardTaskReply;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.NodeInfo;
import io.ray.engine.rpc.ObjectFormat;
import io.ray.engine.rpc.ObjectValue;
import io.ray.engine.rpc.TaskArg;
import io.ray.engine.rpc.TaskSpec;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Spillback, both ways. Sending: a queued task this node has no room for travels to a peer with
 * every argument by value, and ends here when the peer answers with its returns; a refusal puts it
 * back in the queue, and a peer that fails retries the task within {@code max_retries} or fails it
 * with {@code NodeDiedError}. Receiving: a task a peer forwarded runs as any task, and the peer
 * gets its returns as inline copies once they are all ready.
 *
 * <p>What cannot travel yet stays on its node: actor tasks, arguments that are errors or hold refs
 * (a peer cannot resolve this node's refs), arena arguments above {@link #ARGS_LIMIT}. Arena values
 * travel through the heap; a returned value that holds refs comes back as an error naming the gap.
 *
 * <p>Threading: owned by the node manager's loop, like the {@link TaskScheduler} it serves.
 */
final class TaskForwarding implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TaskForwarding.class);

  /** Arena-held arguments above this many bytes keep a task here (they travel through the heap). */
  static final long ARGS_LIMIT = 64L << 20;

  /** What a forwarded task's end does to the scheduler's tasks. */
  interface Tasks {
    /** Whether the record is still the scheduler's live record of its task. */
    boolean current(TaskRecord r);

    void requeue(TaskRecord r);

    void retryNow(TaskRecord r);

    void finish(TaskRecord r);

    void fail(TaskRecord r, String errorType, String message);

    String cancelledMessage(TaskRecord r);
  }

  private final ClusterView view;
  private final Spillback spillback;
  private final ObjectDirectory objects;
  private final ObjectRequests objectRequests;
  private final Tasks tasks;

  TaskForwarding(
      ClusterView view,
      Spillback spillback,
      ObjectDirectory objects,
      ObjectRequests objectRequests,
      Tasks tasks) {
    this.view = view;
    this.spillback = spillback;
    this.objects = objects;
    this.objectRequests = objectRequests;
    this.tasks = tasks;
  }

  void clusterView(List<NodeInfo> nodes) {
    view.update(nodes);
  }

  List<ClusterView.Peer> candidates(long nowMs) {
    return view.candidates(nowMs);
  }

  /** Sends the task to {@code node}; false (nothing changed) if it must run here. */
  boolean forward(TaskRecord r, ByteString node) {
    ClusterView.Peer peer = view.peer(node);
    TaskSpec spec = r.fromPeer || peer == null ? null : travelling(r);
    if (spec == null) {
      return false;
    }
    view.charge(node, r.demand);
    r.forwardedTo = node;
    LOG.debug("task {} spills to node {}", r.spec.getName(), Ids.shortHex(node));
    spillback.forward(peer.address(), spec, outcome(r, node));
    return true;
  }

  /** Cancels a forwarded task at its peer; its failure then ends it here. */
  void cancel(ByteString taskId, String why) {
    spillback.cancel(taskId, why);
  }

  /**
   * The task as it travels: every argument by value. Null when it must run here: an actor task, a
   * leased one, an argument that is an error or holds refs, or large arena arguments.
   */
  private TaskSpec travelling(TaskRecord r) {
    TaskSpec spec = r.spec;
    if (spec.hasActorCreation() || spec.hasActorTask() || !spec.getLeaseId().isEmpty()) {
      return null;
    }
    TaskSpec.Builder b = spec.toBuilder().setAttempt(r.attempt);
    long arenaBytes = 0;
    for (int i = 0; i < spec.getArgsCount(); i++) {
      TaskArg arg = spec.getArgs(i);
      if (arg.hasValue()) {
        if (arg.getValue().getNestedRefsCount() > 0) {
          return null;
        }
        continue;
      }
      ObjectDirectory.Entry e = objects.get(arg.getObjectId());
      if (e == null
          || !e.ready()
          || !e.nested().isEmpty()
          || e.format() == ObjectFormat.ERROR
          || e.format() == ObjectFormat.ENGINE_ERROR) {
        return null;
      }
      if (e.inArena() && (arenaBytes += e.payloadSize()) > ARGS_LIMIT) {
        return null;
      }
      b.setArgs(
          i,
          TaskArg.newBuilder().setKeyword(arg.getKeyword()).setValue(objectRequests.inlineCopy(e)));
    }
    return b.build();
  }

  private Spillback.Outcome outcome(TaskRecord r, ByteString node) {
    return new Spillback.Outcome() {
      @Override
      public void answered(ForwardTaskReply reply) {
        if (!settled(r, node)) {
          return;
        }
        if (!reply.getRejected().isEmpty()) {
          LOG.debug(
              "node {} refused {}: {}", Ids.shortHex(node), r.spec.getName(), reply.getRejected());
          view.backOff(node, System.currentTimeMillis());
          tasks.requeue(r);
          return;
        }
        for (ObjectValue v : reply.getReturnsList()) {
          objects.putInline(v.getObjectId(), v.getInline(), null);
        }
        tasks.finish(r);
      }

      @Override
      public void failed(Status status) {
        if (!settled(r, node)) {
          return;
        }
        if (r.cancelled) {
          tasks.fail(r, "TaskCancelledError", tasks.cancelledMessage(r));
          return;
        }
        view.backOff(node, System.currentTimeMillis());
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
    };
  }

  /** The forwarding of {@code r} to {@code node} is over; true if the record still waits on it. */
  private boolean settled(TaskRecord r, ByteString node) {
    view.discharge(node, r.demand);
    if (!tasks.current(r) || !node.equals(r.forwardedTo)) {
      return false; // ended here meanwhile (its job ended)
    }
    r.forwardedTo = null;
    return true;
  }

  /**
   * Answers a peer that forwarded {@code spec} once all its returns are ready, with inline copies;
   * this node then lets go of them (the peer's caller held them here under its own id).
   */
  void answerWhenDone(TaskSpec spec, Reply<ForwardTaskReply> reply) {
    List<ByteString> ids = new ArrayList<>();
    for (int i = 1; i <= spec.getNumReturns(); i++) {
      ids.add(Ids.returnId(spec.getTaskId(), i));
    }
    int[] left = {ids.size()};
    Runnable answer =
        () -> {
          ForwardTaskReply.Builder b = ForwardTaskReply.newBuilder();
          for (ByteString id : ids) {
            b.addReturns(ObjectValue.newBuilder().setObjectId(id).setInline(returnCopy(id)));
            objects.addClientRef(id, spec.getCallerId(), -1);
          }
          reply.ok(b.build());
        };
    if (ids.isEmpty()) {
      answer.run();
      return;
    }
    for (ByteString id : ids) {
      objects.whenReady(
          objects.get(id),
          () -> {
            if (--left[0] == 0) {
              answer.run();
            }
          });
    }
  }

  /** A return value as it travels back to the peer that forwarded its task. */
  private InlineObject returnCopy(ByteString id) {
    ObjectDirectory.Entry e = objects.get(id);
    if (e != null && e.nested().isEmpty()) {
      return objectRequests.inlineCopy(e);
    }
    return EngineErrors.of(
        "RaySystemError",
        e == null
            ? "The return value " + Ids.hex(id) + " was lost on the node that ran its task."
            : "The task returned ObjectRefs from another node of the cluster; refs that cross"
                + " nodes are not supported yet.");
  }

  @Override
  public void close() {
    spillback.close();
  }
}
