package io.ray.engine.nodemanager.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ActorCreationSpec;
import io.ray.engine.rpc.TaskSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** An actor's lifecycle and per-caller ordering, without a node. */
class LocalActorTest {

  private static final ByteString OWNER = ByteString.copyFromUtf8("owner");
  private static final ByteString A = ByteString.copyFromUtf8("caller-a");
  private static final ByteString B = ByteString.copyFromUtf8("caller-b");
  private static final ByteString WORKER = ByteString.copyFromUtf8("worker");

  /** A call: its id, and whether its arguments exist. */
  private static final class Call {
    final ByteString id;
    boolean ready;

    Call(String id, boolean ready) {
      this.id = ByteString.copyFromUtf8(id);
      this.ready = ready;
    }

    @Override
    public String toString() {
      return id.toStringUtf8();
    }
  }

  private static LocalActor<Call> actor(int maxRestarts) {
    TaskSpec creation =
        TaskSpec.newBuilder()
            .setTaskId(ByteString.copyFromUtf8("creation"))
            .setActorCreation(
                ActorCreationSpec.newBuilder()
                    .setActorId(ByteString.copyFromUtf8("actor"))
                    .setClassName("Counter")
                    .setMaxRestarts(maxRestarts)
                    .putLifetimeResources("CPU", 1.0))
            .build();
    return new LocalActor<>(OWNER, creation);
  }

  private static List<Call> runnable(LocalActor<Call> actor) {
    return actor.takeRunnable(c -> c.ready, c -> c.id);
  }

  @Test
  void callsWaitUntilTheActorIsCreated() {
    LocalActor<Call> actor = actor(0);
    Call c = new Call("c1", true);
    actor.enqueue(A, c);
    assertEquals(List.of(), runnable(actor), "pending actors run nothing");
    actor.created(WORKER);
    assertEquals(List.of(c), runnable(actor));
    assertEquals(WORKER, actor.workerId());
    assertEquals(1.0, actor.lifetimeResources.get("CPU"));
  }

  @Test
  void eachCallersCallsLeaveInSubmissionOrder() {
    LocalActor<Call> actor = actor(0);
    actor.created(WORKER);
    Call a1 = new Call("a1", true);
    Call a2 = new Call("a2", true);
    Call b1 = new Call("b1", true);
    actor.enqueue(A, a1);
    actor.enqueue(B, b1);
    actor.enqueue(A, a2);
    List<Call> out = runnable(actor);
    assertTrue(out.indexOf(a1) < out.indexOf(a2));
    assertEquals(Set.of(a1, a2, b1), new HashSet<>(out));
  }

  @Test
  void aCallWaitingForItsArgumentHoldsBackOnlyItsOwnCaller() {
    LocalActor<Call> actor = actor(0);
    actor.created(WORKER);
    Call a1 = new Call("a1", false);
    Call a2 = new Call("a2", true);
    Call b1 = new Call("b1", true);
    actor.enqueue(A, a1);
    actor.enqueue(A, a2);
    actor.enqueue(B, b1);
    assertEquals(List.of(b1), runnable(actor), "a2 must not overtake a1");
    a1.ready = true;
    assertEquals(List.of(a1, a2), runnable(actor));
    assertEquals(List.of(), runnable(actor), "each call leaves its queue once");
  }

  @Test
  void finishedCallsLeaveTheRunningSet() {
    LocalActor<Call> actor = actor(0);
    actor.created(WORKER);
    Call c = new Call("c", true);
    actor.enqueue(A, c);
    runnable(actor);
    assertTrue(actor.busy());
    assertEquals(c, actor.finished(c.id));
    assertNull(actor.finished(c.id));
    assertFalse(actor.busy());
  }

  @Test
  void aWorkerDeathRestartsWhileRestartsRemainThenKills() {
    LocalActor<Call> actor = actor(1);
    actor.created(WORKER);
    Call running = new Call("running", true);
    Call waiting = new Call("waiting", false);
    actor.enqueue(A, running);
    runnable(actor);
    actor.enqueue(A, waiting);
    assertEquals(List.of(running), actor.workerDied("crash 1"));
    assertEquals(LocalActor.State.RESTARTING, actor.state());
    assertNull(actor.workerId());
    assertEquals(List.of(), runnable(actor), "nothing runs while restarting");
    actor.requeueFirst(A, running);
    actor.created(WORKER);
    waiting.ready = true;
    assertEquals(List.of(running, waiting), runnable(actor), "a retried call goes first");

    assertEquals(2, actor.workerDied("crash 2").size());
    assertEquals(LocalActor.State.DEAD, actor.state());
    assertEquals("crash 2", actor.deathCause());
  }

  @Test
  void forbiddenRestartMeansDeathAndWaitingCallsAreHandedOut() {
    LocalActor<Call> actor = actor(-1);
    actor.created(WORKER);
    Call waiting = new Call("waiting", false);
    actor.enqueue(B, waiting);
    actor.forbidRestart();
    assertEquals(List.of(), actor.workerDied("killed"));
    assertEquals(LocalActor.State.DEAD, actor.state());
    assertEquals(List.of(waiting), actor.die("ignored: first cause stays"));
    assertEquals("killed", actor.deathCause());
    assertThrows(IllegalStateException.class, () -> actor.enqueue(A, new Call("late", true)));
    assertThrows(IllegalStateException.class, () -> actor.created(WORKER));
  }

  @Test
  void infiniteRestartsNeverRunOut() {
    LocalActor<Call> actor = actor(-1);
    for (int i = 0; i < 100; i++) {
      actor.created(WORKER);
      actor.workerDied("crash " + i);
      assertEquals(LocalActor.State.RESTARTING, actor.state());
    }
  }
}
