package io.ray.runtime.serialization;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Arrays between Java and Python (the {@code ARRAY} format, the same layout as {@code
 * ray/_private/cross_language.py}): the magic {@code RAYARR01}, the dtype's kind and item size, the
 * number of dimensions, the shape, padding to 64 bytes, then the raw little-endian elements.
 * Decoding gives an {@link NdArray} whose data is a view of the payload (of shared memory, for an
 * object in the arena): a {@code DoubleBuffer} parameter reads it in place, a {@code double[]} one
 * gets a copy. Pure functions.
 */
public final class ArrayCodec {
  private static final byte[] MAGIC = "RAYARR01".getBytes(StandardCharsets.US_ASCII);

  private ArrayCodec() {}

  /** An array read from a payload: its element type, shape and elements (a view, little-endian). */
  public record NdArray(char kind, int itemSize, long[] shape, ByteBuffer data) {
    public long length() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return n;
    }
  }

  /** Whether {@code value} crosses as an ARRAY: a primitive array (not byte[]) or an NIO view. */
  public static boolean supported(Object value) {
    return value instanceof double[]
        || value instanceof float[]
        || value instanceof long[]
        || value instanceof int[]
        || value instanceof short[]
        || value instanceof boolean[]
        || value instanceof DoubleBuffer
        || value instanceof FloatBuffer
        || value instanceof LongBuffer
        || value instanceof IntBuffer;
  }

  public static boolean isArray(ByteBuffer payload) {
    if (payload.remaining() < 64) {
      return false;
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (payload.get(payload.position() + i) != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  public static NdArray decode(ByteBuffer payload) {
    ByteBuffer p = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (!isArray(p)) {
      throw new IllegalArgumentException("not an array payload");
    }
    char kind = (char) p.get(8);
    int itemSize = p.get(9);
    int ndim = p.get(10);
    long[] shape = new long[ndim];
    for (int i = 0; i < ndim; i++) {
      shape[i] = p.getLong(16 + 8 * i);
    }
    int offset = headerSize(ndim);
    NdArray a = new NdArray(kind, itemSize, shape, null);
    ByteBuffer data =
        p.position(offset)
            .limit(offset + Math.toIntExact(a.length() * itemSize))
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN);
    return new NdArray(kind, itemSize, shape, data);
  }

  private static int headerSize(int ndim) {
    int n = 16 + 8 * ndim;
    return n + (-n % 64 + 64) % 64;
  }

  /** The payload size of a supported value (one dimension). */
  public static int encodedSize(Object value) {
    return headerSize(1) + Math.toIntExact((long) length(value) * itemSize(value));
  }

  /** Writes the payload of a supported value into {@code target} (from its position). */
  public static void write(Object value, ByteBuffer target) {
    ByteBuffer t = target.slice().order(ByteOrder.LITTLE_ENDIAN);
    t.put(MAGIC);
    t.put((byte) kind(value)).put((byte) itemSize(value)).put((byte) 1);
    t.position(16);
    t.putLong(length(value));
    t.position(headerSize(1));
    ByteBuffer data = t.slice().order(ByteOrder.LITTLE_ENDIAN);
    if (value instanceof double[] a) {
      data.asDoubleBuffer().put(a);
    } else if (value instanceof float[] a) {
      data.asFloatBuffer().put(a);
    } else if (value instanceof long[] a) {
      data.asLongBuffer().put(a);
    } else if (value instanceof int[] a) {
      data.asIntBuffer().put(a);
    } else if (value instanceof short[] a) {
      data.asShortBuffer().put(a);
    } else if (value instanceof boolean[] a) {
      for (boolean b : a) {
        data.put((byte) (b ? 1 : 0));
      }
    } else if (value instanceof DoubleBuffer b) {
      data.asDoubleBuffer().put(b.duplicate());
    } else if (value instanceof FloatBuffer b) {
      data.asFloatBuffer().put(b.duplicate());
    } else if (value instanceof LongBuffer b) {
      data.asLongBuffer().put(b.duplicate());
    } else if (value instanceof IntBuffer b) {
      data.asIntBuffer().put(b.duplicate());
    }
  }

  public static byte[] encode(Object value) {
    byte[] out = new byte[encodedSize(value)];
    write(value, ByteBuffer.wrap(out));
    return out;
  }

  private static int length(Object v) {
    return v instanceof Buffer b ? b.remaining() : java.lang.reflect.Array.getLength(v);
  }

  private static char kind(Object v) {
    if (v instanceof double[]
        || v instanceof float[]
        || v instanceof DoubleBuffer
        || v instanceof FloatBuffer) {
      return 'f';
    }
    return v instanceof boolean[] ? 'b' : 'i';
  }

  private static int itemSize(Object v) {
    if (v instanceof double[]
        || v instanceof long[]
        || v instanceof DoubleBuffer
        || v instanceof LongBuffer) {
      return 8;
    }
    if (v instanceof float[]
        || v instanceof int[]
        || v instanceof FloatBuffer
        || v instanceof IntBuffer) {
      return 4;
    }
    return v instanceof short[] ? 2 : 1;
  }

  /** The array as {@code target} asks: a view (an NIO buffer), a copy (a Java array) or boxed. */
  public static Object convert(NdArray a, Class<?> target) {
    ByteBuffer d = a.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
    String dtype = "" + a.kind() + a.itemSize();
    if (target == DoubleBuffer.class && dtype.equals("f8")) {
      return d.asDoubleBuffer();
    }
    if (target == FloatBuffer.class && dtype.equals("f4")) {
      return d.asFloatBuffer();
    }
    if (target == LongBuffer.class && dtype.equals("i8")) {
      return d.asLongBuffer();
    }
    if (target == IntBuffer.class && dtype.equals("i4")) {
      return d.asIntBuffer();
    }
    if (target == ShortBuffer.class && dtype.equals("i2")) {
      return d.asShortBuffer();
    }
    if (target == ByteBuffer.class) {
      return d;
    }
    Object copy = copy(a, d, dtype);
    if (target == null || target == Object.class || target.isInstance(copy)) {
      return copy;
    }
    throw new IllegalArgumentException(
        "An array of dtype " + dtype + " does not fit " + target.getName());
  }

  private static Object copy(NdArray a, ByteBuffer d, String dtype) {
    int n = Math.toIntExact(a.length());
    switch (dtype) {
      case "f8":
        {
          double[] out = new double[n];
          d.asDoubleBuffer().get(out);
          return out;
        }
      case "f4":
        {
          float[] out = new float[n];
          d.asFloatBuffer().get(out);
          return out;
        }
      case "i8":
        {
          long[] out = new long[n];
          d.asLongBuffer().get(out);
          return out;
        }
      case "i4":
        {
          int[] out = new int[n];
          d.asIntBuffer().get(out);
          return out;
        }
      case "i2":
        {
          short[] out = new short[n];
          d.asShortBuffer().get(out);
          return out;
        }
      case "b1":
        {
          boolean[] out = new boolean[n];
          for (int i = 0; i < n; i++) {
            out[i] = d.get(i) != 0;
          }
          return out;
        }
      default:
        {
          byte[] out = new byte[n * a.itemSize()];
          d.get(out);
          return out;
        }
    }
  }
}
