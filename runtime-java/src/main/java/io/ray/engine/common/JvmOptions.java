package io.ray.engine.common;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * How we start JVMs. The flags every JVM needs live in one Java argument file, {@code jvm.options},
 * shipped next to our jar; a launcher passes it as {@code @jvm.options} and tells the JVM where it
 * is with {@code -Dray.jvm.options=...} so that the JVM can start others the same way.
 */
public final class JvmOptions {
  private JvmOptions() {}

  public static final String OPTIONS_PROPERTY = "ray.jvm.options";

  /**
   * Flags for worker JVMs, which hold little Java heap and run no Java once Python is up (a Python
   * worker's gRPC is Python's own). C1 only, and ten times its usual thresholds: the Java a worker
   * runs is start-up code, and compiling it cost ~0.1 s of CPU per worker that a burst of new
   * actors paid in parallel (measured: CPU per worker until its first calls are answered 0.65 s ->
   * 0.55 s; 40 new actors 14-16 s -> 11-13 s; interpreting everything, -Xint, was 1.4 s).
   */
  public static final List<String> WORKER_FLAGS =
      List.of(
          "-XX:+UseSerialGC",
          "-XX:TieredStopAtLevel=1",
          "-XX:Tier3InvocationThreshold=2000",
          "-XX:Tier3MinInvocationThreshold=1000",
          "-XX:Tier3CompileThreshold=20000",
          "-XX:Tier3BackEdgeThreshold=600000",
          "-Xms16m",
          "-Xmx512m",
          "-Xss1m");

  /**
   * Flags for Java worker JVMs, which run the job's Java code and serve its callers' pushes in
   * Java: the JVM's usual tiered compilation (with the thresholds above, a Java worker answered one
   * call at a time at about half the rate), and the JVM's default heap (user code decides its
   * size).
   */
  public static final List<String> JAVA_WORKER_FLAGS = List.of("-XX:+UseSerialGC", "-Xss1m");

  /** The argument file, from the system property or next to our jar. */
  public static Path optionsFile() {
    String configured = System.getProperty(OPTIONS_PROPERTY);
    if (configured != null) {
      return Paths.get(configured);
    }
    for (String entry : classPath().split(java.io.File.pathSeparator)) {
      Path candidate = Paths.get(entry).toAbsolutePath().getParent();
      if (candidate != null && Files.exists(candidate.resolve("jvm.options"))) {
        return candidate.resolve("jvm.options");
      }
    }
    throw new IllegalStateException(
        "cannot find jvm.options: set -D" + OPTIONS_PROPERTY + " or put it next to the jar");
  }

  /** The class-data-sharing archive `make` builds next to jvm.options, if any. */
  public static final String CLASS_ARCHIVE = "ray-cds.jsa";

  /**
   * {@code java @jvm.options -Dray.jvm.options=... -cp <our class path>} plus {@code extra}, and
   * the class-data-sharing archive when there is one (a JVM that cannot use it runs without).
   */
  public static List<String> javaCommand(List<String> extra) {
    return javaCommand(extra, classPath());
  }

  /** As {@link #javaCommand(List)}, with the given class path. */
  public static List<String> javaCommand(List<String> extra, String classPath) {
    Path options = optionsFile();
    List<String> cmd = new ArrayList<>();
    cmd.add(javaExecutable());
    cmd.add("@" + options);
    cmd.add("-D" + OPTIONS_PROPERTY + "=" + options);
    Path archive = options.resolveSibling(CLASS_ARCHIVE);
    if (Files.exists(archive)) {
      cmd.add("-XX:SharedArchiveFile=" + archive);
    }
    cmd.addAll(extra);
    cmd.add("-cp");
    cmd.add(classPath);
    return cmd;
  }

  /** The java executable this JVM runs on. */
  public static String javaExecutable() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** This JVM's class path, reused for the processes it starts. */
  public static String classPath() {
    return System.getProperty("java.class.path");
  }

  /**
   * Our jars only: every jar next to {@code jvm.options}, sorted, as absolute paths, the class path
   * the Python launcher gives nodes (and so workers). A process started with exactly this string
   * can use the class-data-sharing archive made for it; a user's driver JVM, whose class path also
   * holds the user's code, starts its node with this one instead of its own.
   */
  public static String ourClassPath() {
    Path dir = optionsFile().toAbsolutePath().getParent();
    try (var files = Files.list(dir)) {
      List<String> jars =
          files
              .filter(f -> f.getFileName().toString().endsWith(".jar"))
              .map(f -> f.toAbsolutePath().toString())
              .sorted()
              .toList();
      return jars.isEmpty() ? classPath() : String.join(java.io.File.pathSeparator, jars);
    } catch (java.io.IOException e) {
      return classPath();
    }
  }
}
