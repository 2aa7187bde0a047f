package io.ray.shm;

/**
 * Hands out byte ranges of a fixed-size region. A pure data structure: it never touches memory, so
 * policies can be unit-tested without an arena.
 *
 * <p>Not thread-safe: the owner (the object store's single thread) serialises all calls.
 */
public interface Allocator {

  /** Returned by {@link #allocate} when no free range is large enough. */
  long NO_SPACE = -1;

  /**
   * Reserves {@code size} bytes.
   *
   * @return the range's offset, aligned to {@link #alignment()}, or {@link #NO_SPACE}
   */
  long allocate(long size);

  /** Returns the range that {@link #allocate} returned at {@code offset} to the free pool. */
  void free(long offset);

  /** Bytes currently reserved, including alignment padding. */
  long used();

  /** Bytes this allocator manages. */
  long capacity();

  /** Alignment of every offset handed out. */
  int alignment();
}
