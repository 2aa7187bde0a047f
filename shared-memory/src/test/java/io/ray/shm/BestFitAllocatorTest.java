package io.ray.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Contract of {@link BestFitAllocator}: aligned offsets, sizes rounded up to the alignment,
 * best-fit placement, immediate coalescing, exact {@code used()} accounting, and rejection of
 * misuse. A seeded random walk checks the structural invariants after every operation.
 */
class BestFitAllocatorTest {

  private static final int A = 64; // alignment used by most tests; one "unit"

  // ---------------------------------------------------------------- alignment and rounding

  @Test
  void everyOffsetIsAlignedAndInsideTheRegion() {
    long base = 4096;
    BestFitAllocator alloc = new BestFitAllocator(base, 100 * A, A);
    for (long size : new long[] {1, 63, 64, 65, 127, 128, 129, 1000, 3}) {
      long off = alloc.allocate(size);
      assertNotEquals(Allocator.NO_SPACE, off, "size " + size);
      assertEquals(0, off % A, "offset " + off + " for size " + size + " is not aligned");
      assertTrue(off >= base && off + size <= base + alloc.capacity(), "offset out of range");
    }
  }

  @Test
  void sizesAreRoundedUpToTheAlignmentInUsed() {
    BestFitAllocator alloc = new BestFitAllocator(0, 100 * A, A);
    alloc.allocate(1);
    assertEquals(A, alloc.used(), "1 byte reserves one aligned unit");
    alloc.allocate(A);
    assertEquals(2 * A, alloc.used(), "an exact multiple is not padded");
    alloc.allocate(A + 1);
    assertEquals(4 * A, alloc.used(), "one byte over a unit reserves two units");
  }

  @Test
  void capacityIsRoundedDownToTheAlignment() {
    BestFitAllocator alloc = new BestFitAllocator(0, 10 * A + 37, A);
    assertEquals(10 * A, alloc.capacity());
    assertEquals(10 * A, alloc.largestFree());
    assertEquals(A, alloc.alignment());
  }

  @Test
  void consecutiveAllocationsDoNotOverlap() {
    BestFitAllocator alloc = new BestFitAllocator(0, 10 * A, A);
    long a = alloc.allocate(A + 1); // occupies two units
    long b = alloc.allocate(1);
    assertTrue(b >= a + 2 * A || a >= b + A, "ranges overlap: " + a + ", " + b);
  }

  // ---------------------------------------------------------------- out of space

  @Test
  void noSpaceWhenFull() {
    BestFitAllocator alloc = new BestFitAllocator(0, 4 * A, A);
    for (int i = 0; i < 4; i++) {
      assertNotEquals(Allocator.NO_SPACE, alloc.allocate(A));
    }
    assertEquals(4 * A, alloc.used());
    assertEquals(Allocator.NO_SPACE, alloc.allocate(1));
    assertEquals(4 * A, alloc.used(), "a failed allocation reserves nothing");
    assertEquals(0, alloc.largestFree());
  }

  @Test
  void noSpaceWhenOnlyFragmentedSpaceRemains() {
    BestFitAllocator alloc = new BestFitAllocator(0, 4 * A, A);
    long a = alloc.allocate(A);
    alloc.allocate(A);
    long c = alloc.allocate(A);
    alloc.allocate(A);
    alloc.free(a);
    alloc.free(c);
    // Two free units in total, but not adjacent.
    assertEquals(2 * A, alloc.capacity() - alloc.used());
    assertEquals(2, alloc.freeRanges());
    assertEquals(Allocator.NO_SPACE, alloc.allocate(2 * A));
    assertEquals(A, alloc.largestFree());
    assertNotEquals(Allocator.NO_SPACE, alloc.allocate(A), "one unit still fits");
  }

