package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.LogFields;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Log lines as text and as JSON, from the real jar's main; and no warning at start-up. */
class LoggingTest {
  private static final String BLOCKED_THREAD_CHECKER = "io.vertx.core.impl.BlockedThreadChecker";
  @TempDir
  Path dir;

  @Test
  void jsonLineCarriesFieldsAndTextAppendsThem() {
    LogRecord r = new LogRecord(Level.WARNING, "could not backfill after offset 7");
    r.setLoggerName("io.switchboard.gateway.ChannelHub");
    r.setParameters(new Object[] {LogFields.of(LogFields.CHANNEL, "task:42", LogFields.CONNECTION, "c1", LogFields.SUBJECT, null)});
    r.setThrown(new IllegalStateException("store down"));
    String line = Logging.format(r, true, "loop-1");
    assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, "one line: " + line);
    JsonObject o = new JsonObject(line);
    assertEquals("WARN", o.getString("level"));
    assertEquals("io.switchboard.gateway.ChannelHub", o.getString("logger"));
    assertEquals("could not backfill after offset 7", o.getString("msg"));
    assertEquals("task:42", o.getString("channel"));
    assertEquals("c1", o.getString("connection"));
    assertFalse(o.containsKey("subject"));
    assertEquals("loop-1", o.getString("thread"));
    assertTrue(o.getString("error").startsWith("java.lang.IllegalStateException: store down"));
    assertTrue(o.getString("node") != null && o.getString("ts").endsWith("Z"));

    String text = Logging.format(r, false, "loop-1");
    assertTrue(text.contains(" [loop-1] WARN io.switchboard.gateway.ChannelHub - could not backfill after offset 7 channel=task:42 connection=c1\n"), text);
    assertTrue(text.contains("java.lang.IllegalStateException: store down"), text);
  }

  /** System.Logger has no call with both an exception and parameters: the exception travels in the fields. */
  @Test
  void anExceptionInTheFieldsIsPrintedLikeAThrownOne() {
    LogRecord r = new LogRecord(Level.SEVERE, "native request failed");
    r.setLoggerName("io.switchboard.gateway.protocol.nativev1.NativeDialect");
    r.setParameters(new Object[] {LogFields.of(LogFields.CONNECTION, "c9", LogFields.SUBJECT, "agent-7").with("method", "publish")
        .error(new IllegalStateException("bug"))});
    JsonObject o = new JsonObject(Logging.format(r, true, "loop-2"));
    assertEquals("ERROR", o.getString("level"));
    assertEquals("c9", o.getString("connection"));
    assertEquals("agent-7", o.getString("subject"));
    assertEquals("publish", o.getString("method"));
    assertTrue(o.getString("error").startsWith("java.lang.IllegalStateException: bug"), o.encode());
    String text = Logging.format(r, false, "loop-2");
    assertTrue(text.contains("native request failed connection=c9 subject=agent-7 method=publish\njava.lang.IllegalStateException: bug"), text);
  }

  @Test
  void onlyVertxsOwnRepeatedGaugesAreDropped() {
    LogRecord vertx = new LogRecord(Level.WARNING, "This Gauge has been already registered (MeterId{name='vertx.eventbus.handlers', tags=[]}), the registration will be ignored.");
    vertx.setLoggerName("io.micrometer.core.instrument.MeterRegistry");
    assertTrue(Logging.expected(vertx));
    LogRecord ours = new LogRecord(Level.WARNING, "This Gauge has been already registered (MeterId{name='switchboard.connections', tags=[]}), the registration will be ignored.");
    ours.setLoggerName("io.micrometer.core.instrument.MeterRegistry");
    assertFalse(Logging.expected(ours));
  }

  /** Starts the jar's main as a user would (no arguments) and returns its standard error once it is ready. */
  private String startAndStop(String format) throws Exception {
    int ops = Ports.free();
    Path err = dir.resolve(format + ".err");
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName())
        .redirectError(err.toFile()).redirectOutput(dir.resolve(format + ".out").toFile());
    pb.environment().put("SWITCHBOARD_LOGGING_FORMAT", format);
    pb.environment().put("SWITCHBOARD_ADMIN_KEY", "logging-test-key");
    pb.environment().put("SWITCHBOARD_GATEWAY_PORT", Integer.toString(Ports.free()));
    pb.environment().put("SWITCHBOARD_GATEWAY_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_AUTH_PORT", Integer.toString(Ports.free()));
    pb.environment().put("SWITCHBOARD_AUTH_HOST", "127.0.0.1");
    pb.environment().put("SWITCHBOARD_OPERATIONS_PORT", Integer.toString(ops));
    pb.environment().put("SWITCHBOARD_OPERATIONS_HOST", "127.0.0.1");
    Process p = pb.start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      Await.until("server ready", Duration.ofSeconds(90), () -> {
        if (!p.isAlive()) throw new AssertionError("server exited: " + read(err));
        try {
          return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ops + "/health/ready")).build(),
              HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (java.io.IOException e) {
          return false;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError(e);
        }
      });
      // the banner comes after every service started: everything start-up logs is written by then
      Await.until("banner", () -> read(dir.resolve(format + ".out")).contains("Switchboard started"));
    } finally {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly();
    }
    return read(err);
  }

  private static String read(Path f) {
    try {
      return Files.exists(f) ? Files.readString(f) : "";
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void jsonFormatStartsWithOneJsonObjectPerLineAndNoWarning() throws Exception {
    String err = startAndStop("json");
    List<JsonObject> lines = new ArrayList<>();
    for (String line : err.split("\n")) {
      if (line.isBlank()) continue;
      JsonObject o;
      try {
        o = new JsonObject(line);
      } catch (RuntimeException e) {
        throw new AssertionError("not a JSON line: " + line + "\nall:\n" + err);
      }
      for (String k : List.of("ts", "level", "logger", "node", "msg")) assertTrue(o.containsKey(k), k + " missing in " + line);
      lines.add(o);
    }
    assertTrue(lines.stream().anyMatch(o -> o.getString("msg").startsWith("auth: listening on 127.0.0.1:")), err);
    assertFalse(err.contains("already registered"), err);
    // (the blocked-thread checker may speak on a loaded machine: that is the machine, not the start-up)
    assertFalse(lines.stream().anyMatch(o -> (o.getString("level").equals("WARN") || o.getString("level").equals("ERROR"))
        && !o.getString("logger").equals(BLOCKED_THREAD_CHECKER)), "a clean start logs no warning:\n" + err);
  }

  @Test
  void textFormatStartsWithoutTheGaugeWarning() throws Exception {
    String err = startAndStop("text");
    assertTrue(err.contains("] INFO io.switchboard.auth.AuthVerticle - auth: listening on 127.0.0.1:"), err);
    assertFalse(err.contains("already registered"), err);
    assertFalse(err.lines().anyMatch(l -> (l.contains("] WARN ") || l.contains("] ERROR ")) && !l.contains(BLOCKED_THREAD_CHECKER)),
        "a clean start logs no warning:\n" + err);
  }
}
