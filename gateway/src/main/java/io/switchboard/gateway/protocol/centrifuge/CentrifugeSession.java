package io.switchboard.gateway.protocol.centrifuge;

import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** What the Centrifuge dialect keeps per session (in {@code Session.dialectState}); confined to the session's loop. */
final class CentrifugeSession {
  /** The options a client subscription negotiated, by scoped channel name (client-side subscriptions only). */
  final Map<String, Sub> subs = new HashMap<>(4);
  /** A server ping ({@code {}}) was sent and its pong has not come. */
  boolean pingOutstanding;
  /** Commands that arrived while connect was being verified, replayed in order once it is done. */
  List<JsonObject> waiting;
  /** On an emulation transport: where this session's {@code /emulation} requests arrive. */
  MessageConsumer<String> emulationInbox;

  static final class Sub {
    final boolean delta;
    final boolean joinLeave;
    /** Offset and epoch of the last publication this subscription was sent; -1 = none since it subscribed. */
    long lastOffset = -1;
    String lastEpoch;

    Sub(boolean delta, boolean joinLeave) {
      this.delta = delta;
      this.joinLeave = joinLeave;
    }
  }

  void hold(JsonObject command) {
    if (waiting == null) waiting = new ArrayList<>(2);
    waiting.add(command);
  }

  List<JsonObject> takeWaiting() {
    List<JsonObject> w = waiting;
    waiting = null;
    return w == null ? List.of() : w;
  }
}
