package io.ray.api.id;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** Identifies an actor: 16 bytes, 12 unique to the actor followed by the 4 of its job's id. */
public class ActorId extends BaseId {

  private static final int UNIQUE_BYTES_LENGTH = 12;

  /** The length in bytes. */
  public static final int LENGTH = UNIQUE_BYTES_LENGTH + JobId.LENGTH;

  /** The nil identifier. */
  public static final ActorId NIL = new ActorId(nilBytes(LENGTH));

  private ActorId(byte[] id) {
    super(id);
  }

  /** Reads the remaining bytes of {@code buffer}, which must be {@link #LENGTH}. */
  public static ActorId fromByteBuffer(ByteBuffer buffer) {
    return new ActorId(byteBuffer2Bytes(buffer));
  }

  /** Wraps a copy of {@code bytes}, which must be {@link #LENGTH} long. */
  public static ActorId fromBytes(byte[] bytes) {
    return new ActorId(bytes);
  }

  /** Parses a hexadecimal string of {@link #LENGTH} bytes. */
  public static ActorId fromHexString(String hex) {
    return new ActorId(hexString2Bytes(hex));
  }

  /** A random identifier. */
  public static ActorId fromRandom() {
    return new ActorId(randomBytes(LENGTH));
  }

  @Override
  public int size() {
    return LENGTH;
  }

  /** The job that created this actor: the last {@link JobId#LENGTH} bytes. */
  public JobId getJobId() {
    byte[] bytes = getBytes();
    return JobId.fromBytes(Arrays.copyOfRange(bytes, UNIQUE_BYTES_LENGTH, LENGTH));
  }
}