  @Test
  void requestsLargerThanTheRegionGetNoSpaceAndChangeNothing() {
    BestFitAllocator alloc = new BestFitAllocator(4096, 16 * A, A);
    long kept = alloc.allocate(A);
    NavigableMap<Long, Long> before = new TreeMap<>(alloc.freeRangesView());
    // Sizes near Long.MAX_VALUE must not overflow when rounded up to the alignment.
    for (long size :
        new long[] {
          alloc.capacity() + 1, 1L << 40, Long.MAX_VALUE - A, Long.MAX_VALUE - 1, Long.MAX_VALUE
        }) {
      assertEquals(Allocator.NO_SPACE, alloc.allocate(size), "size " + size);
      assertEquals(A, alloc.used(), "used() changed by a failed allocate(" + size + ")");
      assertEquals(before, alloc.freeRangesView(), "free ranges changed by allocate(" + size + ")");
    }
    alloc.free(kept);
    assertEquals(0, alloc.used());
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void nonPositiveSizesAreRejected(long size) {
    BestFitAllocator alloc = new BestFitAllocator(0, 4 * A, A);
    assertThrows(IllegalArgumentException.class, () -> alloc.allocate(size));
    assertEquals(0, alloc.used());
  }

  // ---------------------------------------------------------------- best fit

  @Test
  void theSmallestFittingHoleIsUsed() {
    // Layout in units: [0,3) hole | 3 used | [4,5) hole | 5 used | [6,8) hole | 8 used.
    BestFitAllocator alloc = new BestFitAllocator(0, 9 * A, A);
    long h3 = alloc.allocate(3 * A);
    alloc.allocate(A);
    long h1 = alloc.allocate(A);
    alloc.allocate(A);
    long h2 = alloc.allocate(2 * A);
    alloc.allocate(A);
    assertEquals(Allocator.NO_SPACE, alloc.allocate(1), "region should be exactly full");
    alloc.free(h3);
    alloc.free(h1);
    alloc.free(h2);
    assertEquals(3, alloc.freeRanges());

    assertEquals(h2, alloc.allocate(2 * A), "2 units go to the 2-unit hole, not the 3-unit one");
    assertEquals(h1, alloc.allocate(A), "1 unit goes to the 1-unit hole");
    long inBig = alloc.allocate(A);
    assertTrue(inBig >= h3 && inBig < h3 + 3 * A, "only the 3-unit hole is left");
    assertEquals(2 * A, alloc.largestFree(), "the 3-unit hole was split, leaving 2 units");
  }

  // ---------------------------------------------------------------- coalescing

  /** Region of three one-unit allocations that fill it exactly; returns their offsets. */
  private static long[] fillThree(BestFitAllocator alloc) {
    long[] o = {alloc.allocate(A), alloc.allocate(A), alloc.allocate(A)};
    assertEquals(0, alloc.freeRanges());
    java.util.Arrays.sort(o);
    return o;
  }

  @Test
  void freeingNextToAFreeRangeOnTheLeftMerges() {
    BestFitAllocator alloc = new BestFitAllocator(640, 3 * A, A);
    long[] o = fillThree(alloc);
    alloc.free(o[0]);
    alloc.free(o[1]); // left neighbour o[0] is free
    assertEquals(Map.of(o[0], 2L * A), alloc.freeRangesView());
    assertEquals(2 * A, alloc.largestFree());
  }

  @Test
  void freeingNextToAFreeRangeOnTheRightMerges() {
    BestFitAllocator alloc = new BestFitAllocator(640, 3 * A, A);
    long[] o = fillThree(alloc);
    alloc.free(o[2]);
    alloc.free(o[1]); // right neighbour o[2] is free
    assertEquals(Map.of(o[1], 2L * A), alloc.freeRangesView());
  }

  @Test
  void freeingBetweenTwoFreeRangesMergesAllThree() {
    BestFitAllocator alloc = new BestFitAllocator(640, 3 * A, A);
    long[] o = fillThree(alloc);
    alloc.free(o[0]);
    alloc.free(o[2]);
    assertEquals(2, alloc.freeRanges());
    alloc.free(o[1]);
    assertEquals(Map.of(640L, 3L * A), alloc.freeRangesView());
    assertEquals(1, alloc.freeRanges());
    assertEquals(alloc.capacity(), alloc.largestFree());
    assertEquals(0, alloc.used());
    assertEquals(640, alloc.allocate(3 * A), "the whole region is one range again");
  }

  @Test
  void freeingAnAllocationWithNoFreeNeighbourAddsOneRange() {
    BestFitAllocator alloc = new BestFitAllocator(0, 3 * A, A);
    long[] o = fillThree(alloc);
    alloc.free(o[1]);
    assertEquals(Map.of(o[1], (long) A), alloc.freeRangesView());
  }

  // ---------------------------------------------------------------- accounting and misuse

  @Test
  void usedTracksLiveAllocationsIncludingPadding() {
    BestFitAllocator alloc = new BestFitAllocator(0, 100 * A, A);
    long a = alloc.allocate(10); // 1 unit
    long b = alloc.allocate(200); // 4 units
    long c = alloc.allocate(64); // 1 unit
    assertEquals(6 * A, alloc.used());
    alloc.free(b);
    assertEquals(2 * A, alloc.used());
    alloc.free(a);
    alloc.free(c);
    assertEquals(0, alloc.used());
    assertEquals(alloc.capacity(), alloc.largestFree());
  }

  @Test
  void doubleFreeThrowsAndChangesNothing() {
    BestFitAllocator alloc = new BestFitAllocator(0, 4 * A, A);
    long a = alloc.allocate(A);
    long b = alloc.allocate(A);
    alloc.free(a);
    NavigableMap<Long, Long> before = new TreeMap<>(alloc.freeRangesView());
    assertThrows(IllegalArgumentException.class, () -> alloc.free(a));
    assertEquals(A, alloc.used());
    assertEquals(before, alloc.freeRangesView());
    alloc.free(b);
    assertEquals(0, alloc.used());
  }

  @Test
  void freeingAnOffsetThatWasNeverReturnedThrows() {
    BestFitAllocator alloc = new BestFitAllocator(0, 4 * A, A);
    long a = alloc.allocate(2 * A);
    assertThrows(IllegalArgumentException.class, () -> alloc.free(a + A), "inside an allocation");
    assertThrows(IllegalArgumentException.class, () -> alloc.free(a + 1), "unaligned");
    assertThrows(IllegalArgumentException.class, () -> alloc.free(3 * A), "in free space");
    assertThrows(IllegalArgumentException.class, () -> alloc.free(-1));
    assertEquals(2 * A, alloc.used(), "failed frees release nothing");
    alloc.free(a);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 3, 48, 100, -64})
  void alignmentMustBeAPowerOfTwo(int alignment) {
    assertThrows(IllegalArgumentException.class, () -> new BestFitAllocator(0, 1024, alignment));
  }

