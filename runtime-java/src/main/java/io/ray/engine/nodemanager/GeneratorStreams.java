package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.common.EventLoop;
import io.ray.engine.common.Ids;
import io.ray.engine.nodemanager.objects.ObjectDirectory;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.NextGeneratorItemReply;
import io.ray.engine.rpc.NextGeneratorItemRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Streaming generator tasks ({@code num_returns="streaming"}) on this node. The task's worker
 * stores each yielded value as the task's next return ({@code returnId(task, i)}, i from 1) and
 * reports it ({@code GeneratorItem}, after the value's own put on the same stream); the item then
 * belongs to the caller, who reads items in order with {@code NextGeneratorItem}: answered when
 * item {@code i} exists, or with {@code ended} once the task has ended before yielding it. A
 * generator that raised (or whose worker died) ends with its error as its last item.
 *
 * <p>Owned by the node manager's loop.
 */
final class GeneratorStreams {
  private static final class Stream {
    final ByteString caller;
    int produced;
    boolean ended;

    /** The caller let go: later items are not kept for it, and the stream goes once ended. */
    boolean dropped;

    final List<Waiter> waiters = new ArrayList<>(1);

    Stream(ByteString caller) {
      this.caller = caller;
    }
  }

  private record Waiter(
      int index, Reply<NextGeneratorItemReply> reply, ScheduledFuture<?>[] timer) {}

  private final Map<ByteString, Stream> streams = new HashMap<>();
  private final ObjectDirectory objects;
  private final EventLoop loop;

  GeneratorStreams(ObjectDirectory objects, EventLoop loop) {
    this.objects = objects;
    this.loop = loop;
  }

  private Stream stream(ByteString taskId, ByteString caller) {
    return streams.computeIfAbsent(taskId, k -> new Stream(caller));
  }

  /** The worker stored item {@code index} (it already exists, held by the worker). */
  void item(ByteString taskId, int index, ByteString caller) {
    Stream s = stream(taskId, caller);
    if (s.ended || index <= s.produced) {
      return; // a repeat (the task ran again), or a report after its end
    }
    s.produced = index;
    if (!s.dropped) {
      objects.addClientRef(Ids.returnId(taskId, index), s.caller, 1);
    }
    wake(s);
  }

  /** The task failed: its error is its last item (for the caller to raise), and it ends. */
  void failed(ByteString taskId, ByteString caller, InlineObject error) {
    Stream s = stream(taskId, caller);
    if (s.ended) {
      return;
    }
    if (!s.dropped) {
      int index = s.produced + 1;
      objects.putInline(Ids.returnId(taskId, index), error, s.caller);
      s.produced = index;
    }
    ended(taskId);
  }

  /** The task ended (every item it yielded is reported by now). */
  void ended(ByteString taskId) {
    Stream s = streams.get(taskId);
    if (s == null || s.ended) {
      return;
    }
    s.ended = true;
    wake(s);
    if (s.dropped) {
      streams.remove(taskId);
    }
  }

  /** The caller read {@code consumed} items and let go of the rest. */
  void drop(ByteString taskId, ByteString caller, int consumed) {
    Stream s = stream(taskId, caller);
    if (s.dropped) {
      return;
    }
    s.dropped = true;
    for (int i = consumed + 1; i <= s.produced; i++) {
      objects.addClientRef(Ids.returnId(taskId, i), s.caller, -1);
    }
    if (s.ended) {
      streams.remove(taskId);
    }
  }

  /** Answers when item {@code index} exists, the stream has ended before it, or time is up. */
  void next(NextGeneratorItemRequest req, Reply<NextGeneratorItemReply> reply) {
    Stream s = stream(req.getTaskId(), req.getClientId());
    if (answer(s, req.getIndex(), reply)) {
      return;
    }
    if (req.getTimeoutMs() == 0) {
      reply.ok(NextGeneratorItemReply.newBuilder().setTimedOut(true).build());
      return;
    }
    ScheduledFuture<?>[] timer = {null};
    Waiter w = new Waiter(req.getIndex(), reply, timer);
    s.waiters.add(w);
    if (req.getTimeoutMs() > 0) {
      timer[0] =
          loop.schedule(
              () -> {
                if (s.waiters.remove(w)) {
                  reply.ok(NextGeneratorItemReply.newBuilder().setTimedOut(true).build());
                }
              },
              req.getTimeoutMs(),
              TimeUnit.MILLISECONDS);
    }
  }

  private static boolean answer(Stream s, int index, Reply<NextGeneratorItemReply> reply) {
    if (index <= s.produced) {
      reply.ok(NextGeneratorItemReply.newBuilder().setReady(true).build());
      return true;
    }
    if (s.ended) {
      reply.ok(NextGeneratorItemReply.newBuilder().setEnded(true).build());
      return true;
    }
    return false;
  }

  private static void wake(Stream s) {
    for (Waiter w : new ArrayList<>(s.waiters)) {
      if (answer(s, w.index(), w.reply())) {
        s.waiters.remove(w);
        if (w.timer()[0] != null) {
          w.timer()[0].cancel(false);
        }
      }
    }
  }

  /** A caller left: its streams go (its refs went with it). */
  void callerGone(ByteString caller) {
    streams.values().removeIf(s -> s.caller.equals(caller));
  }

  int size() {
    return streams.size();
  }
}
