package io.ray.engine.node;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;

/** Physical memory figures from /proc/meminfo (Linux), with a JVM-based fallback. */
final class SystemMemory {
  private SystemMemory() {}

  static long totalBytes() {
    return meminfo("MemTotal:", Runtime.getRuntime().maxMemory());
  }

  static long availableBytes() {
    return meminfo("MemAvailable:", Runtime.getRuntime().maxMemory());
  }

  private static long meminfo(String key, long fallback) {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/meminfo"))) {
        if (line.startsWith(key)) {
          String[] parts = line.trim().split("\\s+");
          return Long.parseLong(parts[1]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return fallback;
  }
}
