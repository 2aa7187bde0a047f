package io.ray.engine.nodemanager.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.ray.engine.nodemanager.objects.ObjectDirectory.Entry;
import io.ray.engine.nodemanager.objects.ObjectDirectory.State;
import io.ray.engine.rpc.InlineObject;
import io.ray.engine.rpc.ObjectFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Lifetime of objects in the node's directory: who keeps an object alive, when it is removed, and
 * when its arena space is reported free. The onFree consumer records (id, offset) at the moment it
 * is called, since the offset is what the node returns to the arena.
 */
class ObjectDirectoryTest {

  private record Freed(ByteString id, long offset) {}

  private static final ByteString DRIVER = ByteString.copyFromUtf8("driver");
  private static final ByteString WORKER = ByteString.copyFromUtf8("worker");
  private static final ByteString READER = ByteString.copyFromUtf8("reader");

  private final List<Freed> freed = new ArrayList<>();
  private ObjectDirectory dir;
  private int nextId;
  private long nextOffset = 4096 + 64;

  @BeforeEach
  void setUp() {
    dir = new ObjectDirectory(e -> freed.add(new Freed(e.id, e.payloadOffset())));
  }

  private ByteString newId() {
    return ByteString.copyFromUtf8(String.format("object-%022d", nextId++));
  }

  private static InlineObject value(String text, ByteString... nested) {
    return InlineObject.newBuilder()
        .setFormat(ObjectFormat.PICKLE5)
        .setPayload(ByteString.copyFromUtf8(text))
        .addAllNestedRefs(List.of(nested))
        .build();
  }

  /** An inline object put by {@code holder}, who holds one ref. */
  private ByteString putInline(ByteString holder, ByteString... nested) {
    ByteString id = newId();
    assertTrue(dir.putInline(id, value("v", nested), holder));
    return id;
  }

  /** A sealed arena object created by {@code creator} (no prior holder), who holds one ref. */
  private ByteString putArena(ByteString creator, ByteString... nested) {
    ByteString id = newId();
    long offset = nextOffset;
    nextOffset += 1024;
    assertNotNull(
        dir.beginCreate(id, creator, offset, 100, ObjectFormat.PICKLE5, List.of(nested), false));
    assertTrue(dir.seal(id, creator));
    return id;
  }

  private Freed freedEntry(ByteString id, long offset) {
    return new Freed(id, offset);
  }

  // ---------------------------------------------------------------- readiness

  @Test
  void pendingObjectBecomesReadyOnPutAndWaitersRunOnce() {
    ByteString id = newId();
    Entry e = dir.addPending(id, DRIVER);
    assertEquals(State.PENDING, e.state());
    assertFalse(e.ready());
    AtomicInteger first = new AtomicInteger();
    AtomicInteger second = new AtomicInteger();
    dir.whenReady(e, first::incrementAndGet);
    dir.whenReady(e, second::incrementAndGet);
    assertEquals(0, first.get() + second.get(), "nothing runs before the value arrives");

    InlineObject v = value("result");
    assertTrue(dir.putInline(id, v, null));
    assertTrue(e.ready());
    assertSame(e, dir.get(id), "the driver's ref keeps it");
    assertEquals(v, e.inline());
    assertFalse(e.inArena());
    assertEquals(1, first.get());
    assertEquals(1, second.get());

    assertFalse(dir.putInline(id, value("again"), null), "a second value is refused");
    assertEquals(v, dir.get(id).inline(), "the first value stays");
    assertEquals(1, first.get(), "waiters do not run again");
    assertEquals(1, second.get());
  }

  @Test
  void whenReadyOnAReadyObjectRunsImmediately() {
    ByteString id = putInline(DRIVER);
    AtomicInteger runs = new AtomicInteger();
    dir.whenReady(dir.get(id), runs::incrementAndGet);
    assertEquals(1, runs.get());
  }

  @Test
  void putInlineOfAReadyObjectIsRefusedAndAddsNoRef() {
    ByteString id = putInline(DRIVER);
    InlineObject original = dir.get(id).inline();
    assertFalse(dir.putInline(id, value("other"), WORKER));
    assertEquals(original, dir.get(id).inline());
    dir.addClientRef(id, DRIVER, -1);
    assertNull(dir.get(id), "the refused put gave WORKER no ref");
  }

  @Test
  void putInlineWithoutHolderOfAnUnknownObjectIsDropped() {
    ByteString id = newId();
    assertFalse(dir.putInline(id, value("unwanted"), null));
    assertNull(dir.get(id));
    assertFalse(dir.wanted(id));
    assertEquals(0, dir.size());
  }

  // ---------------------------------------------------------------- client refs

