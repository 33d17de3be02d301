package io.switchboard.common;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Carries {@link Publication}s on the event bus. Locally the same immutable instance is handed to every consumer
 * (no copy per gateway instance); across the cluster it travels as length-prefixed JSON.
 */
public final class PublicationCodec implements MessageCodec<Publication, Publication> {
  public static final String NAME = "publication";

  @Override
  public void encodeToWire(Buffer buffer, Publication p) {
    JsonObject j = p.toJson();
    if (p.exclude() != null) j.put("exclude", p.exclude()); // routing only: toJson (what is stored and shown) omits it
    Buffer json = j.toBuffer();
    buffer.appendInt(json.length()).appendBuffer(json);
  }

  @Override
  public Publication decodeFromWire(int pos, Buffer buffer) {
    int len = buffer.getInt(pos);
    return Publication.fromJson(new JsonObject(buffer.getBuffer(pos + 4, pos + 4 + len)));
  }

  @Override
  public Publication transform(Publication p) {
    return p; // immutable: safe to share between event loops
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }

  /** Registers the codec as the default for Publication; call once per Vertx instance, idempotent. */
  public static void register(EventBus bus) {
    try {
      bus.registerDefaultCodec(Publication.class, new PublicationCodec());
    } catch (IllegalStateException alreadyRegistered) {
      // another service in this JVM registered it first
    }
  }
}
