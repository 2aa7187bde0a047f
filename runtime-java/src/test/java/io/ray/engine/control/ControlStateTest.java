package io.ray.engine.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.JobConfig;
import io.ray.engine.rpc.NodeInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The control service's tables, driven with explicit timestamps (no clock, no sockets). */
class ControlStateTest {

  private final ControlState state = new ControlState();

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private static ByteString bytes(int... b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) b[i];
    }
    return ByteString.copyFrom(out);
  }

  private static NodeInfo node(String id, double cpus) {
    return NodeInfo.newBuilder()
        .setNodeId(bytes(id))
        .setNodeIp("10.0.0.1")
        .setNodeManagerPort(1234)
        .putTotalResources("CPU", cpus)
        .putAvailableResources("CPU", cpus)
        .build();
  }

  // ---------------------------------------------------------------- jobs

  @Test
  void jobIdsCountFromOneAsFourByteLittleEndian() {
    JobConfig config = JobConfig.newBuilder().setWorkingDir("/w").build();
    assertEquals(bytes(1, 0, 0, 0), state.registerJob(config, 100));
    assertEquals(bytes(2, 0, 0, 0), state.registerJob(config, 100));
    ByteString last = null;
    for (int i = 3; i <= 258; i++) {
      last = state.registerJob(config, 100);
    }
    assertEquals(bytes(2, 1, 0, 0), last, "job 258 = 0x0102, low byte first");
  }

  @Test
  void jobsAreRecordedAndFinished() {
    JobConfig config =
        JobConfig.newBuilder()
            .addPythonSysPath("/code")
            .setWorkingDir("/w")
            .setRayNamespace("ns")
            .build();
    ByteString id = state.registerJob(config, 4242);
    ControlState.Job job = state.job(id).orElseThrow();
    assertEquals(id, job.jobId());
    assertEquals(config, job.config());
    assertEquals(4242, job.driverPid());
    assertFalse(job.finished());

    state.finishJob(id);
    ControlState.Job finished = state.job(id).orElseThrow();
    assertTrue(finished.finished());
    assertEquals(config, finished.config(), "finishing keeps the configuration");
    assertEquals(4242, finished.driverPid());
  }

  @Test
  void unknownJobsAreNotFoundAndNotCreatedByFinish() {
    ByteString unknown = bytes(9, 0, 0, 0);
    assertEquals(Optional.empty(), state.job(unknown));
    state.finishJob(unknown);
    assertEquals(Optional.empty(), state.job(unknown));
    assertEquals(
        bytes(1, 0, 0, 0),
        state.registerJob(JobConfig.getDefaultInstance(), 1),
        "finishing an unknown job does not use up an id");
  }

  // ---------------------------------------------------------------- nodes

  @Test
  void registeredNodesAreAliveAndListedInRegistrationOrder() {
    state.registerNode(node("n2", 4).toBuilder().setAlive(false).build(), 0);
    state.registerNode(node("n1", 8), 0);
    List<NodeInfo> nodes = state.nodes();
    assertEquals(
        List.of(bytes("n2"), bytes("n1")), nodes.stream().map(NodeInfo::getNodeId).toList());
    assertTrue(nodes.get(0).getAlive(), "registration marks a node alive");
    assertTrue(nodes.get(1).getAlive());
    assertEquals(Map.of("CPU", 8.0), nodes.get(1).getTotalResourcesMap());
  }

  @Test
  void reportsReplaceAvailableResources() {
    state.registerNode(node("n1", 8), 0);
    assertTrue(state.reportNode(bytes("n1"), Map.of("GPU", 1.0), Map.of(), 1000));
    NodeInfo n = state.nodes().get(0);
    assertEquals(Map.of("GPU", 1.0), n.getAvailableResourcesMap(), "replaced, not merged");
    assertEquals(Map.of("CPU", 8.0), n.getTotalResourcesMap(), "totals stay");
    assertFalse(state.reportNode(bytes("unknown"), Map.of(), Map.of(), 1000));
  }

  @Test
  void silentNodesExpireAndMayNotReportAfterwards() {
    long t0 = 1_000_000;
    state.registerNode(node("quiet", 4), t0);
    state.registerNode(node("chatty", 4), t0);
    assertTrue(state.reportNode(bytes("chatty"), Map.of("CPU", 2.0), Map.of(), t0 + 8_000));

    assertEquals(
        List.of(),
        state.expireNodes(t0 + ControlState.NODE_TIMEOUT_MS - 1),
        "nobody is silent too long yet");
    List<ByteString> expired = state.expireNodes(t0 + ControlState.NODE_TIMEOUT_MS + 1);
    assertEquals(List.of(bytes("quiet")), expired);

    NodeInfo quiet = state.nodes().get(0);
    assertFalse(quiet.getAlive());
    assertEquals(Map.of(), quiet.getAvailableResourcesMap(), "a dead node offers nothing");
    assertTrue(state.nodes().get(1).getAlive());
    assertFalse(
        state.reportNode(bytes("quiet"), Map.of("CPU", 4.0), Map.of(), t0 + 10_002),
        "a node declared dead must re-register");
    assertFalse(state.nodes().get(0).getAlive());
    assertEquals(
        List.of(),
        state.expireNodes(t0 + ControlState.NODE_TIMEOUT_MS + 2),
        "a dead node is not expired twice; chatty reported recently");

    assertEquals(
        List.of(bytes("chatty")), state.expireNodes(t0 + 8_000 + ControlState.NODE_TIMEOUT_MS + 1));
  }

  @Test
  void reRegisteringRevivesANodeWithoutDuplicatingIt() {
    state.registerNode(node("a", 4), 0);
    state.registerNode(node("b", 4), 0);
    state.markNodeDead(bytes("a"));
    assertFalse(state.reportNode(bytes("a"), Map.of(), Map.of(), 1));
    state.registerNode(node("a", 4), 2);
    assertEquals(
        List.of(bytes("a"), bytes("b")), state.nodes().stream().map(NodeInfo::getNodeId).toList());
    assertTrue(state.nodes().get(0).getAlive());
    assertTrue(state.reportNode(bytes("a"), Map.of(), Map.of(), 3));
  }

  @Test
  void markNodeDeadOfAnUnknownNodeIsHarmless() {
    state.markNodeDead(bytes("ghost"));
    assertEquals(List.of(), state.nodes());
  }

  // ---------------------------------------------------------------- functions

  @Test
  void functionsAreKeyedByJobAndId() {
    ByteString job1 = bytes(1, 0, 0, 0);
    ByteString job2 = bytes(2, 0, 0, 0);
    ByteString f = bytes("sha1-of-f");
    state.putFunction(job1, f, bytes("pickled-1"));
    state.putFunction(job2, f, bytes("pickled-2"));
    assertEquals(Optional.of(bytes("pickled-1")), state.function(job1, f));
    assertEquals(Optional.of(bytes("pickled-2")), state.function(job2, f));
    assertEquals(Optional.empty(), state.function(job1, bytes("sha1-of-g")));
    assertEquals(Optional.empty(), state.function(bytes(3, 0, 0, 0), f));

    state.putFunction(job1, f, bytes("pickled-1b"));
    assertEquals(Optional.of(bytes("pickled-1b")), state.function(job1, f));
  }

  // ---------------------------------------------------------------- key-value store

  @Test
  void kvPutReportsWhetherTheKeyWasAdded() {
    assertTrue(state.kvPut("ns", bytes("k"), bytes("v1"), false));
    assertFalse(state.kvPut("ns", bytes("k"), bytes("v2"), false));
    assertEquals(Optional.of(bytes("v1")), state.kvGet("ns", bytes("k")), "no overwrite");
    assertFalse(state.kvPut("ns", bytes("k"), bytes("v3"), true), "replaced, not added");
    assertEquals(Optional.of(bytes("v3")), state.kvGet("ns", bytes("k")));
    assertTrue(state.kvPut("ns", bytes("k2"), bytes("x"), true), "overwrite of a new key adds");
  }

  @Test
  void kvNamespacesAreSeparate() {
    state.kvPut("a", bytes("k"), bytes("in-a"), false);
    assertTrue(state.kvPut("b", bytes("k"), bytes("in-b"), false));
    assertEquals(Optional.of(bytes("in-a")), state.kvGet("a", bytes("k")));
    assertEquals(Optional.of(bytes("in-b")), state.kvGet("b", bytes("k")));
    assertEquals(Optional.empty(), state.kvGet("c", bytes("k")));
    assertEquals(Optional.empty(), state.kvGet("a", bytes("other")));
  }

  @Test
  void kvDeleteReportsWhetherAKeyWasRemoved() {
    state.kvPut("ns", bytes("k"), bytes("v"), false);
    assertTrue(state.kvDelete("ns", bytes("k")));
    assertEquals(Optional.empty(), state.kvGet("ns", bytes("k")));
    assertFalse(state.kvDelete("ns", bytes("k")));
    assertFalse(state.kvDelete("no-such-ns", bytes("k")));
    assertTrue(state.kvPut("ns", bytes("k"), bytes("again"), false), "deleted keys are new again");
  }

  @Test
  void kvKeysListsKeysWithThePrefixInByteOrder() {
    for (String k : List.of("b", "abd", "a", "ac", "abc", "ab", "aa")) {
      state.kvPut("ns", bytes(k), bytes("v"), false);
    }
    state.kvPut("other", bytes("abz"), bytes("v"), false);
    assertEquals(List.of(bytes("ab"), bytes("abc"), bytes("abd")), state.kvKeys("ns", bytes("ab")));
    assertEquals(
        List.of(
            bytes("a"),
            bytes("aa"),
            bytes("ab"),
            bytes("abc"),
            bytes("abd"),
            bytes("ac"),
            bytes("b")),
        state.kvKeys("ns", ByteString.EMPTY),
        "empty prefix: all keys");
    assertEquals(List.of(), state.kvKeys("ns", bytes("abcd")), "longer than every match");
    assertEquals(List.of(), state.kvKeys("ns", bytes("z")));
    assertEquals(List.of(), state.kvKeys("no-such-ns", bytes("a")));
  }

  @Test
  void kvKeysComparesBytesUnsigned() {
    ByteString low = bytes(0x61, 0x01);
    ByteString high = bytes(0x61, 0xff);
    ByteString highLonger = bytes(0x61, 0xff, 0x00);
    ByteString next = bytes(0x62);
    for (ByteString k : List.of(next, highLonger, high, low)) {
      state.kvPut("ns", k, bytes("v"), false);
    }
    assertEquals(
        List.of(low, high, highLonger),
        state.kvKeys("ns", bytes(0x61)),
        "0xff sorts after 0x01 and the prefix stops before 0x62");
    assertEquals(List.of(high, highLonger), state.kvKeys("ns", bytes(0x61, 0xff)));
  }
}
