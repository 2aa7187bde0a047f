package io.ray.shm;

import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Best-fit allocation with immediate coalescing of neighbouring free ranges.
 *
 * <p>Invariants: free ranges never overlap and never touch (touching ranges are merged); {@code
 * freeBySize} and {@code freeByOffset} hold exactly the same ranges; every live allocation is in
 * {@code allocated} and overlaps no free range; {@code used} equals the sum of the sizes in {@code
 * allocated}.
 */
public final class BestFitAllocator implements Allocator {

  private final long base;
  private final long capacity;
  private final int alignment;

  /** Free ranges keyed by offset, value = length. */
  private final TreeMap<Long, Long> freeByOffset = new TreeMap<>();

  /** Free ranges ordered by (length, offset), for best-fit lookup. */
  private final TreeSet<long[]> freeBySize =
      new TreeSet<>((a, b) -> a[1] != b[1] ? Long.compare(a[1], b[1]) : Long.compare(a[0], b[0]));

  /** Live allocations: offset to rounded length. */
  private final Map<Long, Long> allocated = new HashMap<>();

  private long used;

  /**
   * @param base first offset this allocator may hand out (aligned)
   * @param capacity bytes from {@code base} on
   * @param alignment power of two
   */
  public BestFitAllocator(long base, long capacity, int alignment) {
    if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
      throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
    }
    if (capacity < 0 || base < 0) {
      throw new IllegalArgumentException(
          "base and capacity must not be negative: " + base + ", " + capacity);
    }
    if (base % alignment != 0) {
      throw new IllegalArgumentException("base " + base + " is not aligned to " + alignment);
    }
    this.base = base;
    this.capacity = capacity - capacity % alignment;
    this.alignment = alignment;
    if (this.capacity > 0) {
      addFree(base, this.capacity);
    }
  }

  @Override
  public long allocate(long size) {
    if (size <= 0) {
      throw new IllegalArgumentException("size must be positive: " + size);
    }
    if (size > capacity) {
      return NO_SPACE; // also keeps roundUp from overflowing
    }
    long rounded = roundUp(size);
    long[] fit = freeBySize.ceiling(new long[] {Long.MIN_VALUE, rounded});
    if (fit == null) {
      return NO_SPACE;
    }
    removeFree(fit[0], fit[1]);
    if (fit[1] > rounded) {
      addFree(fit[0] + rounded, fit[1] - rounded);
    }
    allocated.put(fit[0], rounded);
    used += rounded;
    return fit[0];
  }

  @Override
  public void free(long offset) {
    Long length = allocated.remove(offset);
    if (length == null) {
      throw new IllegalArgumentException("offset " + offset + " is not allocated");
    }
    used -= length;
    long start = offset;
    long end = offset + length;
    Map.Entry<Long, Long> before = freeByOffset.floorEntry(offset);
    if (before != null && before.getKey() + before.getValue() == start) {
      removeFree(before.getKey(), before.getValue());
      start = before.getKey();
    }
    Long afterLength = freeByOffset.get(end);
    if (afterLength != null) {
      removeFree(end, afterLength);
      end += afterLength;
    }
    addFree(start, end - start);
  }

  @Override
  public long used() {
    return used;
  }

  @Override
  public long capacity() {
    return capacity;
  }

  @Override
  public int alignment() {
    return alignment;
  }

  /** Largest single range that could be allocated now. */
  public long largestFree() {
    return freeBySize.isEmpty() ? 0 : freeBySize.last()[1];
  }

  /** Number of separate free ranges (a fragmentation measure). */
  public int freeRanges() {
    return freeByOffset.size();
  }

  NavigableMap<Long, Long> freeRangesView() {
    return java.util.Collections.unmodifiableNavigableMap(freeByOffset);
  }

  long base() {
    return base;
  }

  private long roundUp(long size) {
    return (size + alignment - 1) & -(long) alignment;
  }

  private void addFree(long offset, long length) {
    freeByOffset.put(offset, length);
    freeBySize.add(new long[] {offset, length});
  }

  private void removeFree(long offset, long length) {
    freeByOffset.remove(offset);
    freeBySize.remove(new long[] {offset, length});
  }
}
