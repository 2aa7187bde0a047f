package io.ray.engine.nodemanager;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ClientOps;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Each client's ordered stream of changes (ClientOps, seq 1, 2, 3, ...): messages are applied in
 * seq order however they arrive (one that comes early waits until the gap before it is filled; a
 * repeated one is dropped), and reads that must see the client's changes up to some seq wait until
 * that message is applied.
 *
 * <p>Invariants: every key of {@code early} is above {@code appliedSeq + 1}; every key of {@code
 * parked} is above {@code appliedSeq}. Pure state, owned by the node manager's loop.
 */
final class ClientStreams {
  /** Messages held back behind a gap before the client is considered broken. */
  static final int MAX_EARLY = 10_000;

  private static final class Stream {
    long appliedSeq;
    final TreeMap<Long, ClientOps> early = new TreeMap<>();
    final TreeMap<Long, List<Runnable>> parked = new TreeMap<>();
  }

  private final Map<ByteString, Stream> streams = new HashMap<>();

  void open(ByteString client) {
    streams.put(client, new Stream());
  }

  boolean isOpen(ByteString client) {
    return streams.containsKey(client);
  }

  /**
   * Takes a message; returns those now ready to apply, in order (none while a gap is open before
   * it). The caller applies each and then calls {@link #applied}.
   *
   * @throws IllegalArgumentException for an unknown client
   * @throws IllegalStateException when more than {@link #MAX_EARLY} messages wait behind a gap
   */
  List<ClientOps> offer(ByteString client, ClientOps ops) {
    Stream s = streams.get(client);
    if (s == null) {
      throw new IllegalArgumentException("unknown client");
    }
    if (ops.getSeq() <= s.appliedSeq) {
      return List.of(); // a repeat: applied already
    }
    s.early.put(ops.getSeq(), ops);
    if (s.early.size() > MAX_EARLY) {
      throw new IllegalStateException(
          "message " + (s.appliedSeq + 1) + " never came; " + s.early.size() + " wait behind it");
    }
    List<ClientOps> ready = new ArrayList<>();
    long next = s.appliedSeq + 1;
    while (!s.early.isEmpty() && s.early.firstKey() == next) {
      ready.add(s.early.pollFirstEntry().getValue());
      next++;
    }
    return ready;
  }

  /** The message {@code seq} is applied; returns the reads that were waiting for it. */
  List<Runnable> applied(ByteString client, long seq) {
    Stream s = streams.get(client);
    List<Runnable> due = new ArrayList<>();
    if (s == null) {
      return due;
    }
    s.appliedSeq = seq;
    while (!s.parked.isEmpty() && s.parked.firstKey() <= seq) {
      due.addAll(s.parked.pollFirstEntry().getValue());
    }
    return due;
  }

  /**
   * Runs {@code read} now if the client's changes up to {@code afterSeq} are applied (or the client
   * is unknown), else once they are.
   */
  void afterOps(ByteString client, long afterSeq, Runnable read) {
    Stream s = streams.get(client);
    if (s == null || afterSeq <= s.appliedSeq) {
      read.run();
      return;
    }
    s.parked.computeIfAbsent(afterSeq, k -> new ArrayList<>()).add(read);
  }

  /** The client left: returns its parked reads, to serve with what there is. */
  List<Runnable> close(ByteString client) {
    Stream s = streams.remove(client);
    List<Runnable> reads = new ArrayList<>();
    if (s != null) {
      s.parked.values().forEach(reads::addAll);
    }
    return reads;
  }
}
