package io.ray.api.id;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A fixed-size binary identifier. Each subclass has its own size; the nil value of every kind is
 * all bytes {@code 0xff}, and {@link #toString()} is the bytes in lowercase hexadecimal.
 */
public abstract class BaseId implements Serializable {

  private static final long serialVersionUID = 1L;
  private static final HexFormat HEX = HexFormat.of();

  private final byte[] id;

  /**
   * Wraps a copy of {@code id}.
   *
   * @throws IllegalArgumentException if {@code id} is not {@link #size()} bytes long
   */
  protected BaseId(byte[] id) {
    if (id == null || id.length != size()) {
      throw new IllegalArgumentException(
          getClass().getSimpleName()
              + " needs "
              + size()
              + " bytes, got "
              + (id == null ? "null" : id.length + " bytes"));
    }
    this.id = id.clone();
  }

  /** A copy of the identifier's bytes. */
  public byte[] getBytes() {
    return id.clone();
  }

  /** The identifier's bytes in a new buffer. */
  public ByteBuffer toByteBuffer() {
    return ByteBuffer.wrap(getBytes());
  }

  /** Whether this is the nil identifier (all bytes {@code 0xff}). */
  public boolean isNil() {
    for (byte b : id) {
      if (b != (byte) 0xff) {
        return false;
      }
    }
    return true;
  }

  /** The identifier's length in bytes. */
  public abstract int size();

  @Override
  public int hashCode() {
    return Arrays.hashCode(id);
  }

  @Override
  public boolean equals(Object obj) {
    return obj != null && obj.getClass() == getClass() && Arrays.equals(id, ((BaseId) obj).id);
  }

  /** The identifier in lowercase hexadecimal. */
  @Override
  public String toString() {
    return HEX.formatHex(id);
  }

  /**
   * Decodes a hexadecimal string (either case).
   *
   * @throws IllegalArgumentException if the string is not valid hexadecimal
   */
  protected static byte[] hexString2Bytes(String hex) {
    if (hex == null) {
      throw new IllegalArgumentException("The hex string is null");
    }
    return HEX.parseHex(hex);
  }

  /** The bytes remaining in {@code buffer}, read without moving its position. */
  protected static byte[] byteBuffer2Bytes(ByteBuffer buffer) {
    ByteBuffer view = buffer.duplicate();
    byte[] bytes = new byte[view.remaining()];
    view.get(bytes);
    return bytes;
  }

  /** {@code size} bytes of {@code 0xff}: the nil value. */
  static byte[] nilBytes(int size) {
    byte[] bytes = new byte[size];
    Arrays.fill(bytes, (byte) 0xff);
    return bytes;
  }

  /** {@code size} random bytes. */
  static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    ThreadLocalRandom.current().nextBytes(bytes);
    return bytes;
  }
}
