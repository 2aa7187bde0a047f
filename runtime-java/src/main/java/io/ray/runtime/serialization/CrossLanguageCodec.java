package io.ray.runtime.serialization;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Array;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.ValueType;

/**
 * Values that cross between Java and Python, in Ray's cross-language format (msgpack): null,
 * booleans, integers, floats, strings, bytes, lists (and Java arrays), maps, nested. {@link
 * #decode} gives plain values (Long, Double, String, byte[], Boolean, List, Map); {@link #convert}
 * fits one to a declared Java type (int, double[], List of Integer, ...), as a parameter or a
 * return type asks. Pure functions.
 */
public final class CrossLanguageCodec {
  private CrossLanguageCodec() {}

  public static byte[] encode(Object value) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      pack(p, value);
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void pack(MessageBufferPacker p, Object v) throws IOException {
    if (v == null) {
      p.packNil();
    } else if (v instanceof Boolean b) {
      p.packBoolean(b);
    } else if (v instanceof Byte
        || v instanceof Short
        || v instanceof Integer
        || v instanceof Long) {
      p.packLong(((Number) v).longValue());
    } else if (v instanceof Float || v instanceof Double) {
      p.packDouble(((Number) v).doubleValue());
    } else if (v instanceof Character c) {
      p.packString(String.valueOf(c));
    } else if (v instanceof String s) {
      p.packString(s);
    } else if (v instanceof byte[] bytes) {
      p.packBinaryHeader(bytes.length);
      p.writePayload(bytes);
    } else if (v instanceof List<?> list) {
      p.packArrayHeader(list.size());
      for (Object o : list) {
        pack(p, o);
      }
    } else if (v.getClass().isArray()) {
      int n = Array.getLength(v);
      p.packArrayHeader(n);
      for (int i = 0; i < n; i++) {
        pack(p, Array.get(v, i));
      }
    } else if (v instanceof Map<?, ?> map) {
      p.packMapHeader(map.size());
      for (Map.Entry<?, ?> e : map.entrySet()) {
        pack(p, e.getKey());
        pack(p, e.getValue());
      }
    } else {
      throw new IllegalArgumentException(
          "A value of class "
              + v.getClass().getName()
              + " cannot cross to Python: cross-language values are null, booleans, numbers,"
              + " strings, byte[], lists, arrays and maps of those");
    }
  }

  public static Object decode(ByteBuffer bytes) {
    if (!bytes.hasArray() && !bytes.isDirect()) {
      // A read-only heap view (a protobuf's bytes): msgpack reads arrays and direct buffers.
      byte[] copy = new byte[bytes.remaining()];
      bytes.duplicate().get(copy);
      bytes = ByteBuffer.wrap(copy);
    }
    try (MessageUnpacker u = MessagePack.newDefaultUnpacker(bytes)) {
      return unpack(u);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Object unpack(MessageUnpacker u) throws IOException {
    ValueType type = u.getNextFormat().getValueType();
    switch (type) {
      case NIL:
        u.unpackNil();
        return null;
      case BOOLEAN:
        return u.unpackBoolean();
      case INTEGER:
        return u.unpackLong();
      case FLOAT:
        return u.unpackDouble();
      case STRING:
        return u.unpackString();
      case BINARY:
        return u.readPayload(u.unpackBinaryHeader());
      case ARRAY:
        {
          int n = u.unpackArrayHeader();
          List<Object> list = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            list.add(unpack(u));
          }
          return list;
        }
      case MAP:
        {
          int n = u.unpackMapHeader();
          Map<Object, Object> map = new LinkedHashMap<>();
          for (int i = 0; i < n; i++) {
            Object k = unpack(u);
            map.put(k, unpack(u));
          }
          return map;
        }
      default:
        throw new IllegalArgumentException("a cross-language value of msgpack type " + type);
    }
  }

  /** Fits a decoded value to {@code type} (a parameter's or a declared return type). */
  public static Object convert(Object v, Type type) {
    Class<?> raw = rawClass(type);
    if (v instanceof ArrayCodec.NdArray a) {
      return ArrayCodec.convert(a, raw);
    }
    if (v == null || raw == null || raw == Object.class) {
      return v;
    }
    if (raw.isPrimitive() || Number.class.isAssignableFrom(raw) || raw == Boolean.class) {
      return scalar(v, raw);
    }
    if (raw == String.class && v instanceof String) {
      return v;
    }
    if (raw == byte[].class && v instanceof byte[]) {
      return v;
    }
    if (raw.isArray() && v instanceof List<?> list) {
      Object array = Array.newInstance(raw.getComponentType(), list.size());
      for (int i = 0; i < list.size(); i++) {
        Array.set(array, i, convert(list.get(i), raw.getComponentType()));
      }
      return array;
    }
    if (List.class.isAssignableFrom(raw) && v instanceof List<?> list) {
      Type element = typeArgument(type, 0);
      List<Object> out = new ArrayList<>(list.size());
      for (Object o : list) {
        out.add(convert(o, element));
      }
      return out;
    }
    if (Map.class.isAssignableFrom(raw) && v instanceof Map<?, ?> map) {
      Type key = typeArgument(type, 0);
      Type value = typeArgument(type, 1);
      Map<Object, Object> out = new LinkedHashMap<>();
      map.forEach((k, val) -> out.put(convert(k, key), convert(val, value)));
      return out;
    }
    if (raw.isInstance(v)) {
      return v;
    }
    throw new IllegalArgumentException(
        "A cross-language value of class "
            + v.getClass().getSimpleName()
            + " does not fit "
            + type);
  }

  private static Object scalar(Object v, Class<?> raw) {
    String name = raw.getSimpleName().toLowerCase();
    if ((name.equals("boolean")) && v instanceof Boolean) {
      return v;
    }
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException(
          "A cross-language " + v.getClass().getSimpleName() + " does not fit " + raw);
    }
    switch (name) {
      case "int":
      case "integer":
        if (n.longValue() != n.intValue() || v instanceof Double) {
          throw new IllegalArgumentException(v + " does not fit an int");
        }
        return n.intValue();
      case "long":
        if (v instanceof Double) {
          throw new IllegalArgumentException(v + " does not fit a long");
        }
        return n.longValue();
      case "short":
        return n.shortValue();
      case "byte":
        return n.byteValue();
      case "double":
        return n.doubleValue();
      case "float":
        return n.floatValue();
      default:
        return v;
    }
  }

  private static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p && p.getRawType() instanceof Class<?> c) {
      return c;
    }
    return null;
  }

  private static Type typeArgument(Type type, int i) {
    return type instanceof ParameterizedType p && p.getActualTypeArguments().length > i
        ? p.getActualTypeArguments()[i]
        : Object.class;
  }
}
