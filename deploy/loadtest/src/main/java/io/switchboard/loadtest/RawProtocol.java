package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * The raw broadcast server of this module ({@link RawServer}): no auth, no store, no protocol. A subscriber
 * connects to {@code /sub?channel=C} and is told {@code ok} once registered; a publisher connects to {@code /pub}
 * and sends {@code C|data} frames, which the server writes unchanged to every subscriber of C.
 */
final class RawProtocol implements Protocol {
  @Override
  public String name() {
    return "raw";
  }

  @Override
  public String path(String channel) {
    return channel == null ? "/pub" : "/sub?channel=" + channel;
  }

  @Override
  public Session session(Conn conn) {
    return new Session(conn) {
      private Promise<JsonObject> registered;

      @Override
      Future<JsonObject> start(boolean recover) {
        if (conn.channel == null) return Future.succeededFuture(new JsonObject());
        registered = Promise.promise();
        return registered.future();
      }

      @Override
      void onFrame(Buffer frame, long nowMicros) {
        if (registered != null) {
          // the first frame is the server's "ok": the subscriber is in the channel's list
          Promise<JsonObject> p = registered;
          registered = null;
          p.complete(new JsonObject());
          return;
        }
        conn.delivered(Frames.longValue(frame, Frames.TS), Frames.longValue(frame, Frames.SEQ), nowMicros);
      }

      @Override
      void publish(String channel, String data, long nowMicros) {
        conn.send(channel + "|" + data);
      }
    };
  }

  @Override
  public boolean acksPublishes() {
    return false;
  }

  @Override
  public boolean recovers() {
    return false;
  }
}
