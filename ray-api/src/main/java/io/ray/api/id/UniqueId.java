package io.ray.api.id;

import java.nio.ByteBuffer;

/** A general 28-byte identifier, used for nodes and workers. */
public class UniqueId extends BaseId {

  /** The length in bytes. */
  public static final int LENGTH = 28;

  /** The nil identifier. */
  public static final UniqueId NIL = new UniqueId(nilBytes(LENGTH));

  /** Wraps a copy of {@code id}, which must be {@link #LENGTH} bytes. */
  public UniqueId(byte[] id) {
    super(id);
  }

  /** Parses a hexadecimal string of {@link #LENGTH} bytes. */
  public static UniqueId fromHexString(String hex) {
    return new UniqueId(hexString2Bytes(hex));
  }

  /** Reads the remaining bytes of {@code buffer}, which must be {@link #LENGTH}. */
  public static UniqueId fromByteBuffer(ByteBuffer buffer) {
    return new UniqueId(byteBuffer2Bytes(buffer));
  }

  /** Wraps a copy of {@code bytes}, which must be {@link #LENGTH} long. */
  public static UniqueId fromBytes(byte[] bytes) {
    return new UniqueId(bytes);
  }

  /** A random identifier. */
  public static UniqueId randomId() {
    return new UniqueId(randomBytes(LENGTH));
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
