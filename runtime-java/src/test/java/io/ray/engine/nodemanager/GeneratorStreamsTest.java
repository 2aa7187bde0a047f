package io.ray.engine.nodemanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.objects.EngineErrors;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.NextGeneratorItemReply;
import io.ray.engine.rpc.NextGeneratorItemRequest;
import io.ray.engine.rpc.ObjectFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Streaming generators: items handed to the caller in order, the end, errors, a dropped stream. */
class GeneratorStreamsTest {
  private static final ByteString TASK = Ids.random(Ids.TASK_ID_SIZE);
  private static final ByteString WORKER = ByteString.copyFromUtf8("worker");
  private static final ByteString CALLER = ByteString.copyFromUtf8("caller");

  private final EventLoop loop = new EventLoop("test");
  private final ObjectDirectory objects = new ObjectDirectory(e -> {});
  private final GeneratorStreams streams = new GeneratorStreams(objects, loop);

  @AfterEach
  void close() {
    loop.close();
  }

  /** The worker's put of item {@code i} (it holds it until its ref goes). */
  private void put(int i) {
    InlineObject v = InlineObject.newBuilder().setFormat(ObjectFormat.RAW).build();
    objects.putInline(Ids.returnId(TASK, i), v, WORKER);
  }

  private List<NextGeneratorItemReply> next(int index, long timeoutMs) {
    List<NextGeneratorItemReply> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    streams.next(
        NextGeneratorItemRequest.newBuilder()
            .setClientId(CALLER)
            .setTaskId(TASK)
            .setIndex(index)
            .setTimeoutMs(timeoutMs)
            .build(),
        new Reply<>() {
          @Override
          public void ok(NextGeneratorItemReply value) {
            got.add(value);
          }

          @Override
          public void fail(Status status) {
            throw new AssertionError(status.toString());
          }
        });
    return got;
  }

  @Test
  void aWaitingReadIsAnsweredByTheItemThenTheEnd() {
    List<NextGeneratorItemReply> first = next(1, -1);
    assertTrue(first.isEmpty(), "nothing yielded yet: the read waits");
    put(1);
    streams.item(TASK, 1, CALLER);
    assertTrue(first.get(0).getReady());
    // The item is the caller's now: it outlives the worker's own ref.
    objects.addClientRef(Ids.returnId(TASK, 1), WORKER, -1);
    assertNotNull(objects.get(Ids.returnId(TASK, 1)));
    List<NextGeneratorItemReply> second = next(2, -1);
    streams.ended(TASK);
    assertTrue(second.get(0).getEnded());
    assertTrue(next(2, 0).get(0).getEnded(), "later reads see the end at once");
  }

  @Test
  void aFailedGeneratorEndsWithItsErrorAsTheLastItem() {
    put(1);
    streams.item(TASK, 1, CALLER);
    streams.failed(TASK, CALLER, EngineErrors.of("WorkerCrashedError", "died"));
    assertTrue(next(2, 0).get(0).getReady());
    assertEquals(
        ObjectFormat.ENGINE_ERROR, objects.get(Ids.returnId(TASK, 2)).inline().getFormat());
    assertTrue(next(3, 0).get(0).getEnded());
  }

  @Test
  void droppingReleasesTheUnreadItemsAndLaterOnesAreNotKept() {
    put(1);
    streams.item(TASK, 1, CALLER);
    put(2);
    streams.item(TASK, 2, CALLER);
    streams.drop(TASK, CALLER, 1); // item 1 was read: its ref is the caller's own to release
    put(3);
    streams.item(TASK, 3, CALLER);
    for (int i = 1; i <= 3; i++) {
      objects.addClientRef(Ids.returnId(TASK, i), WORKER, -1);
    }
    assertNotNull(objects.get(Ids.returnId(TASK, 1)));
    assertNull(objects.get(Ids.returnId(TASK, 2)));
    assertNull(objects.get(Ids.returnId(TASK, 3)));
    streams.ended(TASK);
    assertEquals(0, streams.size());
  }

  @Test
  void aReadWithATimeoutTimesOut() throws Exception {
    List<NextGeneratorItemReply> got = next(1, 50); // the loop's timer answers it
    long deadline = System.currentTimeMillis() + 5000;
    while (got.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(got.get(0).getTimedOut());
  }
}
