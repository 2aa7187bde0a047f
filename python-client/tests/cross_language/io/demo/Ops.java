package io.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Static methods a Python driver calls, for test_cross_language.py. */
public class Ops {
  public static int add(int a, int b) { return a + b; }
  public static Object echo(Object v) { return v; }
  public static String concat(String a, String b) { return a + b; }
  public static long sum(List<Integer> values) {
    long s = 0;
    for (int v : values) s += v;
    return s;
  }
  public static int size(byte[] data) { return data.length; }
  public static double half(double x) { return x / 2; }
  public static boolean not(boolean b) { return !b; }
  public static int count(Map<String, Integer> m) { return m.size(); }
  public static double[] scale(double[] values, double by) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) out[i] = values[i] * by;
    return out;
  }
  public static String fail(String message) { throw new IllegalStateException(message); }
  public static long sleepAfterMarking(String marker, long ms) throws Exception {
    java.nio.file.Files.writeString(java.nio.file.Path.of(marker), "started");
    Thread.sleep(ms);
    return ms;
  }
}
