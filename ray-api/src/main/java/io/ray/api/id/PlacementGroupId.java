package io.ray.api.id;

import java.nio.ByteBuffer;

/** Identifies a placement group: 18 bytes, 14 unique followed by the 4 of its job's id. */
public class PlacementGroupId extends BaseId {

  private static final int UNIQUE_BYTES_LENGTH = 14;

  /** The length in bytes. */
  public static final int LENGTH = UNIQUE_BYTES_LENGTH + JobId.LENGTH;

  /** The nil identifier. */
  public static final PlacementGroupId NIL = new PlacementGroupId(nilBytes(LENGTH));

  private PlacementGroupId(byte[] id) {
    super(id);
  }

  /** Reads the remaining bytes of {@code buffer}, which must be {@link #LENGTH}. */
  public static PlacementGroupId fromByteBuffer(ByteBuffer buffer) {
    return new PlacementGroupId(byteBuffer2Bytes(buffer));
  }

  /** Wraps a copy of {@code bytes}, which must be {@link #LENGTH} long. */
  public static PlacementGroupId fromBytes(byte[] bytes) {
    return new PlacementGroupId(bytes);
  }

  /** Parses a hexadecimal string of {@link #LENGTH} bytes. */
  public static PlacementGroupId fromHexString(String hex) {
    return new PlacementGroupId(hexString2Bytes(hex));
  }

  /** A random identifier. */
  public static PlacementGroupId fromRandom() {
    return new PlacementGroupId(randomBytes(LENGTH));
  }

  @Override
  public int size() {
    return LENGTH;
  }
}
