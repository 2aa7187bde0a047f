package io.ray.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The arena as Python sees it: the file's bytes. Headers are read back with plain java.nio (not
 * through the arena) at the offsets documented in {@link ArenaLayout}, because that byte layout is
 * the contract with {@code ray/_private/object_store/layout.py}. Offsets are written out literally
 * on purpose: changing a constant must break this test.
 */
class SharedMemoryArenaTest {

  private static final long CAPACITY = 1 << 20;
  private static final int HEADER = 64;

  @TempDir Path dir;
  private Path file;
  private SharedMemoryArena arena;

  @BeforeEach
  void setUp() throws IOException {
    file = dir.resolve("rayjvm_test_arena");
    arena = SharedMemoryArena.create(file, CAPACITY);
  }

  @AfterEach
  void tearDown() {
    arena.close();
  }

  /** Reads {@code length} bytes of the arena file at {@code offset}, little-endian. */
  private ByteBuffer readFile(long offset, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (buf.hasRemaining()) {
        if (ch.read(buf, offset + buf.position()) < 0) {
          throw new IOException("file ends before " + (offset + length));
        }
      }
    }
    return buf.flip();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] id(int seed) {
    byte[] id = new byte[28];
    for (int i = 0; i < id.length; i++) {
      id[i] = (byte) (seed * 31 + i);
    }
    return id;
  }

  @Test
  void layoutConstantsMatchTheDocumentedFormat() {
    // The Python reader hard-codes these numbers.
    assertEquals(
        ByteBuffer.wrap(ascii("RAYJVMAR")).order(ByteOrder.LITTLE_ENDIAN).getLong(),
        ArenaLayout.ARENA_MAGIC);
    assertEquals(
        ByteBuffer.wrap(ascii("RAYJVMOB")).order(ByteOrder.LITTLE_ENDIAN).getLong(),
        ArenaLayout.OBJECT_MAGIC);
    assertEquals(4096, ArenaLayout.DATA_START);
    assertEquals(64, ArenaLayout.ALIGNMENT);
    assertEquals(64, ArenaLayout.OBJECT_HEADER_SIZE);
    assertEquals(28, ArenaLayout.OBJECT_ID_SIZE);
  }

  @Test
  void arenaHeaderIsWrittenAsDocumented() throws IOException {
    assertTrue(Files.size(file) >= CAPACITY, "file must be at least as large as the capacity");
    ByteBuffer h = readFile(0, 36);
    byte[] magic = new byte[8];
    h.get(0, magic);
    assertArrayEquals(ascii("RAYJVMAR"), magic);
    assertEquals(1, h.getInt(8), "version");
    assertEquals(64, h.getInt(12), "object header size");
    assertEquals(CAPACITY, h.getLong(16), "capacity");
    assertEquals(4096, h.getLong(24), "data start");
    assertEquals((int) ProcessHandle.current().pid(), h.getInt(32), "pid of the creating node");
    assertEquals(CAPACITY, arena.capacity());
    assertEquals(file, arena.path());
    assertEquals(0, arena.used());
  }

  @Test
  void createWritesACreatedObjectHeaderBeforeThePayload() throws IOException {
    byte[] id = id(7);
    long payload = arena.create(id, 1000, 2);
    assertNotEquals(Allocator.NO_SPACE, payload);
    assertTrue(payload >= 4096 + HEADER, "objects live after the arena header");

    ByteBuffer h = readFile(payload - HEADER, HEADER);
    byte[] magic = new byte[8];
    h.get(0, magic);
    assertArrayEquals(ascii("RAYJVMOB"), magic);
    assertEquals(1, h.getInt(8), "state CREATED");
    assertEquals(2, h.getInt(12), "format");
    assertEquals(1000, h.getLong(16), "payload size");
    byte[] storedId = new byte[28];
    h.get(24, storedId);
    assertArrayEquals(id, storedId);

    assertEquals(ArenaLayout.STATE_CREATED, arena.state(payload));
    assertEquals(1000, arena.payloadSize(payload));
  }

  @Test
  void payloadBytesWrittenThroughTheStoreAreInTheFile() throws IOException {
    long payload = arena.create(id(1), 5, 0);
    byte[] value = {10, 20, 30, 40, 50};
    arena.store().write(payload, value);
    byte[] read = new byte[5];
    readFile(payload, 5).get(read);
    assertArrayEquals(value, read);
  }

  @Test
  void sealMovesToSealedOnceOnly() throws IOException {
    long payload = arena.create(id(2), 10, 0);
    arena.seal(payload);
    assertEquals(2, readFile(payload - HEADER + 8, 4).getInt(0), "state SEALED in the file");
    assertEquals(ArenaLayout.STATE_SEALED, arena.state(payload));
    assertThrows(IllegalStateException.class, () -> arena.seal(payload));
    assertEquals(ArenaLayout.STATE_SEALED, arena.state(payload), "a failed seal changes nothing");
  }

  @Test
  void freeMarksFreedZeroesTheMagicAndReturnsTheSpace() throws IOException {
    long payload = arena.create(id(3), 100, 0);
    arena.seal(payload);
    long usedWithObject = arena.used();
    assertTrue(usedWithObject >= HEADER + 100);

    arena.free(payload);
    ByteBuffer h = readFile(payload - HEADER, 16);
    assertEquals(0L, h.getLong(0), "magic zeroed so readers never trust a stale header");
    assertEquals(3, h.getInt(8), "state FREED");
    assertEquals(0, arena.used());
    assertThrows(IllegalStateException.class, () -> arena.seal(payload), "freed is not CREATED");
  }

  @Test
  void freedSpaceIsReused() {
    // Fill the arena with equal objects, free one, and the next create must succeed.
    List<Long> payloads = new ArrayList<>();
    long p;
    int n = 0;
    while ((p = arena.create(id(n++), 4000, 0)) != Allocator.NO_SPACE) {
      payloads.add(p);
    }
    assertTrue(payloads.size() > 10);
    long full = arena.used();
    long victim = payloads.get(payloads.size() / 2);
    arena.free(victim);
    long again = arena.create(id(999), 4000, 0);
    assertNotEquals(Allocator.NO_SPACE, again, "the freed range must be reusable");
    assertEquals(full, arena.used());
    assertEquals(ArenaLayout.STATE_CREATED, arena.state(again));
  }

  @Test
  void payloadsAre64ByteAlignedAndDisjoint() {
    long[] sizes = {0, 1, 63, 64, 65, 100, 4095, 4096, 10_000};
    long[][] ranges = new long[sizes.length][];
    for (int i = 0; i < sizes.length; i++) {
      long payload = arena.create(id(i), sizes[i], 0);
      assertNotEquals(Allocator.NO_SPACE, payload);
      assertEquals(0, payload % 64, "payload of size " + sizes[i] + " at " + payload);
      // The object occupies its header plus at least one payload byte.
      ranges[i] = new long[] {payload - HEADER, payload + Math.max(sizes[i], 1)};
    }
    Arrays.sort(ranges, (a, b) -> Long.compare(a[0], b[0]));
    for (int i = 1; i < ranges.length; i++) {
      assertTrue(ranges[i][0] >= ranges[i - 1][1], "objects overlap");
    }
    assertTrue(ranges[ranges.length - 1][1] <= CAPACITY, "object past the end of the arena");
  }

  @Test
  void noSpaceWhenTheArenaIsFull() throws IOException {
    arena.close();
    Path small = dir.resolve("small");
    // Room for exactly four objects of 64 payload bytes (64 header + 64 payload each).
    try (SharedMemoryArena tiny = SharedMemoryArena.create(small, 4096 + 4 * 128)) {
      for (int i = 0; i < 4; i++) {
        assertNotEquals(Allocator.NO_SPACE, tiny.create(id(i), 64, 0), "object " + i);
      }
      assertEquals(Allocator.NO_SPACE, tiny.create(id(4), 1, 0));
      assertEquals(4 * 128, tiny.used());
    }
  }

  @Test
  void payloadsLargerThanTheArenaGetNoSpace() {
    // A client's requested size must not overflow header + payload arithmetic.
    for (long size :
        new long[] {CAPACITY, Long.MAX_VALUE - 1000, Long.MAX_VALUE - 100, Long.MAX_VALUE}) {
      assertEquals(Allocator.NO_SPACE, arena.create(id(1), size, 0), "payload size " + size);
      assertEquals(0, arena.used(), "a refused create reserves nothing (size " + size + ")");
    }
    assertNotEquals(Allocator.NO_SPACE, arena.create(id(2), 1000, 0), "arena still usable");
  }

  @Test
  void objectIdMustHave28Bytes() {
    assertThrows(IllegalArgumentException.class, () -> arena.create(new byte[27], 10, 0));
    assertThrows(IllegalArgumentException.class, () -> arena.create(new byte[29], 10, 0));
    assertEquals(0, arena.used());
  }

  @Test
  void negativePayloadSizeIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> arena.create(id(1), -1, 0));
    assertEquals(0, arena.used());
  }

  @Test
  void capacityTooSmallIsRejectedWithoutLeavingAFile() {
    Path tooSmall = dir.resolve("too_small");
    assertThrows(IllegalArgumentException.class, () -> SharedMemoryArena.create(tooSmall, 4096));
    assertFalse(Files.exists(tooSmall));
  }

  @Test
  void closeDeletesTheFileAndIsIdempotent() {
    assertTrue(Files.exists(file));
    arena.close();
    assertFalse(Files.exists(file));
    assertDoesNotThrow(arena::close);
  }

  @Test
  void closeUnmapsTheArena() throws IOException {
    assertTrue(mapsOf(file), "the arena is mapped while open");
    arena.close();
    assertFalse(mapsOf(file), "close() leaves no mapping of the arena in this process");
  }

  private static boolean mapsOf(Path path) throws IOException {
    String name = path.toAbsolutePath().toString();
    return Files.readAllLines(Path.of("/proc/self/maps")).stream()
        .anyMatch(line -> line.contains(name));
  }

  @Test
  void operationsAfterCloseThrow() {
    long payload = arena.create(id(1), 10, 0);
    arena.close();
    assertThrows(IllegalStateException.class, () -> arena.create(id(2), 10, 0));
    assertThrows(IllegalStateException.class, () -> arena.seal(payload));
    assertThrows(IllegalStateException.class, () -> arena.free(payload));
  }

  @Test
  void createRefusesAnExistingFileAndLeavesItAlone() throws IOException {
    Path existing = dir.resolve("existing");
    byte[] content = ascii("somebody else's data");
    Files.write(existing, content);
    assertThrows(
        FileAlreadyExistsException.class, () -> SharedMemoryArena.create(existing, CAPACITY));
    assertArrayEquals(content, Files.readAllBytes(existing));
    // Also for a live arena's own file.
    assertThrows(FileAlreadyExistsException.class, () -> SharedMemoryArena.create(file, CAPACITY));
    assertEquals(CAPACITY, readFile(16, 8).getLong(0), "the live arena's header is intact");
  }
}
