package io.ray.engine.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.rpc.ActorInfo;
import io.ray.engine.rpc.ActorState;
import org.junit.jupiter.api.Test;

/** The actor directory: names per namespace, held by live actors only. */
class ControlStateActorsTest {

  private static ActorInfo actor(String id, String ns, String name) {
    return ActorInfo.newBuilder()
        .setActorId(ByteString.copyFromUtf8(id))
        .setRayNamespace(ns)
        .setName(name)
        .setClassName("Counter")
        .build();
  }

  @Test
  void aNameIsTakenOncePerNamespace() {
    ControlState state = new ControlState();
    assertTrue(state.registerActor(actor("1", "ns", "counter")).isEmpty());
    assertEquals(
        ByteString.copyFromUtf8("1"),
        state.registerActor(actor("2", "ns", "counter")).orElseThrow().getActorId(),
        "the holder of the name is returned");
    assertTrue(state.registerActor(actor("3", "other", "counter")).isEmpty());
    assertEquals(
        ByteString.copyFromUtf8("3"),
        state.namedActor("other", "counter").orElseThrow().getActorId());
    assertTrue(state.namedActor("ns", "missing").isEmpty());
  }

  @Test
  void aDeadActorFreesItsName() {
    ControlState state = new ControlState();
    state.registerActor(actor("1", "ns", "counter"));
    state.updateActor(
        ActorInfo.newBuilder()
            .setActorId(ByteString.copyFromUtf8("1"))
            .setState(ActorState.DEAD)
            .setDeathCause("killed")
            .build());
    assertTrue(state.namedActor("ns", "counter").isEmpty());
    ActorInfo dead = state.actors().get(0);
    assertEquals("counter", dead.getName(), "a report keeps what registration recorded");
    assertEquals("killed", dead.getDeathCause());
    assertTrue(state.registerActor(actor("2", "ns", "counter")).isEmpty());
  }

  @Test
  void unnamedActorsAreRecordedFromNodeReports() {
    ControlState state = new ControlState();
    state.updateActor(
        actor("1", "ns", "").toBuilder().setState(ActorState.ALIVE).setPid(42).build());
    assertEquals(1, state.actors().size());
    assertEquals(42, state.actors().get(0).getPid());
  }
}
