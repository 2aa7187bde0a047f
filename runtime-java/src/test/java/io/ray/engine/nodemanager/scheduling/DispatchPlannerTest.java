package io.ray.engine.nodemanager.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import io.ray.engine.nodemanager.scheduling.DispatchPlanner.Plan;
import io.ray.engine.nodemanager.scheduling.DispatchPlanner.Queued;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The node's dispatch policy. Input maps are immutable ({@code Map.of}), which also checks that
 * planning does not modify its inputs.
 */
class DispatchPlannerTest {

  private static final ByteString JOB_A = ByteString.copyFromUtf8("jobA");
  private static final ByteString JOB_B = ByteString.copyFromUtf8("jobB");
  private static final WorkerKey KEY_A = new WorkerKey(JOB_A, "");
  private static final WorkerKey KEY_B = new WorkerKey(JOB_B, "");
  private static final ByteString FN = ByteString.copyFromUtf8("fn");
  private static final ResourceSet EIGHT_CPUS = cpus(8);

  private static ResourceSet cpus(double n) {
    return ResourceSet.of("CPU", n);
  }

  private static SchedulingClass cls(ByteString job, double cpus) {
    return new SchedulingClass(job, cpus(cpus), "", FN);
  }

  private static Queued queued(SchedulingClass c, int n) {
    return new Queued(c, n);
  }