  @Test
  void clientRefsKeepAnInlineObjectAndTheLastReleaseRemovesIt() {
    ByteString id = putInline(DRIVER);
    dir.addClientRef(id, DRIVER, 1);
    dir.addClientRef(id, WORKER, 1);
    dir.addClientRef(id, DRIVER, -1);
    dir.addClientRef(id, WORKER, -1);
    assertNotNull(dir.get(id), "DRIVER still holds one ref");
    dir.addClientRef(id, DRIVER, -1);
    assertNull(dir.get(id));
    assertFalse(dir.wanted(id));
    assertEquals(List.of(), freed, "inline objects have no arena space to report");
  }

  @Test
  void refDeltasForUnknownObjectsAreIgnored() {
    dir.addClientRef(newId(), DRIVER, 1);
    dir.addTaskRef(newId());
    dir.removeTaskRef(newId());
    dir.unpin(newId(), DRIVER, 1);
    assertEquals(0, dir.size());
  }

  // ---------------------------------------------------------------- arena objects

  @Test
  void arenaObjectCreatedWithoutHolderIsHeldByItsCreator() {
    ByteString id = newId();
    Entry e = dir.beginCreate(id, WORKER, 8192, 100, ObjectFormat.RAW, List.of(), false);
    assertNotNull(e);
    assertTrue(e.beingCreated());
    assertFalse(e.ready());
    assertTrue(e.inArena());
    assertEquals(8192, e.payloadOffset());
    assertEquals(100, e.payloadSize());
    assertEquals(ObjectFormat.RAW, e.format());

    assertFalse(dir.seal(id, DRIVER), "only the creator seals");
    assertTrue(e.beingCreated());
    assertTrue(dir.seal(id, WORKER));
    assertTrue(e.ready());
    assertFalse(e.beingCreated());
    assertFalse(dir.seal(id, WORKER), "sealing twice fails");
    assertSame(e, dir.get(id), "the creator's ref keeps it");

    dir.addClientRef(id, WORKER, -1);
    assertNull(dir.get(id));
    assertEquals(List.of(freedEntry(id, 8192)), freed);
  }

  @Test
  void anObjectBeingWrittenIsNeverFreed() {
    ByteString id = newId();
    Entry e = dir.beginCreate(id, WORKER, 8192, 100, ObjectFormat.PICKLE5, List.of(), false);
    dir.addClientRef(id, WORKER, -1);
    assertSame(e, dir.get(id), "still being written");
    assertEquals(List.of(), freed);
    assertTrue(dir.seal(id, WORKER));
    assertNull(dir.get(id), "nobody holds it once sealed");
    assertEquals(List.of(freedEntry(id, 8192)), freed);
  }