  @Test
  void negativeAlignmentWithASingleBitIsRejected() {
    // Integer.MIN_VALUE has exactly one bit set but is not a usable alignment.
    assertThrows(
        IllegalArgumentException.class, () -> new BestFitAllocator(0, 1024, Integer.MIN_VALUE));
  }

  @Test
  void baseMustBeAligned() {
    assertThrows(IllegalArgumentException.class, () -> new BestFitAllocator(32, 1024, A));
    assertThrows(IllegalArgumentException.class, () -> new BestFitAllocator(4097, 1024, A));
  }

  @Test
  void negativeCapacityIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new BestFitAllocator(0, -100, A));
  }

  @Test
  void capacitySmallerThanOneUnitHasNoSpace() {
    BestFitAllocator alloc = new BestFitAllocator(0, A - 1, A);
    assertEquals(0, alloc.capacity());
    assertEquals(Allocator.NO_SPACE, alloc.allocate(1));
    assertEquals(0, alloc.freeRanges());
  }

  // ---------------------------------------------------------------- randomized invariants

  /**
   * A long seeded random walk of allocations and frees. After every step: live allocations and free
   * ranges together tile the region exactly (so nothing overlaps and no byte leaks), free ranges
   * never touch, {@code used()} is the sum of live rounded sizes, and the allocator's summary
   * numbers agree with its free list. Every allocate is checked against the free list it saw:
   * NO_SPACE only when no range fits, otherwise a smallest fitting range.
   */
  @Test
  void randomWalkKeepsInvariants() {
    long base = 4096;
    BestFitAllocator alloc = new BestFitAllocator(base, 512 * A + 17, A);
    long capacity = alloc.capacity();
    Random random = new Random(0x5EED_2024L);
    TreeMap<Long, Long> live = new TreeMap<>(); // offset -> rounded size
    List<Long> liveOffsets = new ArrayList<>();
    int noSpace = 0;

    for (int step = 0; step < 20_000; step++) {
      boolean doAllocate = liveOffsets.isEmpty() || random.nextInt(100) < 55;
      if (doAllocate) {
        long size;
        int kind = random.nextInt(20);
        if (kind == 0) {
          size = 1 + random.nextInt((int) capacity); // occasionally huge
        } else if (kind < 5) {
          size = A * (1 + random.nextInt(4)); // exact multiples
        } else {
          size = 1 + random.nextInt(6 * A);
        }
        long rounded = (size + A - 1) / A * A;
        NavigableMap<Long, Long> freeBefore = new TreeMap<>(alloc.freeRangesView());
        long smallestFit = Long.MAX_VALUE;
        for (long len : freeBefore.values()) {
          if (len >= rounded) {
            smallestFit = Math.min(smallestFit, len);
          }
        }
        long off = alloc.allocate(size);
        if (off == Allocator.NO_SPACE) {
          noSpace++;
          check(smallestFit == Long.MAX_VALUE, step, "NO_SPACE but a range fits");
          check(freeBefore.equals(alloc.freeRangesView()), step, "failed allocate changed ranges");
        } else {
          check(off % A == 0, step, "unaligned offset");
          Map.Entry<Long, Long> hole = freeBefore.floorEntry(off);
          check(
              hole != null && off + rounded <= hole.getKey() + hole.getValue(),
              step,
              "allocation not inside a free range");
          check(hole.getValue() == smallestFit, step, "not the best fit");
          live.put(off, rounded);
          liveOffsets.add(off);
        }
      } else {
        int i = random.nextInt(liveOffsets.size());
        long off = liveOffsets.get(i);
        liveOffsets.set(i, liveOffsets.get(liveOffsets.size() - 1));
        liveOffsets.remove(liveOffsets.size() - 1);
        live.remove(off);
        alloc.free(off);
      }
      checkInvariants(alloc, base, capacity, live, step);
    }
    assertTrue(noSpace > 0, "the walk never filled the region; it tests too little");
    assertTrue(live.size() > 1, "the walk should end with live allocations");

    for (long off : live.keySet()) {
      alloc.free(off);
    }
    assertEquals(0, alloc.used());
    assertEquals(Map.of(base, capacity), alloc.freeRangesView(), "all space coalesces back");
  }

  /** Fails with the step number; messages are only built on failure to keep the walk fast. */
  private static void check(boolean ok, int step, String what) {
    if (!ok) {
      fail("step " + step + ": " + what);
    }
  }

  private static void checkInvariants(
      BestFitAllocator alloc, long base, long capacity, TreeMap<Long, Long> live, int step) {
    NavigableMap<Long, Long> free = alloc.freeRangesView();
    long freeSum = 0;
    long largest = 0;
    for (Map.Entry<Long, Long> e : free.entrySet()) {
      check(e.getValue() > 0, step, "empty free range");
      check(e.getKey() % A == 0 && e.getValue() % A == 0, step, "unaligned free range");
      freeSum += e.getValue();
      largest = Math.max(largest, e.getValue());
    }
    long usedSum = 0;
    for (long len : live.values()) {
      usedSum += len;
    }
    // Walk both sorted lists together: they must tile [base, base + capacity) exactly, so no
    // two ranges overlap and no byte is lost; two free ranges never follow each other.
    var liveIt = live.entrySet().iterator();
    var freeIt = free.entrySet().iterator();
    Map.Entry<Long, Long> nextLive = liveIt.hasNext() ? liveIt.next() : null;
    Map.Entry<Long, Long> nextFree = freeIt.hasNext() ? freeIt.next() : null;
    long cursor = base;
    boolean previousFree = false;
    while (nextLive != null || nextFree != null) {
      if (nextFree != null && nextFree.getKey() == cursor) {
        check(!previousFree, step, "free ranges touch");
        check(nextLive == null || nextLive.getKey() != cursor, step, "free range on live data");
        cursor += nextFree.getValue();
        previousFree = true;
        nextFree = freeIt.hasNext() ? freeIt.next() : null;
      } else if (nextLive != null && nextLive.getKey() == cursor) {
        cursor += nextLive.getValue();
        previousFree = false;
        nextLive = liveIt.hasNext() ? liveIt.next() : null;
      } else {
        fail("step " + step + ": gap or overlap at " + cursor);
      }
    }
    check(cursor == base + capacity, step, "region not fully accounted for");
    check(usedSum == alloc.used(), step, "used() differs from the sum of live sizes");
    check(alloc.used() + freeSum == capacity, step, "used + free != capacity");
    check(largest == alloc.largestFree(), step, "largestFree()");
    check(free.size() == alloc.freeRanges(), step, "freeRanges()");
  }
}
