package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * Switchboard's Centrifuge endpoint (Centrifuge client protocol v2, JSON, at {@code /connection/websocket}) for the
 * subscribers, as a centrifuge-js browser would speak it: {@code connect} with the token, {@code subscribe} (with
 * {@code recover, offset, epoch} on reconnect; recovered publications come in the answer), {@code {}} answered to
 * the server's ping. Publishers are a backend: they speak the native protocol on {@code /ws}, whose publish
 * answers carry the stored offset. Publication pushes are read by bytes.
 */
final class CentrifugeProtocol implements Protocol {
  static final byte[] PUSH_PREFIX = "{\"push\":".getBytes(StandardCharsets.US_ASCII);
  static final byte[] PUB = Frames.key("pub");

  @Override
  public String name() {
    return "centrifuge";
  }

  @Override
  public String path(String channel) {
    return channel == null ? "/ws" : "/connection/websocket";
  }

  @Override
  public Session session(Conn conn) {
    return conn.channel == null ? new NativeProtocol.NativeSession(conn) : new CentrifugeSession(conn);
  }

  @Override
  public boolean acksPublishes() {
    return true;
  }

  @Override
  public boolean recovers() {
    return true;
  }

  static final class CentrifugeSession extends Session {
    private Promise<JsonObject> connected;
    private Promise<JsonObject> subscribed;
    private long nextId = 10;

    CentrifugeSession(Conn conn) {
      super(conn);
    }

    @Override
    Future<JsonObject> start(boolean recover) {
      connected = Promise.promise();
      conn.send(new JsonObject().put("id", 1).put("connect", new JsonObject().put("token", conn.token).put("name", "loadtest")).encode());
      return connected.future().compose(c -> {
        JsonObject sub = new JsonObject().put("channel", conn.channel);
        if (recover && conn.epoch != null) sub.put("recover", true).put("offset", conn.lastSeq).put("epoch", conn.epoch);
        subscribed = Promise.promise();
        conn.send(new JsonObject().put("id", 2).put("subscribe", sub).encode());
        return subscribed.future().map(this::subscribed);
      });
    }

    private JsonObject subscribed(JsonObject r) {
      long offset = r.getLong("offset", 0L);
      JsonArray pubs = r.getJsonArray("publications", new JsonArray());
      if (r.getBoolean("recovered", false)) {
        conn.recoverHead = offset;
      } else if (r.containsKey("recovered")) {
        if (offset > conn.lastSeq) conn.worker.stats.gaps.add(offset - conn.lastSeq);
        conn.lastSeq = offset;
        conn.recoverHead = offset;
      } else {
        conn.lastSeq = offset;
      }
      conn.epoch = r.getString("epoch");
      // the recovered publications are in the answer: delivered right after it, as the native events would be
      if (!pubs.isEmpty()) {
        conn.context.runOnContext(v -> {
          long now = Clock.epochMicros();
          for (Object o : pubs) {
            JsonObject p = (JsonObject) o;
            JsonObject data = p.getJsonObject("data", new JsonObject());
            conn.delivered(data.getLong("_ts", now), p.getLong("offset", -1L), now);
          }
        });
      }
      return new JsonObject().put("offset", offset).put("recovered", r.getBoolean("recovered"));
    }

    @Override
    void onFrame(Buffer frame, long nowMicros) {
      if (frame.length() == 2) { // {}: the server's ping
        conn.send("{}");
        return;
      }
      if (Frames.startsWith(frame, PUSH_PREFIX)) {
        if (Frames.after(frame, PUB, 0) < 0) return; // join, leave, unsubscribe
        long offset = Frames.longValue(frame, Frames.OFFSET);
        conn.delivered(Frames.longValue(frame, Frames.TS), offset > 0 ? offset : -1, nowMicros);
        return;
      }
      JsonObject f;
      try {
        f = new JsonObject(frame);
      } catch (RuntimeException e) {
        return;
      }
      long id = f.getLong("id", 0L);
      JsonObject error = f.getJsonObject("error");
      Promise<JsonObject> p = id == 1 ? connected : id == 2 ? subscribed : null;
      if (p == null) {
        if (error != null) conn.worker.stats.publishError(String.valueOf(error.getValue("code")));
        return;
      }
      if (error != null) p.tryFail((id == 1 ? "connect" : "subscribe " + conn.channel) + " failed: " + error.encode());
      else p.tryComplete(f.getJsonObject(id == 1 ? "connect" : "subscribe", new JsonObject()));
    }

    /** Subscribers do not publish in the scenarios; a Centrifuge publish (unacknowledged here) for completeness. */
    @Override
    void publish(String channel, String data, long nowMicros) {
      conn.send("{\"id\":" + (nextId++) + ",\"publish\":{\"channel\":\"" + channel + "\",\"data\":" + data + "}}");
    }
  }
}
