package io.ray.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.function.CppActorClass;
import io.ray.api.function.CppFunction;
import io.ray.api.id.PlacementGroupId;
import io.ray.api.options.PlacementGroupCreationOptions;
import io.ray.api.runtimeenv.RuntimeEnv;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** What this runtime cannot serve yet fails loudly, naming the method. */
class UnsupportedTest {

  @BeforeEach
  void init() {
    Ray.init();
  }

  @AfterEach
  void shutdown() {
    Ray.shutdown();
  }

  private static void assertUnsupported(String method, Executable executable) {
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, executable);
    assertEquals(method + " is not supported by this Ray (Ray on the JVM) yet", e.getMessage());
  }

  /** A runtime that serves no placement groups (this fake one) refuses each call by name. */
  @Test
  void placementGroupsOfARuntimeWithoutThem() {
    PlacementGroupCreationOptions options =
        new PlacementGroupCreationOptions.Builder().setBundles(List.of(Map.of("CPU", 1.0))).build();
    Map<String, Executable> calls =
        Map.of(
            "createPlacementGroup", () -> PlacementGroups.createPlacementGroup(options),
            "getPlacementGroup", () -> PlacementGroups.getPlacementGroup("pg", "ns"),
            "getAllPlacementGroups", PlacementGroups::getAllPlacementGroups,
            "removePlacementGroup",
                () -> PlacementGroups.removePlacementGroup(PlacementGroupId.fromRandom()));
    calls.forEach(
        (method, call) -> {
          UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, call);
          assertEquals(
              "RayRuntime." + method + " is not supported by this runtime", e.getMessage());
        });
  }

  /** A runtime that makes no runtime environments (this fake one) refuses them by name. */
  @Test
  void runtimeEnvironmentsOfARuntimeWithoutThem() {
    UnsupportedOperationException built =
        assertThrows(UnsupportedOperationException.class, () -> new RuntimeEnv.Builder().build());
    assertEquals(
        "RayRuntime.createRuntimeEnv is not supported by this runtime", built.getMessage());
    UnsupportedOperationException read =
        assertThrows(UnsupportedOperationException.class, () -> RuntimeEnv.deserialize("{}"));
    assertEquals(
        "RayRuntime.deserializeRuntimeEnv is not supported by this runtime", read.getMessage());
  }

  @Test
  void cppTasksAndActors() {
    UnsupportedOperationException task =
        assertThrows(
            UnsupportedOperationException.class,
            () -> Ray.task(CppFunction.of("f", Integer.class), 1).remote());
    assertTrue(task.getMessage().startsWith("CppTaskCaller.remote is not supported"));
    UnsupportedOperationException actor =
        assertThrows(
            UnsupportedOperationException.class,
            () -> Ray.actor(CppActorClass.of("Create", "Actor")).remote());
    assertTrue(actor.getMessage().startsWith("CppActorCreator.remote is not supported"));
  }
}
