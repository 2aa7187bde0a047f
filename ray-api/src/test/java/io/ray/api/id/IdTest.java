package io.ray.api.id;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class IdTest {

  /** One kind of id: its length and how to make one from bytes and from hex. */
  private record Kind(
      String name,
      int length,
      Function<byte[], BaseId> fromBytes,
      Function<String, BaseId> fromHex) {}

  private static final List<Kind> KINDS =
      List.of(
          new Kind("UniqueId", 28, UniqueId::fromBytes, UniqueId::fromHexString),
          new Kind("JobId", 4, JobId::fromBytes, JobId::fromHexString),
          new Kind("ActorId", 16, ActorId::fromBytes, ActorId::fromHexString),
          new Kind("TaskId", 24, TaskId::fromBytes, TaskId::fromHexString),
          new Kind("ObjectId", 28, ObjectId::fromBytes, ObjectId::fromHexString),
          new Kind(
              "PlacementGroupId",
              18,
              PlacementGroupId::fromBytes,
              PlacementGroupId::fromHexString));

  @Test
  void lengthsAreRays() {
    assertEquals(28, UniqueId.LENGTH);
    assertEquals(4, JobId.LENGTH);
    assertEquals(16, ActorId.LENGTH);
    assertEquals(24, TaskId.LENGTH);
    assertEquals(8, TaskId.UNIQUE_BYTES_LENGTH);
    assertEquals(28, ObjectId.LENGTH);
    assertEquals(18, PlacementGroupId.LENGTH);
  }

  @Test
  void bytesAndHexRoundTrip() {
    Random random = new Random(42);
    for (Kind kind : KINDS) {
      byte[] bytes = new byte[kind.length];
      random.nextBytes(bytes);
      BaseId id = kind.fromBytes.apply(bytes);
      assertEquals(kind.length, id.size(), kind.name);
      assertArrayEquals(bytes, id.getBytes(), kind.name);
      String hex = id.toString();
      assertEquals(2 * kind.length, hex.length(), kind.name);
      assertEquals(hex.toLowerCase(), hex, kind.name);
      assertEquals(id, kind.fromHex.apply(hex), kind.name);
      assertEquals(id, kind.fromHex.apply(hex.toUpperCase()), kind.name);
      assertEquals(id.hashCode(), kind.fromHex.apply(hex).hashCode(), kind.name);
      assertFalse(id.isNil(), kind.name);
      ByteBuffer buffer = id.toByteBuffer();
      assertArrayEquals(bytes, buffer.array(), kind.name);
    }
  }

  @Test
  void wrongSizesAreRefused() {
    for (Kind kind : KINDS) {
      assertThrows(
          IllegalArgumentException.class, () -> kind.fromBytes.apply(new byte[kind.length - 1]));
      assertThrows(
          IllegalArgumentException.class, () -> kind.fromBytes.apply(new byte[kind.length + 1]));
      assertThrows(IllegalArgumentException.class, () -> kind.fromBytes.apply(null));
      assertThrows(IllegalArgumentException.class, () -> kind.fromHex.apply("abcd"));
      assertThrows(
          IllegalArgumentException.class, () -> kind.fromHex.apply("zz".repeat(kind.length)));
    }
  }

  @Test
  void idsAreImmutable() {
    byte[] bytes = new byte[ObjectId.LENGTH];
    ObjectId id = new ObjectId(bytes);
    bytes[0] = 1;
    id.getBytes()[1] = 1;
    assertArrayEquals(new byte[ObjectId.LENGTH], id.getBytes());
  }

  @Test
  void nilIsAllOnes() {
    assertTrue(UniqueId.NIL.isNil());
    assertTrue(JobId.NIL.isNil());
    assertTrue(ActorId.NIL.isNil());
    assertTrue(TaskId.NIL.isNil());
    assertTrue(PlacementGroupId.NIL.isNil());
    assertEquals("ffffffff", JobId.NIL.toString());
    assertTrue(ObjectId.fromHexString("ff".repeat(ObjectId.LENGTH)).isNil());
  }

  @Test
  void kindsWithTheSameBytesDiffer() {
    byte[] bytes = new byte[28];
    assertNotEquals(UniqueId.fromBytes(bytes), ObjectId.fromBytes(bytes));
  }

  @Test
  void byteBuffersAreReadWithoutMovingThem() {
    ActorId id = ActorId.fromRandom();
    ByteBuffer buffer = id.toByteBuffer();
    assertEquals(id, ActorId.fromByteBuffer(buffer));
    assertEquals(0, buffer.position());
  }

  @Test
  void jobNumbersAndActorJobs() {
    assertEquals("01000000", JobId.fromInt(1).toString());
    assertEquals("ff000000", JobId.fromInt(255).toString());
    assertThrows(IllegalArgumentException.class, () -> JobId.fromInt(-1));
    ActorId actor = ActorId.fromHexString("000102030405060708090a0b" + "0c0d0e0f");
    assertEquals(JobId.fromHexString("0c0d0e0f"), actor.getJobId());
  }

  @Test
  void randomIdsDiffer() {
    assertNotEquals(UniqueId.randomId(), UniqueId.randomId());
    assertNotEquals(ObjectId.fromRandom(), ObjectId.fromRandom());
    assertNotEquals(PlacementGroupId.fromRandom(), PlacementGroupId.fromRandom());
  }
}
