package io.ray.engine.nodemanager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ClientOps;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientStreamsTest {
  private static final ByteString C = ByteString.copyFromUtf8("client");
  private final ClientStreams streams = new ClientStreams();

  private static ClientOps ops(long seq) {
    return ClientOps.newBuilder().setSeq(seq).build();
  }

  private List<Long> offerAndApply(long seq) {
    List<Long> applied = new ArrayList<>();
    for (ClientOps m : streams.offer(C, ops(seq))) {
      applied.add(m.getSeq());
      streams.applied(C, m.getSeq()).forEach(Runnable::run);
    }
    return applied;
  }

  @Test
  void messagesApplyInSeqOrderWhateverTheirArrival() {
    streams.open(C);
    assertEquals(List.of(), offerAndApply(3));
    assertEquals(List.of(), offerAndApply(2));
    assertEquals(List.of(1L, 2L, 3L), offerAndApply(1));
    assertEquals(List.of(), offerAndApply(2), "a repeat is dropped");
    assertEquals(List.of(4L), offerAndApply(4));
  }

  @Test
  void readsWaitForTheSeqTheyName() {
    streams.open(C);
    List<String> served = new ArrayList<>();
    streams.afterOps(C, 2, () -> served.add("after 2"));
    streams.afterOps(C, 0, () -> served.add("now"));
    assertEquals(List.of("now"), served);
    offerAndApply(1);
    assertEquals(List.of("now"), served);
    offerAndApply(2);
    assertEquals(List.of("now", "after 2"), served);
  }

  @Test
  void closingHandsBackParkedReads() {
    streams.open(C);
    streams.afterOps(C, 5, () -> {});
    assertEquals(1, streams.close(C).size());
    List<String> served = new ArrayList<>();
    streams.afterOps(C, 9, () -> served.add("unknown client: served at once"));
    assertEquals(1, served.size());
  }

  @Test
  void aGapThatNeverClosesBreaksTheClient() {
    streams.open(C);
    for (long seq = 2; seq < 2 + ClientStreams.MAX_EARLY; seq++) {
      streams.offer(C, ops(seq));
    }
    assertThrows(
        IllegalStateException.class, () -> streams.offer(C, ops(2 + ClientStreams.MAX_EARLY)));
  }

  @Test
  void anUnknownClientIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> streams.offer(C, ops(1)));
  }
}
