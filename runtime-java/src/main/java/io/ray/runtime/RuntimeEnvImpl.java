package io.ray.runtime;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.reflect.TypeToken;
import io.ray.api.exception.RuntimeEnvException;
import io.ray.api.runtimeenv.RuntimeEnv;
import io.ray.api.runtimeenv.RuntimeEnvConfig;
import io.ray.api.runtimeenv.types.RuntimeEnvName;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A runtime environment built in Java: its fields as JSON, as Ray's Java API keeps them. This
 * runtime runs tasks and actors in {@code env_vars}; any other field is refused by name when the
 * environment is used ({@link #toProto}). Not thread-safe (a builder-like value).
 */
final class RuntimeEnvImpl implements RuntimeEnv {
  private static final Gson GSON = new Gson();

  private final JsonObject fields;
  private RuntimeEnvConfig config;

  RuntimeEnvImpl() {
    this(new JsonObject());
  }

  private RuntimeEnvImpl(JsonObject fields) {
    this.fields = fields;
  }

  static RuntimeEnvImpl deserialize(String serialized) {
    try {
      return new RuntimeEnvImpl(JsonParser.parseString(serialized).getAsJsonObject());
    } catch (RuntimeException e) {
      throw new RuntimeEnvException("Not a serialized runtime environment: " + serialized, e);
    }
  }

  @Override
  public void set(String name, Object value) {
    fields.add(name, GSON.toJsonTree(value));
  }

  @Override
  public void setJsonStr(String name, String jsonStr) {
    try {
      fields.add(name, JsonParser.parseString(jsonStr));
    } catch (RuntimeException e) {
      throw new RuntimeEnvException("Not JSON for the field " + name + ": " + jsonStr, e);
    }
  }

  @Override
  public <T> T get(String name, Class<T> type) {
    JsonElement value = fields.get(name);
    return value == null ? null : GSON.fromJson(value, type);
  }

  @Override
  public String getJsonStr(String name) {
    JsonElement value = fields.get(name);
    return value == null ? null : value.toString();
  }

  @Override
  public boolean contains(String name) {
    return fields.has(name);
  }

  @Override
  public boolean remove(String name) {
    return fields.remove(name) != null;
  }

  @Override
  public String serialize() {
    return fields.toString();
  }

  @Override
  public boolean isEmpty() {
    return fields.size() == 0;
  }

  @Override
  public String serializeToRuntimeEnvInfo() {
    JsonObject info = new JsonObject();
    info.addProperty("serialized_runtime_env", serialize());
    if (config != null) {
      info.add("runtime_env_config", GSON.toJsonTree(config));
    }
    return info.toString();
  }

  @Override
  public void setConfig(RuntimeEnvConfig runtimeEnvConfig) {
    this.config = runtimeEnvConfig;
  }

  @Override
  public RuntimeEnvConfig getConfig() {
    return config;
  }

  /**
   * The environment as the engine runs it: its {@code env_vars}, and the hash the node keys workers
   * by, computed as Python's {@code runtime_env.to_proto} computes it (the same variables give the
   * same hash). A field other than {@code env_vars} is refused by name.
   */
  static io.ray.engine.rpc.RuntimeEnv toProto(RuntimeEnv env) {
    if (!(env instanceof RuntimeEnvImpl impl)) {
      throw new IllegalArgumentException("not a runtime environment of this runtime: " + env);
    }
    for (String name : impl.fields.keySet()) {
      if (!name.equals(RuntimeEnvName.ENV_VARS)) {
        throw new UnsupportedOperationException(
            "The runtime environment field "
                + name
                + " is not supported by this Ray (Ray on the JVM) yet (only "
                + RuntimeEnvName.ENV_VARS
                + ")");
      }
    }
    Map<String, String> vars = new TreeMap<>();
    JsonElement given = impl.fields.get(RuntimeEnvName.ENV_VARS);
    if (given != null) {
      try {
        Map<String, String> read =
            GSON.fromJson(given, new TypeToken<Map<String, String>>() {}.getType());
        vars.putAll(read);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("env_vars must map names to strings, got " + given, e);
      }
    }
    io.ray.engine.rpc.RuntimeEnv.Builder proto =
        io.ray.engine.rpc.RuntimeEnv.newBuilder().putAllEnvVars(vars);
    if (!vars.isEmpty()) {
      proto.setHash(hash(vars));
    }
    return proto.build();
  }

  /**
   * SHA-1 of {@code json.dumps({"env_vars": sorted(items), "py_modules": [], "working_dir": ""},
   * sort_keys=True)}, Python's canonical form, written out here byte for byte.
   */
  private static String hash(Map<String, String> sortedVars) {
    StringBuilder canonical = new StringBuilder("{\"env_vars\": [");
    boolean first = true;
    for (Map.Entry<String, String> e : sortedVars.entrySet()) {
      canonical.append(first ? "" : ", ").append('[');
      pythonJsonString(canonical, e.getKey());
      canonical.append(", ");
      pythonJsonString(canonical, e.getValue());
      canonical.append(']');
      first = false;
    }
    canonical.append("], \"py_modules\": [], \"working_dir\": \"\"}");
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-1")
              .digest(canonical.toString().getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A string as Python's json.dumps writes it (ASCII only: the rest as \\uXXXX). */
  private static void pythonJsonString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c > 0x7e) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
