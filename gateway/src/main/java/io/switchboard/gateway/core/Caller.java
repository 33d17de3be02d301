package io.switchboard.gateway.core;

import io.switchboard.gateway.Claims;

/**
 * Who performs a channel operation: a connected session, or an HTTP caller with a bearer token or a server key. The
 * {@link ChannelAccess} decision and {@link ChannelOps} see only this.
 */
public interface Caller {
  /** The verified token's claims; for a server caller, claims naming the backend (its grants are not consulted). */
  Claims claims();

  default String subject() {
    return claims().subject();
  }

  default String sourceType() {
    return claims().sourceType();
  }

  /** The connection id, or null for a caller without a connection. */
  String clientId();

  /** Whether the caller holds a subscription to the channel, by its app-local name (a connection-less caller never does). */
  boolean subscribed(String channel);

  /**
   * For callers whose protocol authorizes channels one by one with a signed credential (Pusher's {@code private-}
   * and {@code presence-} channels): the capabilities authorized on this channel, or null when the channel is
   * governed by the token's grants as usual.
   */
  default java.util.Set<io.switchboard.common.Capability> channelAuthorization(String channel) {
    return null;
  }

  /** A backend with a server key: may do anything in its app, and publish where clients may not. */
  default boolean server() {
    return false;
  }

  /**
   * Takes one publish token of the caller's rate limit; 0 when allowed, else the milliseconds until the next one.
   */
  long takePublishToken(long now);

  /**
   * A trusted backend (an app server through an HTTP API): may do anything in its app, publishes where clients may
   * not, has no connection, no subscriptions and no rate limit; its publications show {@code source = {type, id}}.
   */
  static Caller backend(String id, String sourceType) {
    Claims claims = new Claims(id, null, System.currentTimeMillis() / 1000, Long.MAX_VALUE / 2000,
        io.switchboard.common.Grants.NONE, sourceType, new io.vertx.core.json.JsonObject());
    return connectionless(claims, true);
  }

  /**
   * A caller with claims but no connection: no client id, subscribed to nothing, no rate limit (a backend, or a
   * receive-only waiter such as a held long-poll); {@code server} as for {@link #server()}.
   */
  static Caller connectionless(Claims claims, boolean server) {
    return new Caller() {
      @Override
      public Claims claims() {
        return claims;
      }

      @Override
      public String clientId() {
        return null;
      }

      @Override
      public boolean subscribed(String channel) {
        return false;
      }

      @Override
      public boolean server() {
        return server;
      }

      @Override
      public long takePublishToken(long now) {
        return 0;
      }
    };
  }
}
