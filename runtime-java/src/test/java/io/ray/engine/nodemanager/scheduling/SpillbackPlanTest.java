package io.ray.engine.nodemanager.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.scheduling.DispatchPlanner.Plan;
import io.ray.engine.nodemanager.scheduling.DispatchPlanner.Queued;
import io.ray.engine.rpc.NodeInfo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Spillback: which queued tasks go to which peers, and the peers' room as a node sees it. */
class SpillbackPlanTest {
  private static final ByteString JOB = ByteString.copyFromUtf8("job");
  private static final WorkerKey KEY = new WorkerKey(JOB, "");
  private static final ByteString FN = ByteString.copyFromUtf8("fn");
  private static final ByteString SELF = ByteString.copyFromUtf8("self");
  private static final ByteString B = ByteString.copyFromUtf8("nodeB");
  private static final ByteString C = ByteString.copyFromUtf8("nodeC");

  private static SchedulingClass cls(ResourceSet demand) {
    return new SchedulingClass(JOB, demand, "", FN);
  }

  private static ResourceSet cpus(double n) {
    return ResourceSet.of("CPU", n);
  }

  /** A plan for a node with nothing running (its free resources are its total). */
  private static Plan planOnIdleNode(
      List<Queued> queue,
      ResourceSet total,
      Map<WorkerKey, Integer> idle,
      Map<WorkerKey, Integer> starting,
      int budget,
      List<ClusterView.Peer> peers) {
    return DispatchPlanner.plan(queue, total, total, idle, starting, budget, peers);
  }

  private static ClusterView.Peer peer(ByteString id, ResourceSet total, ResourceSet room) {
    return new ClusterView.Peer(id, id.toStringUtf8() + ":1", total, room);
  }

  @Test
  void tasksBeyondTheLocalRoomGoToThePeersWithTheMostFreeCpusWithinTheirRoom() {
    SchedulingClass c = cls(cpus(1));
    Plan plan =
        planOnIdleNode(
            List.of(new Queued(c, 8)),
            cpus(2),
            Map.of(KEY, 2),
            Map.of(),
            2,
            List.of(peer(B, cpus(2), cpus(2)), peer(C, cpus(4), cpus(3))));
    assertEquals(Map.of(c, 2), plan.dispatch());
    // C has 3 free, B 2: C, then the roomiest each time (ties go to the first listed).
    assertEquals(Map.of(c, List.of(C, B, C, B, C)), plan.spill());
    assertTrue(plan.infeasible().isEmpty());
  }

  @Test
  void tasksWaitingOnlyForWorkersToStartStayHere() {
    SchedulingClass c = cls(cpus(1));
    Plan plan =
        planOnIdleNode(
            List.of(new Queued(c, 2)),
            cpus(2),
            Map.of(),
            Map.of(KEY, 1),
            1,
            List.of(peer(B, cpus(2), cpus(2))));
    assertEquals(Map.of(KEY, 1), plan.workersToStart());
    assertEquals(Map.of(), plan.spill(), "room here: both run here once the workers are up");
  }

  @Test
  void aDemandOnlyAPeerCanMeetIsNotInfeasibleAndSpillsWhenThePeerHasRoom() {
    ResourceSet special = ResourceSet.of(Map.of("CPU", 1.0, "special", 1.0));
    SchedulingClass c = cls(special);
    ResourceSet peerTotal = ResourceSet.of(Map.of("CPU", 2.0, "special", 1.0));
    Plan busy =
        planOnIdleNode(
            List.of(new Queued(c, 2)),
            cpus(8),
            Map.of(KEY, 4),
            Map.of(),
            4,
            List.of(peer(B, cpus(2), cpus(2)), peer(C, peerTotal, cpus(2))));
    assertEquals(Map.of(), busy.dispatch());
    assertEquals(List.of(), busy.infeasible());
    assertEquals(Map.of(), busy.spill(), "C has no 'special' free: the tasks wait");

    Plan free =
        planOnIdleNode(
            List.of(new Queued(c, 2)),
            cpus(8),
            Map.of(KEY, 4),
            Map.of(),
            4,
            List.of(peer(C, peerTotal, peerTotal)));
    assertEquals(Map.of(c, List.of(C)), free.spill(), "one 'special' free: one task goes");
  }

  @Test
  void aDemandNoNodeCanMeetIsInfeasible() {
    SchedulingClass c = cls(cpus(16));
    Plan plan =
        planOnIdleNode(
            List.of(new Queued(c, 1)),
            cpus(2),
            Map.of(),
            Map.of(),
            2,
            List.of(peer(B, cpus(4), cpus(4))));
    assertEquals(List.of(c), plan.infeasible());
    assertEquals(Map.of(), plan.spill());
  }

