package io.ray.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Arena file naming and the sweep that removes arenas of nodes that died. */
class ArenaFilesTest {

  @Test
  void ownerPidIsParsedFromArenaNames() {
    assertEquals(123, ArenaFiles.ownerPid("rayjvm_123_x"));
    assertEquals(4194304, ArenaFiles.ownerPid("rayjvm_4194304_node_abc"));
    assertEquals(7, ArenaFiles.ownerPid("rayjvm_7_"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "rayjvm_abc_x",
        "rayjvm_123",
        "rayjvm__x",
        "rayjvm_",
        "other_123_x",
        "RAYJVM_123_x",
        "",
        "xrayjvm_123_x",
        "rayjvm_12a_x"
      })
  void namesThatAreNotArenasHaveNoOwner(String name) {
    assertEquals(-1, ArenaFiles.ownerPid(name));
  }

  @Test
  void arenaPathRoundTripsThroughOwnerPid(@TempDir Path dir) {
    Path p = ArenaFiles.arenaPath(dir, 4242, "node1");
    assertEquals(dir, p.getParent());
    assertEquals("rayjvm_4242_node1", p.getFileName().toString());
    assertEquals(4242, ArenaFiles.ownerPid(p.getFileName().toString()));
  }

  @Test
  void sweepDeletesArenasOfDeadProcessesOnly(@TempDir Path dir)
      throws IOException, InterruptedException {
    Process shortLived = new ProcessBuilder("true").start();
    assertTrue(shortLived.waitFor(10, TimeUnit.SECONDS), "'true' did not exit");
    long deadPid = shortLived.pid();
    // The pid could in theory be reused already; then this run cannot test anything.
    assumeFalse(ProcessHandle.of(deadPid).map(ProcessHandle::isAlive).orElse(false));
    long ownPid = ProcessHandle.current().pid();

    Path dead = Files.createFile(dir.resolve("rayjvm_" + deadPid + "_x"));
    Path deadOther = Files.createFile(dir.resolve("rayjvm_" + deadPid + "_other_tag"));
    Path own = Files.createFile(dir.resolve("rayjvm_" + ownPid + "_x"));
    Path unrelated = Files.createFile(dir.resolve("notes.txt"));
    Path noPid = Files.createFile(dir.resolve("rayjvm_garbage"));
    Path badPid = Files.createFile(dir.resolve("rayjvm_abc_x"));
    Path deadNoTag = Files.createFile(dir.resolve("rayjvm_" + deadPid));

    List<Path> removed = ArenaFiles.sweepStale(dir);

    assertEquals(2, removed.size(), "removed: " + removed);
    assertTrue(removed.containsAll(List.of(dead, deadOther)));
    assertFalse(Files.exists(dead));
    assertFalse(Files.exists(deadOther));
    for (Path kept : List.of(own, unrelated, noPid, badPid, deadNoTag)) {
      assertTrue(Files.exists(kept), kept + " must be kept");
    }
  }

  @Test
  void sweepOfADirectoryWithoutArenasRemovesNothing(@TempDir Path dir) throws IOException {
    Path unrelated = Files.createFile(dir.resolve("something_else"));
    assertEquals(List.of(), ArenaFiles.sweepStale(dir));
    assertTrue(Files.exists(unrelated));
  }
}
