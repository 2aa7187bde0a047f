package io.ray.runtime;

import io.ray.api.options.CallOptions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the options of Ray's Java API into what the engine's task spec says. An option this runtime
 * does not build yet is refused by name, never ignored. Pure.
 */
final class OptionsReader {
  private OptionsReader() {}

  static JavaRuntime.TaskOptions task(CallOptions options) {
    if (options == null) {
      return new JavaRuntime.TaskOptions(null, Map.of("CPU", 1.0), null, null, -1, null);
    }
    refuse(
        options.getConcurrencyGroupName() != null && !options.getConcurrencyGroupName().isEmpty(),
        "setConcurrencyGroupName");
    Map<String, Double> resources = new LinkedHashMap<>();
    resources.put("CPU", 1.0);
    if (options.getResources() != null) {
      for (Map.Entry<String, Double> e : options.getResources().entrySet()) {
        if (e.getValue() == null || e.getValue() < 0) {
          throw new IllegalArgumentException(
              "Resource " + e.getKey() + " must be a non-negative number, got " + e.getValue());
        }
        resources.put(e.getKey(), e.getValue());
      }
    }
    return new JavaRuntime.TaskOptions(
        options.getName(),
        resources,
        maxRetries(options),
        options.getGroup(),
        options.getGroup() == null ? -1 : options.getBundleIndex(),
        options.getRuntimeEnv() == null ? null : RuntimeEnvImpl.toProto(options.getRuntimeEnv()));
  }

  private static Integer maxRetries(CallOptions options) {
    return options.getMaxRetries();
  }

  private static void refuse(boolean given, String option) {
    if (given) {
      throw new UnsupportedOperationException(
          "The task option " + option + " is not supported by this Ray (Ray on the JVM) yet");
    }
  }
}
