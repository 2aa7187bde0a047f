package io.ray.shm;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.MappedBytes;
import net.openhft.chronicle.bytes.MappedFile;
import net.openhft.chronicle.core.io.BackgroundResourceReleaser;

/**
 * One node's object arena: a file in shared memory (tmpfs), mapped once with Chronicle Bytes,
 * carved into objects by an {@link Allocator}. Drivers and workers map the same file and read
 * payloads in place; this class writes the headers that tell them an object is complete.
 *
 * <p>Threading: {@link #create}, {@link #seal} and {@link #free} change allocation state and must
 * be called from one thread (the object store's). Reading and writing payload bytes through {@link
 * #store()} is safe from any thread for an object that thread's caller keeps alive.
 *
 * <p>The file is sparse: pages cost memory only once written.
 */
public final class SharedMemoryArena implements AutoCloseable {

  private final Path path;
  private final long capacity;
  private final MappedBytes mapping;
  private final BytesStore<?, ?> store;
  private final Allocator allocator;
  private boolean closed;

  private SharedMemoryArena(Path path, long capacity, MappedBytes mapping, Allocator allocator) {
    this.path = path;
    this.capacity = capacity;
    this.mapping = mapping;
    this.store = mapping.bytesStore();
    this.allocator = allocator;
  }

  /**
   * Creates the arena file (which must not exist) and maps it.
   *
   * @param capacity total file size, headers included
   */
  public static SharedMemoryArena create(Path path, long capacity) throws IOException {
    if (capacity < ArenaLayout.DATA_START + ArenaLayout.ALIGNMENT) {
      throw new IllegalArgumentException("arena capacity too small: " + capacity);
    }
    // Only this user's processes map it (Ray's object store is the user's alone too).
    Files.createFile(
        path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    MappedBytes mapping;
    try {
      mapping = MappedBytes.singleMappedBytes(path.toFile(), capacity);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(path);
      throw e;
    }
    Allocator allocator =
        new BestFitAllocator(
            ArenaLayout.DATA_START, capacity - ArenaLayout.DATA_START, ArenaLayout.ALIGNMENT);
    SharedMemoryArena arena = new SharedMemoryArena(path, capacity, mapping, allocator);
    arena.writeArenaHeader();
    return arena;
  }

  private void writeArenaHeader() {
    store.writeLong(ArenaLayout.ARENA_OFF_CAPACITY, capacity);
    store.writeLong(ArenaLayout.ARENA_OFF_DATA_START, ArenaLayout.DATA_START);
    store.writeInt(ArenaLayout.ARENA_OFF_OBJECT_HEADER_SIZE, ArenaLayout.OBJECT_HEADER_SIZE);
    store.writeInt(ArenaLayout.ARENA_OFF_VERSION, ArenaLayout.VERSION);
    store.writeInt(ArenaLayout.ARENA_OFF_PID, (int) ProcessHandle.current().pid());
    // Magic last: a reader that sees it sees a complete header.
    store.writeVolatileLong(ArenaLayout.ARENA_OFF_MAGIC, ArenaLayout.ARENA_MAGIC);
  }

  /**
   * Reserves space for an object and writes its header in state CREATED.
   *
   * @return the payload's offset, or {@link Allocator#NO_SPACE}
   */
  public long create(byte[] objectId, long payloadSize, int format) {
    checkOpen();
    if (objectId.length != ArenaLayout.OBJECT_ID_SIZE) {
      throw new IllegalArgumentException("object id must have 28 bytes, has " + objectId.length);
    }
    if (payloadSize < 0) {
      throw new IllegalArgumentException("negative payload size " + payloadSize);
    }
    if (payloadSize > capacity - ArenaLayout.DATA_START - ArenaLayout.OBJECT_HEADER_SIZE) {
      return Allocator.NO_SPACE;
    }
    long header = allocator.allocate(ArenaLayout.OBJECT_HEADER_SIZE + Math.max(payloadSize, 1));
    if (header == Allocator.NO_SPACE) {
      return Allocator.NO_SPACE;
    }
    store.writeInt(header + ArenaLayout.OBJ_OFF_FORMAT, format);
    store.writeLong(header + ArenaLayout.OBJ_OFF_PAYLOAD_SIZE, payloadSize);
    store.write(header + ArenaLayout.OBJ_OFF_ID, objectId);
    store.writeLong(header + ArenaLayout.OBJ_OFF_MAGIC, ArenaLayout.OBJECT_MAGIC);
    store.writeVolatileInt(header + ArenaLayout.OBJ_OFF_STATE, ArenaLayout.STATE_CREATED);
    return header + ArenaLayout.OBJECT_HEADER_SIZE;
  }

  /** Marks a created object complete; readers check this state before trusting a payload. */
  public void seal(long payloadOffset) {
    checkOpen();
    long header = payloadOffset - ArenaLayout.OBJECT_HEADER_SIZE;
    if (!store.compareAndSwapInt(
        header + ArenaLayout.OBJ_OFF_STATE, ArenaLayout.STATE_CREATED, ArenaLayout.STATE_SEALED)) {
      throw new IllegalStateException(
          "object at " + payloadOffset + " is not in state CREATED: " + state(payloadOffset));
    }
  }

  /** Returns an object's space to the allocator. Nobody may read it afterwards. */
  public void free(long payloadOffset) {
    checkOpen();
    long header = payloadOffset - ArenaLayout.OBJECT_HEADER_SIZE;
    if (header < ArenaLayout.DATA_START
        || payloadOffset > capacity
        || store.readLong(header + ArenaLayout.OBJ_OFF_MAGIC) != ArenaLayout.OBJECT_MAGIC) {
      throw new IllegalArgumentException("no object at payload offset " + payloadOffset);
    }
    store.writeVolatileInt(header + ArenaLayout.OBJ_OFF_STATE, ArenaLayout.STATE_FREED);
    store.writeLong(header + ArenaLayout.OBJ_OFF_MAGIC, 0L);
    allocator.free(header);
  }

  /** State word of the object whose payload starts at {@code payloadOffset}. */
  public int state(long payloadOffset) {
    return store.readVolatileInt(
        payloadOffset - ArenaLayout.OBJECT_HEADER_SIZE + ArenaLayout.OBJ_OFF_STATE);
  }

  /** Payload size recorded in the object's header. */
  public long payloadSize(long payloadOffset) {
    return store.readLong(
        payloadOffset - ArenaLayout.OBJECT_HEADER_SIZE + ArenaLayout.OBJ_OFF_PAYLOAD_SIZE);
  }

  /** The whole mapping, for reading and writing payloads at absolute offsets. */
  public BytesStore<?, ?> store() {
    return store;
  }

  public Path path() {
    return path;
  }

  public long capacity() {
    return capacity;
  }

  /** Bytes reserved by live objects, headers and padding included. */
  public long used() {
    return allocator.used();
  }

  /** Unmaps the arena and deletes its file. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    MappedFile mappedFile = mapping.mappedFile();
    mapping.releaseLast();
    // A single mapped file keeps the reservation it took on its store when it mapped it (it
    // drops it on close only with -DmappedFile.retain), so the mapping would outlive close():
    // drop it here. Chronicle unmaps on its background releaser thread; wait for that, so that a
    // closed arena is gone from this process (a node restarted in-process keeps no old mapping).
    if (store.refCount() > 0) {
      store.release(mappedFile);
    }
    BackgroundResourceReleaser.releasePendingResources();
    File file = path.toFile();
    if (!file.delete() && file.exists()) {
      throw new IllegalStateException("could not delete arena file " + path);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("arena " + path + " is closed");
    }
  }
}