  @Test
  void aPeersRoomIsItsFreeLessItsQueueLessWhatWasForwardedToItAndNotEnded() {
    ClusterView view = new ClusterView(SELF);
    view.update(
        List.of(
            node(SELF, 2, 2, 0),
            node(B, 4, 3, 1),
            node(C, 2, 2, 0).toBuilder().setAlive(false).build()));
    assertEquals(List.of(peer(B, cpus(4), cpus(2))), view.candidates(0), "self and dead skipped");

    view.charge(B, cpus(1));
    view.charge(B, cpus(1));
    view.update(List.of(node(B, 4, 3, 1))); // a report from before the forwarding
    assertEquals(cpus(0), view.candidates(0).get(0).available());
    // One of them ended: it no longer counts, and the CPU it held there is free again.
    view.discharge(B, cpus(1));
    assertEquals(cpus(2), view.candidates(0).get(0).available());
    view.update(List.of(node(B, 4, 3, 1))); // the peer's next report replaces the credit
    assertEquals(cpus(1), view.candidates(0).get(0).available());

    view.backOff(B, 1_000, ClusterView.BACK_OFF_MS);
    assertEquals(List.of(), view.candidates(1_000 + ClusterView.BACK_OFF_MS - 1));
    assertEquals(1, view.candidates(1_000 + ClusterView.BACK_OFF_MS).size());
  }

  @Test
  void aSpreadClassIsDealtRoundTheNodesWithRoomThisOneFirst() {
    SchedulingClass c = new SchedulingClass(JOB, cpus(1), "", FN, SchedulingClass.Placement.SPREAD);
    Plan plan =
        planOnIdleNode(
            List.of(new Queued(c, 7)),
            cpus(2),
            Map.of(KEY, 2),
            Map.of(),
            2,
            List.of(peer(B, cpus(2), cpus(2)), peer(C, cpus(2), cpus(1))));
    // Turns: here, B, C, here, B; then no node has room and the last two wait here.
    assertEquals(Map.of(c, 2), plan.dispatch());
    assertEquals(Map.of(c, List.of(B, C, B)), plan.spill());
  }

  @Test
  void spreadTasksSubmittedOneAtATimeStillGoRoundTheNodes() {
    SchedulingClass c = new SchedulingClass(JOB, cpus(1), "", FN, SchedulingClass.Placement.SPREAD);
    List<ClusterView.Peer> peers = List.of(peer(B, cpus(2), cpus(2)), peer(C, cpus(2), cpus(2)));
    int turn = 0;
    List<Object> where = new java.util.ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Plan plan =
          DispatchPlanner.plan(
              List.of(new Queued(c, 1)),
              cpus(2),
              cpus(2),
              Map.of(KEY, 2),
              Map.of(),
              2,
              peers,
              turn);
      turn = plan.spreadTurn();
      where.add(plan.dispatch().isEmpty() ? plan.spill().get(c).get(0) : "here");
    }
    assertEquals(List.of("here", B, C, "here"), where);
  }

  @Test
  void aPinnedClassNeverLeavesAndIsInfeasibleIfThisNodeCannotRunIt() {
    SchedulingClass pinned =
        new SchedulingClass(JOB, cpus(1), "", FN, SchedulingClass.Placement.PINNED);
    SchedulingClass tooBig =
        new SchedulingClass(JOB, cpus(4), "", FN, SchedulingClass.Placement.PINNED);
    Plan plan =
        planOnIdleNode(
            List.of(new Queued(pinned, 5), new Queued(tooBig, 1)),
            cpus(2),
            Map.of(KEY, 2),
            Map.of(),
            2,
            List.of(peer(B, cpus(8), cpus(8))));
    assertEquals(Map.of(pinned, 2), plan.dispatch());
    assertEquals(Map.of(), plan.spill());
    assertEquals(List.of(tooBig), plan.infeasible());
  }

  private static NodeInfo node(ByteString id, double total, double free, double queued) {
    return NodeInfo.newBuilder()
        .setNodeId(id)
        .setNodeIp(id.toStringUtf8())
        .setNodeManagerPort(1)
        .setAlive(true)
        .putTotalResources("CPU", total)
        .putAvailableResources("CPU", free)
        .putQueuedDemand("CPU", queued)
        .build();
  }
}
