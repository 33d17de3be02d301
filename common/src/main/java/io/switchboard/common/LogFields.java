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

  private LogFields(Map<String, Object> fields) {
    this.fields = Collections.unmodifiableMap(fields);
  }

  /** Pairs of name, value; null values are left out. */
  public static LogFields of(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) throw new IllegalArgumentException("LogFields.of needs name, value pairs");
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (namesAndValues[i + 1] != null) m.put(String.valueOf(namesAndValues[i]), namesAndValues[i + 1]);
    }
    return new LogFields(m);
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
