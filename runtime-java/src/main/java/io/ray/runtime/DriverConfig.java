package io.ray.runtime;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a Java driver connects, from Ray's system properties: {@code ray.address} ("host:port" of a
 * cluster's head, or "auto" for the one {@code ray start} recorded on this machine; unset: the
 * recorded one if any, else a new local cluster), {@code ray.job.code-search-path} (where the job's
 * Java workers load classes; default: this JVM's class path) and {@code ray.job.namespace}.
 * Immutable.
 */
public record DriverConfig(String address, List<String> codeSearchPath, String namespace) {
  public static DriverConfig fromSystemProperties() {
    String address = System.getProperty("ray.address", System.getenv("RAY_ADDRESS"));
    String path = System.getProperty("ray.job.code-search-path");
    List<String> search = new ArrayList<>();
    for (String entry :
        (path == null || path.isEmpty() ? System.getProperty("java.class.path") : path)
            .split(File.pathSeparator)) {
      if (!entry.isEmpty()) {
        search.add(Path.of(entry).toAbsolutePath().toString());
      }
    }
    return new DriverConfig(resolve(address), search, System.getProperty("ray.job.namespace", ""));
  }

  /** The head's control address to join, or null for a new local cluster. */
  private static String resolve(String address) {
    if ("local".equals(address)) {
      return null;
    }
    if (address == null || address.isEmpty() || address.equals("auto")) {
      String recorded = recorded();
      if (recorded == null && "auto".equals(address)) {
        throw new IllegalStateException(
            "Could not find any running Ray instance. Please specify the one to connect to by setting"
                + " -Dray.address or the RAY_ADDRESS environment variable.");
      }
      return recorded;
    }
    String a = address.startsWith("ray://") ? address.substring(6) : address;
    if (!a.contains(":")) {
      throw new IllegalArgumentException("Malformed address " + address + ": expected host:port");
    }
    return a;
  }

  private static String recorded() {
    Path file =
        Path.of(System.getenv().getOrDefault("RAY_TMPDIR", "/tmp/ray"), "ray_current_cluster");
    try {
      String s = Files.readString(file).trim();
      return s.isEmpty() ? null : s;
    } catch (IOException e) {
      return null;
    }
  }
}