  @Test
  void fittingTasksTakeIdleWorkersOfTheirOwnJobOnly() {
    SchedulingClass a = cls(JOB_A, 1);
    SchedulingClass b = cls(JOB_B, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(b, 1), queued(a, 1)),
            EIGHT_CPUS,
            cpus(4),
            Map.of(KEY_A, 1),
            Map.of(),
            0);
    assertEquals(Map.of(a, 1), plan.dispatch(), "B has no idle worker; A's worker is not lent");
    assertEquals(Map.of(), plan.workersToStart());
    assertEquals(List.of(), plan.infeasible());
  }

  @Test
  void eachIdleWorkerTakesOneTask() {
    SchedulingClass a = cls(JOB_A, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(a, 3)), EIGHT_CPUS, cpus(8), Map.of(KEY_A, 2), Map.of(), 0);
    assertEquals(Map.of(a, 2), plan.dispatch(), "two idle workers, two tasks");
  }

  @Test
  void dispatchStopsWhenResourcesRunOut() {
    SchedulingClass a = cls(JOB_A, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(a, 5)), EIGHT_CPUS, cpus(2), Map.of(KEY_A, 5), Map.of(), 5);
    assertEquals(Map.of(a, 2), plan.dispatch());
    assertEquals(Map.of(), plan.workersToStart(), "no worker for tasks that do not fit");
  }

  @Test
  void aClassThatDoesNotFitDoesNotBlockSmallerOnes() {
    SchedulingClass big = cls(JOB_A, 4);
    SchedulingClass small = cls(JOB_A, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(big, 1), queued(small, 2)),
            EIGHT_CPUS,
            cpus(2),
            Map.of(KEY_A, 3),
            Map.of(),
            0);
    assertEquals(Map.of(small, 2), plan.dispatch());
    assertEquals(List.of(), plan.infeasible(), "big fits the node, just not now");
  }

  @Test
  void classesKeepTheirOrder() {
    SchedulingClass first = cls(JOB_A, 1);
    SchedulingClass second = cls(JOB_A, 0.5);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(first, 1), queued(second, 4)),
            EIGHT_CPUS,
            cpus(2),
            Map.of(KEY_A, 5),
            Map.of(),
            0);
    assertEquals(List.of(first, second), List.copyOf(plan.dispatch().keySet()));
    assertEquals(Map.of(first, 1, second, 2), plan.dispatch(), "the first class is served first");
  }

  @Test
  void workersToStartNeverExceedFreeSlots() {
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 1), 5)), EIGHT_CPUS, cpus(2), Map.of(), Map.of(), 10);
    assertEquals(Map.of(KEY_A, 2), plan.workersToStart());
    assertEquals(Map.of(), plan.dispatch());
  }

  @Test
  void workersToStartNeverExceedTheStartBudget() {
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 1), 5)), EIGHT_CPUS, cpus(8), Map.of(), Map.of(), 3);
    assertEquals(Map.of(KEY_A, 3), plan.workersToStart());

    Plan none =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 1), 5)), EIGHT_CPUS, cpus(8), Map.of(), Map.of(), 0);
    assertEquals(Map.of(), none.workersToStart());
  }

  @Test
  void workersArePerJob() {
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 1), 2), queued(cls(JOB_B, 1), 1)),
            EIGHT_CPUS,
            cpus(8),
            Map.of(),
            Map.of(),
            10);
    assertEquals(Map.of(KEY_A, 2, KEY_B, 1), plan.workersToStart());
  }

  @Test
  void tasksUseWorkersAlreadyStartingForTheirJobFirst() {
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 1), 3)), EIGHT_CPUS, cpus(8), Map.of(), Map.of(KEY_A, 2), 10);
    assertEquals(Map.of(KEY_A, 1), plan.workersToStart(), "two tasks wait for starting workers");
    assertEquals(Map.of(), plan.dispatch(), "a starting worker cannot take a task yet");

    Plan other =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 1), 1)), EIGHT_CPUS, cpus(8), Map.of(), Map.of(KEY_B, 2), 10);
    assertEquals(Map.of(KEY_A, 1), other.workersToStart(), "B's starting workers are not A's");
  }

  @Test
  void resourcesAreSetAsideForTasksWaitingOnWorkers() {
    SchedulingClass a = cls(JOB_A, 1);
    SchedulingClass b = cls(JOB_B, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(a, 2), queued(b, 1)),
            EIGHT_CPUS,
            cpus(2),
            Map.of(KEY_B, 1),
            Map.of(KEY_A, 1),
            10);
    assertEquals(Map.of(KEY_A, 1), plan.workersToStart());
    assertEquals(
        Map.of(),
        plan.dispatch(),
        "both CPUs are promised to A's earlier tasks, so B's task must not take one");
  }

  @Test
  void budgetExhaustedTasksDoNotHoldResources() {
    // A's task can neither run nor get a worker; B's later task still runs on its idle worker.
    SchedulingClass a = cls(JOB_A, 1);
    SchedulingClass b = cls(JOB_B, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(a, 1), queued(b, 1)),
            EIGHT_CPUS,
            cpus(1),
            Map.of(KEY_B, 1),
            Map.of(),
            0);
    assertEquals(Map.of(b, 1), plan.dispatch());
  }

  @Test
  void demandBeyondTheNodeTotalIsInfeasibleAndNotDispatched() {
    SchedulingClass tooBig = cls(JOB_A, 16);
    SchedulingClass needsGpu = new SchedulingClass(JOB_A, ResourceSet.of("GPU", 1), "", FN);
    SchedulingClass ok = cls(JOB_A, 1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(tooBig, 1), queued(needsGpu, 1), queued(ok, 1)),
            EIGHT_CPUS,
            cpus(8),
            Map.of(KEY_A, 5),
            Map.of(),
            5);
    assertEquals(List.of(tooBig, needsGpu), plan.infeasible());
    assertEquals(Map.of(ok, 1), plan.dispatch());
    assertEquals(Map.of(), plan.workersToStart(), "no worker is started for infeasible tasks");
  }

  @Test
  void fractionalCpusPackExactly() {
    SchedulingClass tenth = cls(JOB_A, 0.1);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(tenth, 11)), EIGHT_CPUS, cpus(1), Map.of(KEY_A, 20), Map.of(), 0);
    assertEquals(Map.of(tenth, 10), plan.dispatch(), "ten tenths fill one CPU exactly");

    SchedulingClass half = cls(JOB_A, 0.5);
    SchedulingClass quarter = cls(JOB_A, 0.25);
    SchedulingClass threeQuarters = cls(JOB_A, 0.75);
    Plan mixed =
        DispatchPlanner.plan(
            List.of(queued(half, 1), queued(quarter, 2), queued(threeQuarters, 1)),
            EIGHT_CPUS,
            cpus(1),
            Map.of(KEY_A, 4),
            Map.of(),
            0);
    assertEquals(Map.of(half, 1, quarter, 2), mixed.dispatch());
  }

  @Test
  void fractionalCpusBoundWorkerStarts() {
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(cls(JOB_A, 0.25), 10)), EIGHT_CPUS, cpus(1), Map.of(), Map.of(), 10);
    assertEquals(Map.of(KEY_A, 4), plan.workersToStart());
  }

  @Test
  void zeroDemandTasksAreBoundedByWorkers() {
    SchedulingClass free = new SchedulingClass(JOB_A, ResourceSet.EMPTY, "", FN);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(free, 100)), EIGHT_CPUS, cpus(0), Map.of(KEY_A, 3), Map.of(), 2);
    assertEquals(Map.of(free, 3), plan.dispatch());
    assertEquals(Map.of(KEY_A, 2), plan.workersToStart());
  }

  @Test
  void emptyQueueDoesNothing() {
    Plan plan = DispatchPlanner.plan(List.of(), EIGHT_CPUS, cpus(8), Map.of(KEY_A, 1), Map.of(), 5);
    assertTrue(plan.dispatch().isEmpty());
    assertTrue(plan.workersToStart().isEmpty());
    assertTrue(plan.infeasible().isEmpty());
  }

  @Test
  void aClassGetsNoMoreThanItsAllowanceAndIsReportedAsCapped() {
    SchedulingClass parent = cls(JOB_A, 1);
    SchedulingClass child = new SchedulingClass(JOB_A, cpus(1), "", ByteString.copyFromUtf8("c"));
    Plan plan =
        DispatchPlanner.plan(
            List.of(new Queued(parent, 5, 0), new Queued(child, 5, 2)),
            EIGHT_CPUS,
            cpus(2),
            Map.of(KEY_A, 1),
            Map.of(),
            4);
    assertEquals(Map.of(child, 1), plan.dispatch(), "the lent CPUs go to the children");
    assertEquals(Map.of(KEY_A, 1), plan.workersToStart(), "one more worker for the second child");
    assertEquals(List.of(parent), plan.capped(), "the parents wait only for their cap");
  }

  @Test
  void workersOfAnotherEnvironmentAreNotUsed() {
    SchedulingClass withEnv = new SchedulingClass(JOB_A, cpus(1), "env1", FN);
    Plan plan =
        DispatchPlanner.plan(
            List.of(queued(withEnv, 1)), EIGHT_CPUS, cpus(8), Map.of(KEY_A, 3), Map.of(), 1);
    assertEquals(Map.of(), plan.dispatch());
    assertEquals(Map.of(new WorkerKey(JOB_A, "env1"), 1), plan.workersToStart());
  }
}
