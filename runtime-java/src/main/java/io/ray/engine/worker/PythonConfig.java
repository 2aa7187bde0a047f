package io.ray.engine.worker;

import com.google.gson.Gson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The Python installation a worker embeds, as the launching Python process described it ({@code
 * ray/_private/node.py} writes this file): the same interpreter and sys.path as the driver, so that
 * whatever the driver imports, a task imports too.
 *
 * @param pythonHome sys.base_prefix of the launching interpreter
 * @param jepLibrary path of the libjep.so built for that interpreter
 * @param sysPath the launching interpreter's sys.path
 * @param executable sys.executable (recorded for diagnostics)
 */
public record PythonConfig(
    String pythonHome, String jepLibrary, List<String> sysPath, String executable) {

  private record Raw(
      String python_home, String jep_library, List<String> sys_path, String executable) {}

  public static PythonConfig read(Path file) throws IOException {
    Raw raw = new Gson().fromJson(Files.readString(file), Raw.class);
    if (raw == null || raw.python_home == null || raw.jep_library == null || raw.sys_path == null) {
      throw new IOException("incomplete Python worker config in " + file);
    }
    return new PythonConfig(raw.python_home, raw.jep_library, raw.sys_path, raw.executable);
  }
}
