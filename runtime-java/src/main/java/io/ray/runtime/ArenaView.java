package io.ray.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A client's view of its node's shared-memory arena (the file the node manages with Chronicle
 * Bytes): a payload is read in place through a mapping of its pages, and a new object's payload is
 * written straight into the space the node reserved for it. Thread-safe (mappings are independent).
 */
public final class ArenaView implements AutoCloseable {
  private final FileChannel file;

  public ArenaView(String path) {
    try {
      file = FileChannel.open(Path.of(path), StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the node's object arena " + path, e);
    }
  }

  /** The payload at {@code offset}, mapped read-only (no copy). */
  public ByteBuffer read(long offset, long size) {
    return map(FileChannel.MapMode.READ_ONLY, offset, size);
  }

  /** The space at {@code offset} the node reserved with CreateObject, mapped for writing. */
  public ByteBuffer writable(long offset, long size) {
    return map(FileChannel.MapMode.READ_WRITE, offset, size);
  }

  private MappedByteBuffer map(FileChannel.MapMode mode, long offset, long size) {
    if (size > Integer.MAX_VALUE) {
      throw new UnsupportedOperationException(
          "objects over 2 GiB are not supported by the Java runtime yet (" + size + " bytes)");
    }
    try {
      return file.map(mode, offset, size);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot map the object arena", e);
    }
  }

  @Override
  public void close() {
    try {
      file.close();
    } catch (IOException e) {
      // Closing a mapping's channel cannot lose data: nothing to do.
    }
  }
}
