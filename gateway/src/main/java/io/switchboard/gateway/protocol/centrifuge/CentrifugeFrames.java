package io.switchboard.gateway.protocol.centrifuge;

import io.netty.buffer.ByteBuf;
import io.switchboard.common.Publication;
import io.switchboard.common.ServiceError;
import io.switchboard.common.App;
import io.switchboard.gateway.transport.Encoded;
import io.switchboard.gateway.transport.Framing;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;

/**
 * Server → client messages of Centrifuge protocol v2 in JSON: replies {@code {id, <method>: result}} or
 * {@code {id, error}}, and pushes {@code {push: {channel, pub|join|leave|unsubscribe…}}}.
 *
 * <p>A Switchboard publication is a Centrifuge publication: {@code data} is its data as raw JSON, {@code offset} its
 * offset, {@code info} its source ({@code user} = the source id stamped by the server), {@code tags} its event name
 * under {@code event} plus each of its tags as a key with an empty value.
 */
final class CentrifugeFrames {
  /** The plain encoding: data as raw JSON. */
  static final int PLAIN = 0;
  /** On a delta subscription, a full publication: data as a JSON string of its JSON text. */
  static final int FULL_STRING = 1;
  /** On a delta subscription, a fossil delta against the channel's previous publication, as a JSON string. */
  static final int DELTA = 2;

  private CentrifugeFrames() {}

  static ByteBuf payload(JsonObject frame) {
    return ((BufferInternal) frame.toBuffer()).getByteBuf();
  }

  /** The JSON text of a publication's data, as UTF-8: what fossil deltas are computed on. */
  static byte[] dataBytes(Publication p) {
    return jsonText(p.data()).getBytes(StandardCharsets.UTF_8);
  }

  static String jsonText(Object data) {
    if (data instanceof JsonObject o) return o.encode();
    if (data instanceof JsonArray a) return a.encode();
    return Json.encode(data);
  }

  // --- replies ------------------------------------------------------------------------------------

  static JsonObject reply(long id, String method, JsonObject result) {
    return new JsonObject().put("id", id).put(method, result);
  }

  static JsonObject error(long id, int code, String message, boolean temporary) {
    JsonObject e = new JsonObject().put("code", code).put("message", message);
    if (temporary) e.put("temporary", true);
    return new JsonObject().put("id", id).put("error", e);
  }

  static JsonObject error(long id, ServiceError e) {
    return error(id, CentrifugeCodes.error(e), e.getMessage(), CentrifugeCodes.temporary(e.code()));
  }

  // --- publications -------------------------------------------------------------------------------

  /** A publication as Centrifuge shows it (in a pub push, a subscribe or history answer). */
  static JsonObject publication(Publication p, int variant, byte[] delta) {
    JsonObject pub = new JsonObject();
    switch (variant) {
      case DELTA -> pub.put("data", new String(delta, StandardCharsets.UTF_8)).put("delta", true);
      case FULL_STRING -> pub.put("data", jsonText(p.data()));
      default -> pub.put("data", p.data());
    }
    if (p.offset() > 0) pub.put("offset", p.offset());
    if (p.sourceId() != null) pub.put("info", new JsonObject().put("user", p.sourceId()).put("client", ""));
    JsonObject tags = new JsonObject();
    for (String t : p.tags()) tags.put(t, "");
    if (p.event() != null) tags.put("event", p.event());
    if (!tags.isEmpty()) pub.put("tags", tags);
    return pub;
  }

  static JsonArray publications(Iterable<Publication> pubs, int variant) {
    JsonArray a = new JsonArray();
    for (Publication p : pubs) a.add(publication(p, variant, null));
    return a;
  }

  static ByteBuf pubPush(Publication p, int variant, byte[] delta) {
    return push(p.channel(), "pub", publication(p, variant, delta));
  }

  /** A presence event as a join or leave push; null for the events Centrifuge has no push for. */
  static ByteBuf presencePush(Publication p) {
    String kind = switch (p.event()) {
      case "presence.join" -> "join";
      case "presence.leave", "presence.timeout" -> "leave";
      default -> null;
    };
    if (kind == null || !(p.data() instanceof JsonObject member)) return null;
    return push(p.channel(), kind, new JsonObject().put("info", clientInfo(member)));
  }

  /** Centrifuge's ClientInfo of a presence member {client, subject, info}. */
  static JsonObject clientInfo(JsonObject member) {
    JsonObject info = new JsonObject().put("user", member.getString("subject", "")).put("client", member.getString("client", ""));
    Object connInfo = member.getValue("info");
    // Centrifuge leaves out empty values: a token without info has no conn_info
    if (connInfo != null && !(connInfo instanceof JsonObject o && o.isEmpty())) info.put("conn_info", connInfo);
    return info;
  }

  static ByteBuf unsubscribePush(String channel, int code, String reason) {
    return push(channel, "unsubscribe", new JsonObject().put("code", code).put("reason", reason));
  }

  private static ByteBuf push(String scopedChannel, String kind, JsonObject body) {
    JsonObject push = new JsonObject().put("channel", App.local(scopedChannel)).put(kind, body);
    return payload(new JsonObject().put("push", push));
  }

  /** The server's ping: an empty reply {@code {}} as a WebSocket frame, kept for the JVM's lifetime. */
  static final Encoded PING = ping();

  private static Encoded ping() {
    ByteBuf p = payload(new JsonObject());
    Encoded e = Encoded.frame(Framing.WEBSOCKET_TEXT, p).permanent();
    p.release();
    return e;
  }
}
