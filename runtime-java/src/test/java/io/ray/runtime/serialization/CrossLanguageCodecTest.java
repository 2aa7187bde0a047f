package io.ray.runtime.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Ray's cross-language value table through msgpack, and fitting values to declared types. */
class CrossLanguageCodecTest {
  private static Object roundTrip(Object v) {
    return CrossLanguageCodec.decode(ByteBuffer.wrap(CrossLanguageCodec.encode(v)));
  }

  @Test
  void everyTypeOfTheTableRoundTrips() {
    assertNull(roundTrip(null));
    assertEquals(true, roundTrip(true));
    assertEquals(7L, roundTrip(7));
    assertEquals(-(1L << 40), roundTrip(-(1L << 40)));
    assertEquals(2.5, roundTrip(2.5f));
    assertEquals("héllo", roundTrip("héllo"));
    assertArrayEquals(new byte[] {0, 1}, (byte[]) roundTrip(new byte[] {0, 1}));
    assertEquals(List.of(1L, "a", List.of(2.5)), roundTrip(List.of(1, "a", List.of(2.5))));
    assertEquals(List.of(1.0, 2.0), roundTrip(new double[] {1, 2}));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("k", List.of(1L));
    m.put("n", null);
    assertEquals(m, roundTrip(m));
  }

  @Test
  void aValueThatCannotCrossIsRefusedByName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> CrossLanguageCodec.encode(new Object()));
    assertEquals(true, e.getMessage().contains("java.lang.Object cannot cross to Python"));
  }

  @SuppressWarnings("unused")
  static void sample(int i, double d, List<Integer> ints, double[] ds, Map<String, Long> m) {}

  @Test
  void valuesFitTheDeclaredTypes() throws Exception {
    Method sample =
        getClass()
            .getDeclaredMethod(
                "sample", int.class, double.class, List.class, double[].class, Map.class);
    var types = sample.getGenericParameterTypes();
    assertEquals(3, CrossLanguageCodec.convert(3L, types[0]));
    assertEquals(4.0, CrossLanguageCodec.convert(4L, types[1]));
    assertEquals(List.of(1, 2), CrossLanguageCodec.convert(List.of(1L, 2L), types[2]));
    assertArrayEquals(
        new double[] {1.5}, (double[]) CrossLanguageCodec.convert(List.of(1.5), types[3]));
    assertEquals(Map.of("a", 1L), CrossLanguageCodec.convert(Map.of("a", 1L), types[4]));
    assertThrows(
        IllegalArgumentException.class, () -> CrossLanguageCodec.convert(1L << 40, types[0]));
    assertThrows(IllegalArgumentException.class, () -> CrossLanguageCodec.convert("x", types[0]));
    assertThrows(IllegalArgumentException.class, () -> CrossLanguageCodec.convert(1.5, types[0]));
  }
}
