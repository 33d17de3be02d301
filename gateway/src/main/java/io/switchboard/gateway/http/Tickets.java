package io.switchboard.gateway.http;

import io.switchboard.common.Addresses;
import io.switchboard.common.ErrorCode;
import io.switchboard.common.Ids;
import io.switchboard.common.ServiceError;
import io.switchboard.gateway.core.GatewayLoop;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;

/**
 * Single-use stream tickets: {@code POST /v1/tickets} with a bearer token returns one, valid {@code gateway.ticketTtlMs} (30 s), that an
 * EventSource (which cannot send headers) puts in its URL instead of the token. A ticket is {@code
 * <node>.<secret>}: kept in the minting JVM's memory (shared by its event loops) and redeemed — removed — exactly
 * once, on that node directly or from any other node over {@code gateway.ticket.<node>}.
 */
final class Tickets {
  private static final ServiceError INVALID = new ServiceError(ErrorCode.UNAUTHORIZED,
      "ticket is unknown, expired or already used: get a new one with POST /v1/tickets");

  private final GatewayLoop loop;
  private final long ttlMs;
  /** ticket → "expiresAtMillis|token". */
  private final LocalMap<String, String> tickets;

  Tickets(GatewayLoop loop, long ttlMs) {
    this.loop = loop;
    this.ttlMs = ttlMs;
    this.tickets = loop.vertx.sharedData().getLocalMap("switchboard.gateway.tickets");
    loop.bus.<JsonObject>consumer(Addresses.GATEWAY_TICKET_PREFIX + loop.node, m -> {
      String token = take(m.body().getString("ticket", ""));
      if (token == null) INVALID.failReply(m);
      else m.reply(new JsonObject().put("token", token));
    });
    loop.vertx.setPeriodic(Math.max(1000, ttlMs), t -> sweep());
  }

  /** A new ticket for a verified token. */
  JsonObject mint(String token) {
    String ticket = loop.node + "." + Ids.hex(24);
    long expires = System.currentTimeMillis() + ttlMs;
    tickets.put(ticket, expires + "|" + token);
    return new JsonObject().put("ticket", ticket).put("expiresAt", java.time.Instant.ofEpochMilli(expires).toString())
        .put("ttl", ttlMs / 1000.0);
  }

  /** The token of a ticket, which is used up by this call. */
  Future<String> redeem(String ticket) {
    int dot = ticket.lastIndexOf('.');
    if (dot <= 0) return Future.failedFuture(INVALID);
    String node = ticket.substring(0, dot);
    if (node.equals(loop.node)) {
      String token = take(ticket);
      return token == null ? Future.failedFuture(INVALID) : Future.succeededFuture(token);
    }
    return loop.bus.<JsonObject>request(Addresses.GATEWAY_TICKET_PREFIX + node, new JsonObject().put("ticket", ticket),
            new DeliveryOptions().setSendTimeout(loop.cfg.requestTimeoutMs()))
        .map(m -> m.body().getString("token"))
        .recover(t -> Future.failedFuture(ServiceError.from(t, "ticket's node").code() == ErrorCode.UNAVAILABLE
            ? new ServiceError(ErrorCode.UNAUTHORIZED, "ticket's node is gone: get a new ticket") : ServiceError.from(t, "ticket")));
  }

  private String take(String ticket) {
    String v = tickets.remove(ticket);
    if (v == null) return null;
    int bar = v.indexOf('|');
    if (Long.parseLong(v.substring(0, bar)) <= System.currentTimeMillis()) return null;
    return v.substring(bar + 1);
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    for (String k : tickets.keySet()) {
      String v = tickets.get(k);
      if (v != null && Long.parseLong(v.substring(0, v.indexOf('|'))) <= now) tickets.remove(k, v);
    }
  }
}
