package io.ray.engine.nodemanager.scheduling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.ray.engine.common.ResourceSet;
import org.junit.jupiter.api.Test;

class ClassCapsTest {
  private static final ByteString JOB = ByteString.copyFromUtf8("job");
  private final ClassCaps caps = new ClassCaps(2);

  private static SchedulingClass cls(double cpus, String fn) {
    return new SchedulingClass(JOB, ResourceSet.of("CPU", cpus), "", ByteString.copyFromUtf8(fn));
  }

  @Test
  void capIsHowManyFitTheNodesCpus() {
    assertEquals(2, caps.cap(cls(1, "f")));
    assertEquals(4, caps.cap(cls(0.5, "f")));
    assertEquals(1, caps.cap(cls(4, "f")));
    assertEquals(2, caps.cap(cls(0, "f")), "CPU-less tasks are capped at the CPU count");
  }

  @Test
  void beyondTheCapOneMoreStartsAfterADoublingBackoff() {
    SchedulingClass c = cls(1, "parent");
    assertEquals(2, caps.allowance(c, 0));
    caps.started(c, 0);
    caps.started(c, 0);
    assertEquals(0, caps.allowance(c, 999));
    assertEquals(1, caps.allowance(c, 1_000));
    caps.started(c, 1_000);
    assertEquals(0, caps.allowance(c, 2_999));
    assertEquals(1, caps.allowance(c, 3_000), "the second extra waits twice as long");
    assertEquals(3_000, caps.nextRaiseAtMs(c));
    caps.finished(c);
    caps.finished(c);
    assertEquals(1, caps.allowance(c, 1_001), "below the cap again: no back-off");
    assertEquals(0, caps.nextRaiseAtMs(c));
  }

  @Test
  void classesAreCappedIndependently() {
    SchedulingClass parent = cls(1, "parent");
    caps.started(parent, 0);
    caps.started(parent, 0);
    assertEquals(2, caps.allowance(cls(1, "child"), 0));
  }

  @Test
  void finishedWithoutStartIsABug() {
    assertThrows(IllegalStateException.class, () -> caps.finished(cls(1, "f")));
  }

  @Test
  void runningCountsDrainToNothing() {
    SchedulingClass c = cls(1, "f");
    caps.started(c, 0);
    caps.finished(c);
    assertEquals(0, caps.activeClasses());
  }
}
