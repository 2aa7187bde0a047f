package io.ray.engine.common;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.HexFormat;

/** Identifier helpers. IDs are {@link ByteString}s, which are immutable and usable as map keys. */
public final class Ids {
  private Ids() {}

  public static final int JOB_ID_SIZE = 4;
  public static final int TASK_ID_SIZE = 24;
  public static final int OBJECT_ID_SIZE = 28;
  public static final int UNIQUE_ID_SIZE = 28;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();

  public static ByteString random(int size) {
    byte[] b = new byte[size];
    RANDOM.nextBytes(b);
    return ByteString.copyFrom(b);
  }

  /** Job ids are a 4-byte little-endian counter, as in Ray. */
  public static ByteString jobId(int counter) {
    return ByteString.copyFrom(
        ByteBuffer.allocate(JOB_ID_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(counter).array());
  }

  /** The id of return value {@code index} (from 1) of a task. */
  public static ByteString returnId(ByteString taskId, int index) {
    return taskId.concat(
        ByteString.copyFrom(
            ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(index).array()));
  }

  /** A fresh task id of {@code jobId}'s: random bytes, then the job's id (as clients make them). */
  public static ByteString newTaskId(ByteString jobId) {
    return random(TASK_ID_SIZE - JOB_ID_SIZE).concat(jobId);
  }

  /**
   * The job an object belongs to: an object id is a task id (whose last four bytes are its job's
   * id) and an index; a put's "task id" is its process's prefix and its job's id.
   */
  public static ByteString jobOfObject(ByteString objectId) {
    return objectId.substring(TASK_ID_SIZE - JOB_ID_SIZE, TASK_ID_SIZE);
  }

  public static String hex(ByteString id) {
    return HEX.formatHex(id.toByteArray());
  }

  public static ByteString fromHex(String hex) {
    return ByteString.copyFrom(HEX.parseHex(hex));
  }

  /** First eight hex characters, for log messages and file names. */
  public static String shortHex(ByteString id) {
    String h = hex(id);
    return h.length() <= 8 ? h : h.substring(0, 8);
  }
}
