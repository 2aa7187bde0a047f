package io.ray.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles a program written as Ray's Java documentation writes them against this module's classes
 * (target/classes, never the test classes): it must compile unchanged.
 */
class SourceCompatibilityTest {

  @TempDir Path dir;

  /** ray-api's compiled main classes. */
  private static Path apiClasses() throws Exception {
    return Path.of(Ray.class.getProtectionDomain().getCodeSource().getLocation().toURI());
  }

  private List<Diagnostic<? extends JavaFileObject>> compile(String source) throws Exception {
    Path file = dir.resolve("src/demo/MyApp.java");
    Files.createDirectories(file.getParent());
    Files.writeString(file, source);
    Path out = Files.createDirectories(dir.resolve("out"));
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    assertNotNull(compiler, "the tests need a JDK");
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager files =
        compiler.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
      List<String> options =
          List.of(
              "--release",
              "17",
              "-proc:none",
              "-classpath",
              apiClasses().toString(),
              "-d",
              out.toString());
      boolean ok =
          compiler
              .getTask(null, files, diagnostics, options, null, files.getJavaFileObjects(file))
              .call();
      List<Diagnostic<? extends JavaFileObject>> errors =
          diagnostics.getDiagnostics().stream()
              .filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
              .collect(Collectors.toList());
      assertEquals(ok, errors.isEmpty());
      return errors;
    }
  }

  private static String program() throws IOException {
    try (InputStream in =
        SourceCompatibilityTest.class.getResourceAsStream("/source-compat/demo/MyApp.java")) {
      assertNotNull(in, "source-compat/demo/MyApp.java is missing from the test resources");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String describe(List<Diagnostic<? extends JavaFileObject>> errors) {
    return errors.stream()
        .map(d -> "line " + d.getLineNumber() + ": " + d.getMessage(null))
        .collect(Collectors.joining("\n"));
  }

  @Test
  void aDocumentationStyleProgramCompilesUnchanged() throws Exception {
    List<Diagnostic<? extends JavaFileObject>> errors = compile(program());
    assertTrue(errors.isEmpty(), describe(errors));
    assertTrue(Files.exists(dir.resolve("out/demo/MyApp.class")));
    assertTrue(Files.exists(dir.resolve("out/demo/MyApp$Counter.class")));
  }

  @Test
  void aMisuseOfTheApiDoesNotCompile() throws Exception {
    // Control: the compiler really checks the program against the API's types.
    String wrong =
        program()
            .replace(
                "Ray.task(MyApp::square, 3).remote();", "Ray.task(MyApp::square, \"3\").remote();");
    assertFalse(wrong.equals(program()));
    List<Diagnostic<? extends JavaFileObject>> errors = compile(wrong);
    assertFalse(errors.isEmpty(), "a String argument to square(int) must not compile");
  }
}
