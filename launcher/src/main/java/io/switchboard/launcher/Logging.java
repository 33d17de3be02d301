package io.switchboard.launcher;

import io.switchboard.common.LogFields;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The JVM's logs, one event per line on standard error, as text or as JSON ({@code logging.format}).
 *
 * <p>Every log of the process ends in java.util.logging: the project's own {@link System.Logger} calls (the JDK
 * routes them there), and SLF4J (Vert.x, Netty, Hazelcast, Micrometer) through the slf4j-jdk14 binding. One handler
 * on the root logger formats them all. Each line names the {@code node} (the cluster node id when clustered, else
 * the host name); a {@link LogFields} parameter of the call, or SLF4J's MDC, adds {@code connection},
 * {@code subject}, {@code channel}.
 *
 * <p>Levels come from {@code simplelogger.properties} in the jar and the {@code org.slf4j.simpleLogger.*} system
 * properties, as with the SLF4J simple binding used before (so {@code -Dorg.slf4j.simpleLogger.log.NAME=info}
 * still works).
 */
final class Logging {
  private Logging() {}

  static final String LEVELS_RESOURCE = "/simplelogger.properties";
  private static final String LOG_PREFIX = "org.slf4j.simpleLogger.log.";
  private static final DateTimeFormatter TEXT_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneId.systemDefault());

  /** JUL keeps loggers weakly: the ones given a level are held here so their level is not lost. */
  private static final List<Logger> configured = new ArrayList<>();
  private static LineHandler handler;
  private static volatile String node = hostName();

  /**
   * Installs the handler for {@code format} (text or json). Once per JVM: several Switchboards in one JVM (tests)
   * share it, and a later call only changes the format.
   */
  static synchronized void configure(String format) {
    boolean json = "json".equals(format);
    if (handler != null) {
      handler.json = json;
      return;
    }
    LogManager.getLogManager().reset();
    Logger root = Logger.getLogger("");
    Properties levels = levels();
    root.setLevel(julLevel(levels.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "info")));
    for (String name : levels.stringPropertyNames()) {
      if (!name.startsWith(LOG_PREFIX)) continue;
      Logger l = Logger.getLogger(name.substring(LOG_PREFIX.length()));
      l.setLevel(julLevel(levels.getProperty(name)));
      configured.add(l);
    }
    handler = new LineHandler(System.err, json);
    root.addHandler(handler);
  }

  /** The node id every line carries, once it is known (the cluster's id for this JVM). */
  static void node(String id) {
    node = id;
  }

  /** The jar's level table, overridden by system properties of the same names. */
  private static Properties levels() {
    Properties p = new Properties();
    try (InputStream in = Logging.class.getResourceAsStream(LEVELS_RESOURCE)) {
      if (in != null) p.load(in);
    } catch (IOException e) {
      // no table: everything at info
    }
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith("org.slf4j.simpleLogger.")) p.setProperty(name, System.getProperty(name));
    }
    return p;
  }

  static Level julLevel(String name) {
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "trace" -> Level.FINEST;
      case "debug" -> Level.FINE;
      case "warn" -> Level.WARNING;
      case "error" -> Level.SEVERE;
      case "off" -> Level.OFF;
      default -> Level.INFO;
    };
  }

  static String levelName(Level l) {
    int v = l.intValue();
    if (v >= Level.SEVERE.intValue()) return "ERROR";
    if (v >= Level.WARNING.intValue()) return "WARN";
    if (v >= Level.INFO.intValue()) return "INFO";
    if (v >= Level.FINE.intValue()) return "DEBUG";
    return "TRACE";
  }

  /**
   * Micrometer (1.13.9+) warns when a gauge is registered twice; Vert.x's Micrometer metrics register their shared
   * gauges (vertx.eventbus.handlers for every event-bus consumer, pool and socket gauges per connection) on every
   * use and keep one value per gauge themselves, so their repeats are by design and nothing is lost
   * (vert-x3/vertx-micrometer-metrics#259). Only those are dropped: a repeat of one of OUR gauges still warns.
   */
  static boolean expected(LogRecord r) {
    String m = r.getMessage();
    return "io.micrometer.core.instrument.MeterRegistry".equals(r.getLoggerName()) && m != null
        && m.contains("has been already registered") && m.contains("name='vertx.");
  }

  /** One line for a record: JSON or text. */
  static String format(LogRecord r, boolean json, String thread) {
    String message = MESSAGE.formatMessage(r);
    Map<String, Object> fields = new java.util.LinkedHashMap<>();
    Map<String, String> mdc = org.slf4j.MDC.getCopyOfContextMap();
    if (mdc != null) fields.putAll(mdc);
    Throwable thrown = r.getThrown();
    if (r.getParameters() != null) {
      for (Object p : r.getParameters()) {
        if (p instanceof LogFields f) {
          fields.putAll(f.asMap());
          if (thrown == null) thrown = f.thrown();
        }
      }
    }
    String error = null;
    if (thrown != null) {
      StringWriter w = new StringWriter();
      thrown.printStackTrace(new PrintWriter(w));
      error = w.toString().stripTrailing();
    }
    if (json) {
      JsonObject o = new JsonObject()
          .put("ts", Instant.ofEpochMilli(r.getMillis()).toString())
          .put("level", levelName(r.getLevel()))
          .put("logger", r.getLoggerName())
          .put("thread", thread)
          .put("node", node)
          .put("msg", message);
      fields.forEach((k, v) -> o.put(k, v instanceof Number || v instanceof Boolean ? v : String.valueOf(v)));
      if (error != null) o.put("error", error);
      return o.encode() + "\n";
    }
    StringBuilder b = new StringBuilder();
    b.append(TEXT_TIME.format(Instant.ofEpochMilli(r.getMillis()))).append(" [").append(thread).append("] ")
        .append(levelName(r.getLevel())).append(' ').append(r.getLoggerName()).append(" - ").append(message);
    fields.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
    b.append('\n');
    if (error != null) b.append(error).append('\n');
    return b.toString();
  }

  /** Only for its message formatting (MessageFormat parameters, resource bundles), as JUL does it. */
  private static final Formatter MESSAGE = new Formatter() {
    @Override
    public String format(LogRecord record) {
      return formatMessage(record);
    }
  };

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** Writes each record as one line (json) or one line plus a stack trace (text), whole lines at a time. */
  static final class LineHandler extends Handler {
    private final PrintStream out;
    volatile boolean json;

    LineHandler(PrintStream out, boolean json) {
      this.out = out;
      this.json = json;
    }

    @Override
    public void publish(LogRecord r) {
      if (!isLoggable(r) || expected(r)) return;
      String line;
      try {
        line = format(r, json, Thread.currentThread().getName());
      } catch (RuntimeException e) {
        line = "log record of " + r.getLoggerName() + " could not be formatted: " + e + "\n";
      }
      synchronized (out) {
        out.print(line);
        out.flush();
      }
    }

    @Override
    public void flush() {
      out.flush();
    }

    @Override
    public void close() {
      flush();
    }
  }
}
