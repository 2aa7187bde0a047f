package io.ray.api.id;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Identifies a job (one driver program and all it starts): 4 bytes. */
public class JobId extends BaseId {

  /** The length in bytes. */
  public static final int LENGTH = 4;

  /** The nil identifier. */
  public static final JobId NIL = new JobId(nilBytes(LENGTH));

  private JobId(byte[] id) {
    super(id);
  }

  /** Wraps a copy of {@code bytes}, which must be {@link #LENGTH} long. */
  public static JobId fromBytes(byte[] bytes) {
    return new JobId(bytes);
  }

  /** Parses a hexadecimal string of {@link #LENGTH} bytes. */
  public static JobId fromHexString(String hex) {
    return new JobId(hexString2Bytes(hex));
  }

  /** Reads the remaining bytes of {@code buffer}, which must be {@link #LENGTH}. */
  public static JobId fromByteBuffer(ByteBuffer buffer) {
    return new JobId(byteBuffer2Bytes(buffer));
  }

  /**
   * The job with number {@code value}, stored little-endian as in Ray ({@code fromInt(1)} is {@code
   * 01000000}).
   *
   * @throws IllegalArgumentException if {@code value} is negative
   */
  public static JobId fromInt(int value) {
    if (value < 0) {
      throw new IllegalArgumentException("A job number must not be negative, got " + value);
    }
    return new JobId(
        ByteBuffer.allocate(LENGTH).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array());
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
