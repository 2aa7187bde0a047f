package io.ray.api.id;

import java.nio.ByteBuffer;

/** Identifies a task: 24 bytes, 8 unique to the task followed by the 16 of its actor's id. */
public class TaskId extends BaseId {

  /** The bytes unique to the task. */
  public static final int UNIQUE_BYTES_LENGTH = 8;

  /** The length in bytes. */
  public static final int LENGTH = UNIQUE_BYTES_LENGTH + ActorId.LENGTH;

  /** The nil identifier. */
  public static final TaskId NIL = new TaskId(nilBytes(LENGTH));

  private TaskId(byte[] id) {
    super(id);
  }

  /** Parses a hexadecimal string of {@link #LENGTH} bytes. */
  public static TaskId fromHexString(String hex) {
    return new TaskId(hexString2Bytes(hex));
  }

  /** Reads the remaining bytes of {@code buffer}, which must be {@link #LENGTH}. */
  public static TaskId fromByteBuffer(ByteBuffer buffer) {
    return new TaskId(byteBuffer2Bytes(buffer));
  }

  /** Wraps a copy of {@code bytes}, which must be {@link #LENGTH} long. */
  public static TaskId fromBytes(byte[] bytes) {
    return new TaskId(bytes);
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
