package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Switchboard native protocol v1 (shared/design/protocol.md): {@code connect} with a token as the first frame,
 * {@code subscribe} (with {@code recover} on reconnect), {@code publish} requests answered with the stored
 * {@code offset}. Event frames are read by bytes; only responses are parsed as JSON.
 */
final class NativeProtocol implements Protocol {
  static final byte[] EVENT_PREFIX = "{\"type\":\"event\"".getBytes(StandardCharsets.US_ASCII);

  @Override
  public String name() {
    return "native";
  }

  @Override
  public String path(String channel) {
    return "/ws";
  }

  @Override
  public Session session(Conn conn) {
    return new NativeSession(conn);
  }

  @Override
  public boolean acksPublishes() {
    return true;
  }

  @Override
  public boolean recovers() {
    return true;
  }

  static final class NativeSession extends Session {
    /** Requests of the handshake, by id. */
    private final Map<String, Promise<JsonObject>> pending = new HashMap<>(4);
    /** A publish request waiting for its answer. */
    private record Sent(String channel, long micros) {}

    private final Map<Long, Sent> publishes = new HashMap<>();
    private long nextId = 1;

    NativeSession(Conn conn) {
      super(conn);
    }

    @Override
    Future<JsonObject> start(boolean recover) {
      JsonObject connect = new JsonObject().put("type", "request").put("id", "c").put("method", "connect")
          .put("params", new JsonObject().put("token", conn.token).put("name", "loadtest"));
      return request("c", connect).compose(r -> {
        if (conn.channel == null) return Future.succeededFuture(new JsonObject());
        Object entry = conn.channel;
        if (recover && conn.epoch != null) {
          entry = new JsonObject().put("channel", conn.channel)
              .put("recover", new JsonObject().put("offset", conn.lastSeq).put("epoch", conn.epoch));
        }
        JsonObject sub = new JsonObject().put("type", "subscribe").put("id", "s").put("channels", new JsonArray().add(entry));
        return request("s", sub).compose(this::subscribed);
      });
    }

    private Future<JsonObject> subscribed(JsonObject result) {
      JsonObject ch = result.getJsonArray("channels").getJsonObject(0);
      if (!ch.getBoolean("ok", false)) {
        return Future.failedFuture("subscribe " + conn.channel + " failed: " + ch.getJsonObject("error"));
      }
      long offset = ch.getLong("offset", 0L);
      if (ch.getBoolean("recovered", false)) {
        // recovered publications follow as events; recovery is complete once the head given here is reached
        conn.recoverHead = offset;
      } else if (ch.containsKey("recovered")) {
        // the position is gone: everything up to the head is missed
        if (offset > conn.lastSeq) conn.worker.stats.gaps.add(offset - conn.lastSeq);
        conn.lastSeq = offset;
        conn.recoverHead = offset;
      } else {
        conn.lastSeq = offset;
      }
      conn.epoch = ch.getString("epoch");
      return Future.succeededFuture(ch);
    }

    private Future<JsonObject> request(String id, JsonObject frame) {
      Promise<JsonObject> p = Promise.promise();
      pending.put(id, p);
      conn.send(frame.encode());
      return p.future();
    }

    @Override
    void onFrame(Buffer frame, long nowMicros) {
      if (Frames.startsWith(frame, EVENT_PREFIX)) {
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
      String type = f.getString("type", "");
      if (type.equals("response")) {
        response(f, nowMicros);
      } else if (type.equals("disconnect")) {
        conn.worker.log("server disconnect: " + f.encode());
      }
    }

    private void response(JsonObject f, long nowMicros) {
      String id = f.getString("id", "");
      Promise<JsonObject> p = pending.remove(id);
      if (p != null) {
        JsonObject error = f.getJsonObject("error");
        if (error != null) p.fail(id.equals("c") ? "connect failed: " + error.encode() : error.encode());
        else p.complete(f.getJsonObject("result", new JsonObject()));
        return;
      }
      Sent sent;
      try {
        sent = publishes.remove(Long.parseLong(id));
      } catch (NumberFormatException e) {
        return;
      }
      if (sent == null) return;
      JsonObject error = f.getJsonObject("error");
      if (error != null) {
        conn.worker.stats.publishError(error.getString("code", "unknown"));
        return;
      }
      conn.worker.stats.acked(nowMicros - sent.micros());
      conn.worker.storedAt(sent.channel(), f.getJsonObject("result", new JsonObject()).getLong("offset", 0L));
    }

    @Override
    void publish(String channel, String data, long nowMicros) {
      long id = nextId++;
      String frame = "{\"type\":\"request\",\"id\":\"" + id + "\",\"method\":\"publish\",\"params\":{\"channel\":\""
          + channel + "\",\"event\":\"lt\",\"data\":" + data + "}}";
      publishes.put(id, new Sent(channel, nowMicros));
      conn.send(frame);
    }

    @Override
    int inFlight() {
      return publishes.size();
    }
  }
}
