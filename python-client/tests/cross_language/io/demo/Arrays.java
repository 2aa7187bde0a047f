package io.demo;

import java.nio.DoubleBuffer;
import java.util.Map;

/** Java tasks that take NumPy arrays, for test_cross_language.py. */
public class Arrays {
  /**
   * Reads the array in place: the DoubleBuffer is a view of the object in shared memory. Reports
   * whether it is such a (direct) view, and how much this JVM's heap grew while reading it (a copy
   * of the payload would add its whole size).
   */
  public static Map<String, Object> inspect(DoubleBuffer values) {
    Runtime rt = Runtime.getRuntime();
    long before = rt.totalMemory() - rt.freeMemory();
    double sum = 0;
    for (int i = 0; i < values.limit(); i++) {
      sum += values.get(i);
    }
    long after = rt.totalMemory() - rt.freeMemory();
    return Map.of(
        "direct", values.isDirect(),
        "length", (long) values.limit(),
        "sum", sum,
        "heapGrowthMiB", (after - before) >> 20);
  }

  /** The same values back (written from the view into a new object). */
  public static DoubleBuffer same(DoubleBuffer values) {
    return values;
  }

  public static double[] doubled(double[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = 2 * values[i];
    }
    return out;
  }
}
