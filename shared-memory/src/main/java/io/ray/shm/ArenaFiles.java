package io.ray.shm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Names of arena files and removal of files left by nodes that died without cleaning up.
 *
 * <p>An arena is {@code /dev/shm/rayjvm_<pid>_<tag>}; the pid is the node process that owns it, so
 * a file whose pid is no longer alive is garbage.
 */
public final class ArenaFiles {
  private ArenaFiles() {}

  public static final String PREFIX = "rayjvm_";

  /** Directory for arenas: /dev/shm when present (tmpfs), else the temp directory. */
  public static Path defaultDirectory() {
    Path shm = Paths.get("/dev/shm");
    return Files.isDirectory(shm) && Files.isWritable(shm)
        ? shm
        : Paths.get(System.getProperty("java.io.tmpdir"));
  }

  public static Path arenaPath(Path directory, long pid, String tag) {
    return directory.resolve(PREFIX + pid + "_" + tag);
  }

  /**
   * Deletes arena files in {@code directory} whose owning process is gone.
   *
   * @return the files deleted
   */
  public static List<Path> sweepStale(Path directory) throws IOException {
    List<Path> removed = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*")) {
      for (Path file : files) {
        long pid = ownerPid(file.getFileName().toString());
        if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        if (pid > 0 && Files.deleteIfExists(file)) {
          removed.add(file);
        }
      }
    }
    return removed;
  }

  /** The pid encoded in an arena file name, or -1 when the name is not an arena's. */
  static long ownerPid(String fileName) {
    if (!fileName.startsWith(PREFIX)) {
      return -1;
    }
    int end = fileName.indexOf('_', PREFIX.length());
    if (end < 0) {
      return -1;
    }
    try {
      return Long.parseLong(fileName.substring(PREFIX.length(), end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