  @Test
  void taskReturnWrittenToTheArenaGivesTheWriterNoRef() {
    ByteString id = newId();
    dir.addPending(id, DRIVER);
    Entry e = dir.beginCreate(id, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), true);
    assertNotNull(e);
    assertTrue(dir.seal(id, WORKER));
    assertTrue(e.ready());
    dir.addClientRef(id, DRIVER, -1);
    assertNull(dir.get(id), "only the submitter held it");
    assertEquals(List.of(freedEntry(id, 8192)), freed);
  }

  @Test
  void taskReturnNobodyWantsIsNotCreated() {
    ByteString id = newId();
    assertNull(dir.beginCreate(id, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), true));
    assertNull(dir.get(id));
    assertEquals(0, dir.size());
  }

  @Test
  void beginCreateOfAReadyOrBusyObjectIsRefused() {
    ByteString ready = putInline(DRIVER);
    assertNull(dir.beginCreate(ready, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), false));
    assertFalse(dir.get(ready).inArena());

    ByteString busy = newId();
    assertNotNull(dir.beginCreate(busy, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), false));
    assertNull(dir.beginCreate(busy, DRIVER, 9216, 10, ObjectFormat.PICKLE5, List.of(), false));
    assertEquals(8192, dir.get(busy).payloadOffset(), "the first writer keeps its space");
    assertFalse(dir.putInline(busy, value("x"), DRIVER), "nor can it be put inline meanwhile");
    assertTrue(dir.seal(busy, WORKER));
  }

  // ---------------------------------------------------------------- pins and task refs

  @Test
  void pinsKeepAnObjectAfterItsRefsAreGone() {
    ByteString id = putArena(DRIVER);
    long offset = dir.get(id).payloadOffset();
    dir.pin(dir.get(id), READER);
    dir.pin(dir.get(id), READER);
    dir.addClientRef(id, DRIVER, -1);
    assertNotNull(dir.get(id), "pinned by a reader");
    dir.unpin(id, READER, 1);
    assertNotNull(dir.get(id), "one pin left");
    assertEquals(List.of(), freed);
    dir.unpin(id, READER, 1);
    assertNull(dir.get(id));
    assertEquals(List.of(freedEntry(id, offset)), freed);
  }

  @Test
  void taskRefsKeepAnObject() {
    ByteString id = putInline(DRIVER);
    dir.addTaskRef(id);
    dir.addTaskRef(id);
    dir.addClientRef(id, DRIVER, -1);
    dir.removeTaskRef(id);
    assertNotNull(dir.get(id), "one queued task still needs it");
    dir.removeTaskRef(id);
    assertNull(dir.get(id));
  }

  // ---------------------------------------------------------------- nested refs

  @Test
  void aContainerKeepsItsNestedObjects() {
    ByteString inner = putArena(DRIVER);
    long innerOffset = dir.get(inner).payloadOffset();
    ByteString outer = putInline(DRIVER, inner);
    dir.addClientRef(inner, DRIVER, -1);
    assertNotNull(dir.get(inner), "the container holds it");

    dir.addClientRef(outer, DRIVER, -1);
    assertNull(dir.get(outer));
    assertNull(dir.get(inner), "freeing the container releases what it contains");
    assertEquals(List.of(freedEntry(inner, innerOffset)), freed);
  }

  @Test
  void releasingContainersIsRecursive() {
    ByteString a = putArena(DRIVER);
    ByteString b = putArena(DRIVER, a); // b contains a
    ByteString c = putInline(DRIVER, b); // c contains b
    long aOffset = dir.get(a).payloadOffset();
    long bOffset = dir.get(b).payloadOffset();
    dir.addClientRef(a, DRIVER, -1);
    dir.addClientRef(b, DRIVER, -1);
    assertEquals(3, dir.size());
    dir.addClientRef(c, DRIVER, -1);
    assertEquals(0, dir.size());
    assertEquals(2, freed.size());
    assertTrue(freed.containsAll(List.of(freedEntry(a, aOffset), freedEntry(b, bOffset))));
  }

  @Test
  void aNestedObjectWithItsOwnRefsOutlivesItsContainer() {
    ByteString inner = putInline(DRIVER);
    ByteString outer = putInline(DRIVER, inner);
    dir.addClientRef(outer, DRIVER, -1);
    assertNull(dir.get(outer));
    assertNotNull(dir.get(inner), "the driver still holds it directly");
    dir.addClientRef(inner, DRIVER, -1);
    assertNull(dir.get(inner));
  }

  // ---------------------------------------------------------------- pending objects

  @Test
  void aPendingObjectNobodyHoldsOrAwaitsIsDropped() {
    ByteString id = newId();
    dir.addPending(id, DRIVER);
    dir.addClientRef(id, DRIVER, -1);
    assertNull(dir.get(id));
    assertFalse(dir.wanted(id));
    assertFalse(dir.putInline(id, value("late"), null), "a late return value is discarded");
    assertEquals(0, dir.size());
  }

  @Test
  void aPendingObjectSomebodyAwaitsStaysUntilReady() {
    ByteString id = newId();
    Entry e = dir.addPending(id, DRIVER);
    AtomicInteger seen = new AtomicInteger();
    dir.whenReady(e, seen::incrementAndGet);
    dir.addClientRef(id, DRIVER, -1);
    assertTrue(dir.wanted(id), "a waiter still expects it");
    assertTrue(dir.putInline(id, value("v"), null));
    assertEquals(1, seen.get());
    assertNull(dir.get(id), "removed once delivered, since nobody holds it");
  }

  // ---------------------------------------------------------------- departed clients

  @Test
  void dropClientReleasesItsRefsAndPinsButNotOthers() {
    ByteString shared = putArena(DRIVER);
    dir.addClientRef(shared, WORKER, 2);
    dir.pin(dir.get(shared), WORKER);
    ByteString workersOnly = putArena(WORKER);
    long workersOnlyOffset = dir.get(workersOnly).payloadOffset();
    ByteString pinnedOnly = putInline(DRIVER);
    dir.pin(dir.get(pinnedOnly), WORKER);
    dir.addClientRef(pinnedOnly, DRIVER, -1);

    dir.dropClient(WORKER);

    assertNotNull(dir.get(shared), "DRIVER still holds it");
    assertNull(dir.get(workersOnly));
    assertNull(dir.get(pinnedOnly), "its only pin was WORKER's");
    assertEquals(List.of(freedEntry(workersOnly, workersOnlyOffset)), freed);

    long sharedOffset = dir.get(shared).payloadOffset();
    dir.addClientRef(shared, DRIVER, -1);
    assertNull(dir.get(shared), "WORKER's refs and pin are gone");
    assertEquals(freedEntry(shared, sharedOffset), freed.get(freed.size() - 1));
  }

  @Test
  void dropClientResetsAHalfWrittenTaskReturnToPending() {
    ByteString id = newId();
    dir.addPending(id, DRIVER);
    AtomicInteger seen = new AtomicInteger();
    dir.whenReady(dir.get(id), seen::incrementAndGet);
    assertNotNull(dir.beginCreate(id, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), true));

    dir.dropClient(WORKER);

    assertEquals(List.of(freedEntry(id, 8192)), freed, "the half-written space is reclaimed");
    Entry e = dir.get(id);
    assertNotNull(e, "the submitter still holds it");
    assertEquals(State.PENDING, e.state());
    assertFalse(e.beingCreated());
    assertFalse(e.inArena());
    assertEquals(0, seen.get());

    // A retry produces the value; the waiter sees it and the driver's ref still holds it.
    assertTrue(dir.putInline(id, value("retry"), null));
    assertEquals(1, seen.get());
    assertSame(e, dir.get(id));
    dir.addClientRef(id, DRIVER, -1);
    assertNull(dir.get(id));
    assertEquals(1, freed.size(), "the reclaimed space is not reported twice");
  }

  @Test
  void dropClientRemovesAHalfWrittenPutOfThatClient() {
    ByteString id = newId();
    assertNotNull(dir.beginCreate(id, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), false));
    dir.dropClient(WORKER);
    assertNull(dir.get(id), "only the writer held it");
    assertEquals(List.of(freedEntry(id, 8192)), freed, "reported exactly once");
  }

  @Test
  void dropClientOfAHalfWrittenContainerReleasesItsNestedObjects() {
    // Other objects make sure the directory holds more than the two entries involved.
    List<ByteString> bystanders = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      bystanders.add(putInline(DRIVER));
    }
    ByteString inner = putArena(WORKER);
    long innerOffset = dir.get(inner).payloadOffset();
    ByteString outer = newId();
    assertNotNull(
        dir.beginCreate(outer, WORKER, 65536, 10, ObjectFormat.PICKLE5, List.of(inner), false));
    dir.addClientRef(inner, WORKER, -1); // now only the half-written container holds it

    dir.dropClient(WORKER);

    assertNull(dir.get(outer));
    assertNull(dir.get(inner), "the container never became ready; what it held is released");
    assertEquals(2, freed.size());
    assertTrue(
        freed.containsAll(List.of(freedEntry(outer, 65536), freedEntry(inner, innerOffset))));
    for (ByteString b : bystanders) {
      assertNotNull(dir.get(b), "other clients' objects are untouched");
    }
    assertEquals(bystanders.size(), dir.size());
  }

  @Test
  void dropClientKeepsAnotherWritersObject() {
    ByteString id = newId();
    dir.beginCreate(id, WORKER, 8192, 10, ObjectFormat.PICKLE5, List.of(), false);
    dir.addClientRef(id, DRIVER, 1);
    dir.dropClient(DRIVER);
    assertTrue(dir.get(id).beingCreated(), "WORKER is still writing it");
    assertTrue(dir.seal(id, WORKER));
    assertNotNull(dir.get(id), "WORKER's own ref");
    assertEquals(List.of(), freed);
  }

  // ---------------------------------------------------------------- counts stay non-negative

  @Test
  void overReleasingRefsDoesNotLeaveNegativeCounts() {
    ByteString id = putInline(DRIVER);
    dir.addClientRef(id, WORKER, 1);
    dir.addClientRef(id, WORKER, -3); // WORKER had one
    dir.addClientRef(id, WORKER, 1); // a fresh single ref, not -1
    dir.addClientRef(id, DRIVER, -1);
    assertNotNull(dir.get(id), "WORKER holds exactly one ref now");
    dir.addClientRef(id, WORKER, -1);
    assertNull(dir.get(id));
  }

  @Test
  void overReleasingPinsAndTaskRefsDoesNotLeaveNegativeCounts() {
    ByteString id = putInline(DRIVER);
    dir.unpin(id, READER, 5); // never pinned
    dir.removeTaskRef(id); // no task refs
    dir.pin(dir.get(id), READER);
    dir.addTaskRef(id);
    dir.addClientRef(id, DRIVER, -1);
    dir.unpin(id, READER, 1);
    assertNotNull(dir.get(id), "the task ref still holds it");
    dir.removeTaskRef(id);
    assertNull(dir.get(id), "one pin and one task ref were all it had");
  }
}
