package io.ray.engine.node;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;
import java.util.Map;

/** JSON for the few places that use it: the ready line and command-line maps. */
final class Json {
  private Json() {}

  private static final Gson GSON = new Gson();

  static String write(Object value) {
    return GSON.toJson(value);
  }

  static Map<String, Object> readObject(String json) {
    Map<String, Object> m = GSON.fromJson(json, new TypeToken<Map<String, Object>>() {}.getType());
    if (m == null) {
      throw new IllegalArgumentException("expected a JSON object: " + json);
    }
    return m;
  }
}
