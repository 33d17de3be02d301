package io.switchboard.common;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Structured fields of one log event (connection, subject, channel …), passed as a parameter of a
 * {@link System.Logger} call so the message stays plain text:
 *
 * <pre>LOG.log(Level.WARNING, "could not backfill after offset " + from, LogFields.of("channel", name));</pre>
 *
 * <p>With {@code logging.format: json} each field becomes a property of the line's JSON object; the text format
 * appends them as {@code key=value}. Without a formatter that knows them (plain JUL), they are ignored.
 */
public final class LogFields {
  /** The field names the log formats document; others are allowed. */
  public static final String CONNECTION = "connection";
  public static final String SUBJECT = "subject";
  public static final String CHANNEL = "channel";

  private final Map<String, Object> fields;
  private final Throwable thrown;

  private LogFields(Map<String, Object> fields, Throwable thrown) {
    this.fields = Collections.unmodifiableMap(fields);
    this.thrown = thrown;
  }

  /** Pairs of name, value; null values are left out. */
  public static LogFields of(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException("LogFields.of needs name, value pairs");
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (namesAndValues[i + 1] != null) m.put(String.valueOf(namesAndValues[i]), namesAndValues[i + 1]);
    }
    return new LogFields(m, null);
  }

  /**
   * The same fields with the exception of the event: {@link System.Logger} has no call taking both a throwable and
   * parameters, so it travels here and the log formats print its stack trace as they print a thrown one.
   */
  public LogFields error(Throwable t) {
    return new LogFields(fields, t);
  }

  /** These fields and more (pairs of name, value; null values left out). */
  public LogFields with(Object... namesAndValues) {
    Map<String, Object> m = new LinkedHashMap<>(fields);
    m.putAll(of(namesAndValues).fields);
    return new LogFields(m, thrown);
  }

  /** The exception of the event, or null. */
  public Throwable thrown() {
    return thrown;
  }

  public Map<String, Object> asMap() {
    return fields;
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    fields.forEach((k, v) -> b.append(b.length() == 0 ? "" : " ").append(k).append('=').append(v));
    return b.toString();
  }
}
