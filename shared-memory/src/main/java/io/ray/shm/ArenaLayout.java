package io.ray.shm;

import java.nio.charset.StandardCharsets;

/**
 * The byte layout of an arena file, which Java (writer of headers) and Python (reader and writer of
 * payloads, {@code ray/_private/object_store/layout.py}) must agree on. All integers are
 * little-endian. See docs/architecture.md, "Shared-memory layout".
 *
 * <pre>
 * arena header, at offset 0 (DATA_START bytes reserved):
 *   0  u64 magic "RAYJVMAR"   8 u32 version   12 u32 object header size
 *   16 u64 capacity           24 u64 data start   32 u32 pid of the creating node
 * object, at an offset aligned to ALIGNMENT:
 *   0  u64 magic "RAYJVMOB"   8 u32 state (1 created, 2 sealed, 3 freed)
 *   12 u32 format             16 u64 payload size  24 u8[28] object id
 *   64 payload ...
 * </pre>
 */
public final class ArenaLayout {
  private ArenaLayout() {}

  public static final long ARENA_MAGIC = magic("RAYJVMAR");
  public static final long OBJECT_MAGIC = magic("RAYJVMOB");
  public static final int VERSION = 1;

  public static final int ARENA_OFF_MAGIC = 0;
  public static final int ARENA_OFF_VERSION = 8;
  public static final int ARENA_OFF_OBJECT_HEADER_SIZE = 12;
  public static final int ARENA_OFF_CAPACITY = 16;
  public static final int ARENA_OFF_DATA_START = 24;
  public static final int ARENA_OFF_PID = 32;

  /** First byte objects may occupy; one page keeps payloads page-aligned-friendly. */
  public static final long DATA_START = 4096;

  /** Every object header, and so every payload, starts on this boundary. */
  public static final int ALIGNMENT = 64;

  public static final int OBJECT_HEADER_SIZE = 64;
  public static final int OBJ_OFF_MAGIC = 0;
  public static final int OBJ_OFF_STATE = 8;
  public static final int OBJ_OFF_FORMAT = 12;
  public static final int OBJ_OFF_PAYLOAD_SIZE = 16;
  public static final int OBJ_OFF_ID = 24;
  public static final int OBJECT_ID_SIZE = 28;

  public static final int STATE_CREATED = 1;
  public static final int STATE_SEALED = 2;
  public static final int STATE_FREED = 3;

  /** Reads 8 ASCII characters as a little-endian u64. */
  static long magic(String eight) {
    byte[] b = eight.getBytes(StandardCharsets.US_ASCII);
    if (b.length != 8) {
      throw new IllegalArgumentException(eight);
    }
    long v = 0;
    for (int i = 7; i >= 0; i--) {
      v = (v << 8) | (b[i] & 0xff);
    }
    return v;
  }
}
