package io.ray.api.id;

import java.nio.ByteBuffer;

/** Identifies an object in the object store: 28 bytes (the creating task's id and an index). */
public class ObjectId extends BaseId {

  /** The length in bytes. */
  public static final int LENGTH = 28;

  /** Wraps a copy of {@code id}, which must be {@link #LENGTH} bytes. */
  public ObjectId(byte[] id) {
    super(id);
  }

  /** Reads the remaining bytes of {@code buffer}, which must be {@link #LENGTH}. */
  public static ObjectId fromByteBuffer(ByteBuffer buffer) {
    return new ObjectId(byteBuffer2Bytes(buffer));
  }

  /** Wraps a copy of {@code bytes}, which must be {@link #LENGTH} long. */
  public static ObjectId fromBytes(byte[] bytes) {
    return new ObjectId(bytes);
  }

  /** Parses a hexadecimal string of {@link #LENGTH} bytes. */
  public static ObjectId fromHexString(String hex) {
    return new ObjectId(hexString2Bytes(hex));
  }

  /** A random identifier. */
  public static ObjectId fromRandom() {
    return new ObjectId(randomBytes(LENGTH));
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
