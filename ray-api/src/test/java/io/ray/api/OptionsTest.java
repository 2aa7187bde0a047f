package io.ray.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.concurrencygroup.ConcurrencyGroup;
import io.ray.api.concurrencygroup.ConcurrencyGroupBuilder;
import io.ray.api.fake.FakeRuntime;
import io.ray.api.fake.FakeRuntimeFactory;
import io.ray.api.id.PlacementGroupId;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.ActorLifetime;
import io.ray.api.options.CallOptions;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.placementgroup.PlacementGroup;
import io.ray.api.placementgroup.PlacementGroupState;
import io.ray.api.placementgroup.PlacementStrategy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OptionsTest {

  static class Worker {
    int work(int x) {
      return x;
    }

    void rest() {}
  }

  /** A placement group that only knows its id. */
  private static final class StubGroup implements PlacementGroup {
    private final PlacementGroupId id = PlacementGroupId.fromRandom();

    @Override
    public PlacementGroupId getId() {
      return id;
    }

    @Override
    public String getName() {
      return "";
    }

    @Override
    public List<Map<String, Double>> getBundles() {
      return List.of();
    }

    @Override
    public PlacementStrategy getStrategy() {
      return PlacementStrategy.PACK;
    }

    @Override
    public PlacementGroupState getState() {
      return PlacementGroupState.CREATED;
    }

    @Override
    public boolean wait(int timeoutSeconds) {
      return true;
    }
  }

  @Test
  void resourcesAreCheckedAndKeptUnmodifiable() {
    CallOptions options =
        new CallOptions.Builder().setResource("CPU", 0.5).setResource("GPU", 2.0).build();
    assertEquals(Map.of("CPU", 0.5, "GPU", 2.0), options.getResources());
    assertThrows(UnsupportedOperationException.class, () -> options.getResources().put("x", 1.0));
    assertEquals(
        Map.of("CPU", 0.0),
        new CallOptions.Builder().setResource("CPU", 0.0).build().getResources(),
        "an explicit zero is kept");

    assertThrows(
        IllegalArgumentException.class,
        () -> new CallOptions.Builder().setResource("CPU", -1.0).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new CallOptions.Builder().setResource("CPU", 1.5).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new CallOptions.Builder().setResource("CPU", null).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new ActorCreationOptions.Builder().setResource("CPU", Double.NaN).build());
  }

  @Test
  void callOptionsDefaults() {
    CallOptions options = new CallOptions.Builder().build();
    assertNull(options.getName());
    assertTrue(options.getResources().isEmpty());
    assertNull(options.getGroup());
    assertEquals(-1, options.getBundleIndex());
    assertEquals("", options.getConcurrencyGroupName());
    assertNull(options.getRuntimeEnv());
    assertEquals("", options.getSerializedRuntimeEnvInfo());
  }

  @Test
  void actorCreationOptionsDefaults() {
    ActorCreationOptions options = new ActorCreationOptions.Builder().build();
    assertNull(options.getName());
    assertNull(options.getLifetime());
    assertEquals(ActorCreationOptions.NO_RESTART, options.getMaxRestarts());
    assertEquals(0, options.getMaxTaskRetries());
    assertEquals(List.of(), options.getJvmOptions());
    assertEquals(1, options.getMaxConcurrency());
    assertNull(options.getGroup());
    assertEquals(-1, options.getBundleIndex());
    assertEquals(List.of(), options.getConcurrencyGroups());
    assertNull(options.getNamespace());
    assertEquals(-1, options.getMaxPendingCalls());
    assertFalse(options.isAsync());
    assertFalse(options.allowsOutOfOrderExecution());
    assertEquals("", options.getSerializedRuntimeEnv());
  }

  @Test
  void invalidActorLimitsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new ActorCreationOptions.Builder().setMaxConcurrency(0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ActorCreationOptions.Builder().setMaxPendingCalls(0));
    new ActorCreationOptions.Builder().setMaxPendingCalls(-1).setMaxPendingCalls(5);
  }

  @Test
  void everyActorCreatorSetterReachesTheOptions() {
    Ray.init();
    try {
      FakeRuntime runtime = FakeRuntimeFactory.last;
      StubGroup group = new StubGroup();
      ConcurrencyGroup io =
          new ConcurrencyGroupBuilder<Worker>().setName("io").setMaxConcurrency(2).build();
      List<String> jvmOptions = new ArrayList<>(List.of("-Xmx64m"));
      Map<String, Double> resources = new HashMap<>(Map.of("CPU", 1.0));

      Ray.actor(Worker::new)
          .setName("w", "ns")
          .setLifetime(ActorLifetime.DETACHED)
          .setResources(resources)
          .setResource("memory", 100.0)
          .setMaxRestarts(ActorCreationOptions.INFINITE_RESTART)
          .setMaxTaskRetries(4)
          .setMaxConcurrency(8)
          .setMaxPendingCalls(16)
          .setPlacementGroup(group, 1)
          .setJvmOptions(jvmOptions)
          .setConcurrencyGroups(io)
          .remote();
      jvmOptions.add("-late");
      resources.put("late", 1.0);

      ActorCreationOptions options = (ActorCreationOptions) runtime.only("createActor").options();
      assertEquals("w", options.getName());
      assertEquals("ns", options.getNamespace());
      assertEquals(ActorLifetime.DETACHED, options.getLifetime());
      assertEquals(Map.of("CPU", 1.0, "memory", 100.0), options.getResources());
      assertEquals(-1, options.getMaxRestarts());
      assertEquals(4, options.getMaxTaskRetries());
      assertEquals(8, options.getMaxConcurrency());
      assertEquals(16, options.getMaxPendingCalls());
      assertSame(group, options.getGroup());
      assertEquals(1, options.getBundleIndex());
      assertEquals(List.of("-Xmx64m"), options.getJvmOptions(), "later changes do not leak in");
      assertEquals(List.of(io), options.getConcurrencyGroups());
      assertThrows(UnsupportedOperationException.class, () -> options.getJvmOptions().add("x"));

      runtime.calls.clear();
      Ray.task(Worker::new).setPlacementGroup(group).remote();
      CallOptions callOptions = (CallOptions) runtime.only("call").options();
      assertSame(group, callOptions.getGroup());
      assertEquals(-1, callOptions.getBundleIndex());
    } finally {
      Ray.shutdown();
    }
  }

  @Test
  void concurrencyGroupsKeepTheirMethods() {
    ConcurrencyGroup group =
        new ConcurrencyGroupBuilder<Worker>()
            .setName("compute")
            .setMaxConcurrency(3)
            .addMethod(Worker::work)
            .addMethod(Worker::rest)
            .build();
    assertEquals("compute", group.getName());
    assertEquals(3, group.getMaxConcurrency());
    assertEquals(2, group.getFunctions().size());
    assertThrows(
        IllegalArgumentException.class, () -> new ConcurrencyGroupBuilder<Worker>().build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new ConcurrencyGroupBuilder<Worker>().setName("x").setMaxConcurrency(0).build());
  }

  @Test
  void placementGroupOptionsAreChecked() {
    PlacementGroupCreationOptions options =
        new PlacementGroupCreationOptions.Builder()
            .setName("pg")
            .setBundles(List.of(Map.of("CPU", 1.0), Map.of("GPU", 1.0)))
            .setStrategy(PlacementStrategy.STRICT_SPREAD)
            .build();
    assertEquals("pg", options.getName());
    assertEquals(2, options.getBundles().size());
    assertEquals(PlacementStrategy.STRICT_SPREAD, options.getStrategy());
    assertEquals(
        PlacementStrategy.PACK,
        new PlacementGroupCreationOptions.Builder()
            .setBundles(List.of(Map.of("CPU", 1.0)))
            .build()
            .getStrategy());
    assertThrows(
        IllegalArgumentException.class, () -> new PlacementGroupCreationOptions.Builder().build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new PlacementGroupCreationOptions.Builder().setBundles(List.of(Map.of())).build());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new PlacementGroupCreationOptions.Builder()
                .setBundles(List.of(Map.of("CPU", 0.0)))
                .build());
  }

  @Test
  void enumsKeepRaysNumbers() {
    assertEquals(3, PlacementStrategy.STRICT_SPREAD.value());
    assertEquals(-1, PlacementGroupState.UNRECOGNIZED.value());
    assertEquals(
        io.ray.api.runtimecontext.ActorState.DEAD,
        io.ray.api.runtimecontext.ActorState.fromValue(4));
  }

  @Test
  void waitResultIsACopy() {
    List<ObjectRef<Integer>> ready = new ArrayList<>();
    WaitResult<Integer> result = new WaitResult<>(ready, List.of());
    ready.add(null);
    assertTrue(result.getReady().isEmpty());
    assertThrows(UnsupportedOperationException.class, () -> result.getUnready().add(null));
  }
}
