package io.ray.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ClientAction;
import io.ray.engine.rpc.ClientOps;
import io.ray.engine.rpc.ReferenceDelta;
import io.ray.engine.rpc.ReturnLease;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The change stream's numbering, merging, holding and hand-over to reads, with a fake sender. Where
 * a test needs several changes in one message it holds the stream's monitor (the pump's too), so a
 * slow test thread cannot let the hold run out in between.
 */
class ChangeStreamTest {
  private final LinkedBlockingQueue<ClientOps> sent = new LinkedBlockingQueue<>();
  private final ChangeStream changes = new ChangeStream(sent::add);

  @AfterEach
  void close() {
    changes.close();
  }

  private static ClientOps.Builder action(int n) {
    return ClientOps.newBuilder()
        .addActions(
            ClientAction.newBuilder()
                .setReturnLease(
                    ReturnLease.newBuilder().setLeaseId(ByteString.copyFromUtf8("" + n))));
  }

  private static ClientOps.Builder release(String id) {
    return ClientOps.newBuilder()
        .addReferences(
            ReferenceDelta.newBuilder().setObjectId(ByteString.copyFromUtf8(id)).setRefDelta(-1));
  }

  private ClientOps next() throws InterruptedException {
    ClientOps m = sent.poll(5, TimeUnit.SECONDS);
    assertTrue(m != null, "nothing was sent within 5 s");
    return m;
  }

  @Test
  void lazyChangesShareOneMessageAndLeaveWithinTheHold() throws Exception {
    long first;
    long second;
    long third;
    synchronized (changes) { // the pump waits: however slow this thread, the hold cannot pass
      first = changes.add(action(1), false);
      second = changes.add(release("a"), false);
      third = changes.add(action(2), false);
    }
    assertEquals(1, first);
    assertEquals(1, second);
    assertEquals(1, third);
    ClientOps m = next();
    assertEquals(1, m.getSeq());
    assertEquals(2, m.getActionsCount());
    assertEquals(1, m.getReferencesCount());
    assertEquals(3, changes.count());
    // The next change opens the next message.
    assertEquals(2, changes.add(action(3), false));
    assertEquals(2, next().getSeq());
  }

  @Test
  void anUrgentChangeTakesTheLazyOnesWithItAtOnce() throws Exception {
    synchronized (changes) {
      changes.add(action(1), false);
      changes.add(action(2), true);
    }
    ClientOps m = next();
    assertEquals(2, m.getActionsCount());
    assertEquals(1, m.getSeq());
  }

  @Test
  void aReadCarriesTheUnsentChangesAndAFailedReadGivesThemBack() throws Exception {
    // Held (lazy) changes: a read takes them before the pump sends them.
    ChangeStream.Taken taken;
    synchronized (changes) {
      changes.add(action(1), false);
      taken = changes.take();
    }
    assertEquals(1, taken.seq());
    assertEquals(1, taken.messages().size());
    assertEquals(1, taken.messages().get(0).getSeq());
    // Later changes number after the taken message.
    assertEquals(2, changes.add(action(2), false));
    // The read failed: its message goes back first, in order.
    changes.putBack(taken.messages());
    List<ClientOps> both = List.of(next(), next());
    assertEquals(1, both.get(0).getSeq());
    assertEquals(2, both.get(1).getSeq());
  }

  @Test
  void fenceAndAwaitSentSendTheOpenMessageNow() throws Exception {
    synchronized (changes) {
      changes.add(action(1), false);
      assertEquals(1, changes.fence()); // a request waiting for seq 1: it leaves now
    }
    assertEquals(1, next().getSeq());
    changes.add(action(2), false);
    long t0 = System.nanoTime();
    changes.awaitSent();
    assertEquals(2, next().getSeq());
    assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "awaitSent waited for nothing");
    assertEquals(2, changes.fence()); // nothing open: the last seq
  }

  @Test
  void closingSendsWhatIsLeft() throws Exception {
    changes.add(action(1), false);
    changes.close();
    assertEquals(1, next().getActionsCount());
  }
}
