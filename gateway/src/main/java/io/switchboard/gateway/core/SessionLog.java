package io.switchboard.gateway.core;

import io.switchboard.common.LogFields;

/**
 * The log fields of a session ({@code connection}, {@code subject}, and {@code app} when not the default), so every
 * gateway line about a connection can be found by them in {@code logging.format: json}.
 */
public final class SessionLog {
  private SessionLog() {}

  /** The session's fields, then more pairs of name, value. */
  public static LogFields of(Session s, Object... more) {
    LogFields f = LogFields.of(LogFields.CONNECTION, s.id, LogFields.SUBJECT, s.subject(), "app", s.app.isDefault() ? null : s.app.id());
    return more.length == 0 ? f : f.with(more);
  }
}
