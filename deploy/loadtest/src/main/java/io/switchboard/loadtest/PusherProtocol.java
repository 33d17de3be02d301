package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pusher Channels protocol 7, spoken to any Pusher-compatible server (Switchboard's {@code /app/{key}}, Soketi).
 * A client opens {@code /app/{key}?protocol=7}, waits for {@code pusher:connection_established}, subscribes with
 * {@code pusher:subscribe} and is live at {@code pusher_internal:subscription_succeeded}; events carry their data
 * as a JSON string (the payload's fields appear escaped: {@code \"_ts\":…}). Server {@code pusher:ping}s are
 * answered with {@code pusher:pong}, as pusher-js does.
 *
 * <p>Publishing goes through the Pusher HTTP API, as an app server with the {@code pusher} library would:
 * {@code POST /apps/{id}/events} signed with the app secret (auth_key, auth_timestamp, auth_version, body_md5,
 * HMAC-SHA256 auth_signature over method, path and sorted query). Client events ({@code client-*}) are not used:
 * they only exist on private and presence channels and are rate-limited per connection on every server. The
 * HTTP request goes to the WebSocket port (both servers serve the API there); a publish is "in flight" until its
 * answer, and a non-2xx answer counts as a publish error named {@code http-<status>}.
 */
final class PusherProtocol implements Protocol {
  static final byte[] EVENT_LT = "\"event\":\"lt\"".getBytes(StandardCharsets.US_ASCII);
  /** The payload's fields inside the data string: {@code \"_ts\":} and {@code \"_s\":}. */
  static final byte[] TS = escapedKey("_ts");
  static final byte[] SEQ = escapedKey("_s");

  final String appId;
  final String key;
  final String secret;

  PusherProtocol(String appId, String key, String secret) {
    this.appId = appId;
    this.key = key;
    this.secret = secret;
  }

  static PusherProtocol of(JsonObject options) {
    return new PusherProtocol(options.getString("appId"), options.getString("key"), options.getString("secret"));
  }

  static byte[] escapedKey(String name) {
    return ("\\\"" + name + "\\\":").getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public String name() {
    return "pusher";
  }

  @Override
  public JsonObject options() {
    return new JsonObject().put("appId", appId).put("key", key).put("secret", secret);
  }

  @Override
  public String channelPrefix() {
    // Pusher channel names allow [A-Za-z0-9_\-=@,.;] only: no namespace colon
    return "bench-";
  }

  @Override
  public String path(String channel) {
    return "/app/" + key + "?protocol=7&client=switchboard-loadtest&version=1.0";
  }

  @Override
  public Session session(Conn conn) {
    return new PusherSession(conn, this);
  }

  @Override
  public boolean acksPublishes() {
    return false;
  }

  @Override
  public boolean recovers() {
    return false;
  }

  @Override
  public boolean ordered() {
    return false;
  }

  /** The signed query of {@code POST path} with {@code body}, at {@code timestamp} (seconds). */
  static String signedQuery(String key, Mac mac, String path, byte[] body, long timestamp) {
    String query = "auth_key=" + key + "&auth_timestamp=" + timestamp + "&auth_version=1.0&body_md5=" + md5Hex(body);
    String signature = HexFormat.of().formatHex(mac.doFinal(("POST\n" + path + "\n" + query).getBytes(StandardCharsets.UTF_8)));
    return query + "&auth_signature=" + signature;
  }

  static Mac mac(String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  static String md5Hex(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("MD5 unavailable", e);
    }
  }

  /** {@code {"name":event,"channels":[channel],"data":"<data as a JSON string>"}}; data has no backslashes. */
  static String triggerBody(String event, String channel, String data) {
    return "{\"name\":\"" + event + "\",\"channels\":[\"" + channel + "\"],\"data\":\"" + data.replace("\"", "\\\"") + "\"}";
  }

  static final class PusherSession extends Session {
    private final PusherProtocol p;
    private final Promise<JsonObject> established = Promise.promise();
    private Promise<JsonObject> subscribed;
    private Mac mac;
    private int inFlight;

    PusherSession(Conn conn, PusherProtocol p) {
      super(conn);
      this.p = p;
    }

    @Override
    Future<JsonObject> start(boolean recover) {
      return established.future().compose(socket -> {
        if (conn.channel == null) return Future.succeededFuture(socket);
        subscribed = Promise.promise();
        conn.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"" + conn.channel + "\"}}");
        return subscribed.future();
      });
    }

    @Override
    void onFrame(Buffer frame, long nowMicros) {
      if (Frames.after(frame, EVENT_LT, 0) >= 0) {
        conn.delivered(Frames.longValue(frame, TS), Frames.longValue(frame, SEQ), nowMicros);
        return;
      }
      JsonObject f;
      try {
        f = new JsonObject(frame);
      } catch (RuntimeException e) {
        return;
      }
      switch (f.getString("event", "")) {
        case "pusher:connection_established" -> {
          Object d = f.getValue("data");
          JsonObject data = d instanceof String s ? new JsonObject(s) : d instanceof JsonObject o ? o : new JsonObject();
          established.tryComplete(new JsonObject().put("socketId", data.getString("socket_id")));
        }
        case "pusher_internal:subscription_succeeded" -> {
          if (subscribed != null && conn.channel.equals(f.getString("channel"))) subscribed.tryComplete(new JsonObject());
        }
        case "pusher:subscription_error" -> {
          if (subscribed != null) subscribed.tryFail("subscribe " + conn.channel + " failed: " + f.encode());
        }
        case "pusher:ping" -> conn.send("{\"event\":\"pusher:pong\",\"data\":{}}");
        case "pusher:error" -> {
          established.tryFail("pusher:error " + f.getValue("data"));
          conn.worker.log("pusher:error: " + f.encode());
        }
        default -> { }
      }
    }

    @Override
    void publish(String channel, String data, long nowMicros) {
      if (mac == null) mac = mac(p.secret);
      String path = "/apps/" + p.appId + "/events";
      byte[] body = triggerBody("lt", channel, data).getBytes(StandardCharsets.UTF_8);
      String uri = path + "?" + signedQuery(p.key, mac, path, body, System.currentTimeMillis() / 1000);
      HttpClient http = conn.worker.http();
      inFlight++;
      http.request(HttpMethod.POST, conn.port, conn.host, uri)
          .compose(req -> req.putHeader("content-type", "application/json").send(Buffer.buffer(body)))
          .compose(resp -> resp.body().map(b -> resp.statusCode()))
          .onComplete(ar -> {
            inFlight--;
            if (ar.failed()) conn.worker.stats.publishError("http-failed");
            else if (ar.result() / 100 != 2) conn.worker.stats.publishError("http-" + ar.result());
          });
    }

    @Override
    int inFlight() {
      return inFlight;
    }
  }
}
