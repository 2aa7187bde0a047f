package io.demo;

/** A Java actor a Python driver creates, for test_cross_language.py. */
public class Counter {
  private int value;

  public Counter(int start) {
    value = start;
  }

  public int increment(int by) {
    value += by;
    return value;
  }

  public int get() {
    return value;
  }

  public int fail() {
    throw new UnsupportedOperationException("counters do not fail quietly");
  }
}
