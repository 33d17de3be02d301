package io.switchboard.gateway.core;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Gateway meters, exported at {@code /metrics} by the operations server: open connections, deliveries, publishes and
 * disconnects by close code. Counters are thread-safe and shared by all event loops of the JVM.
 */
public final class GatewayMetrics {
  private final MeterRegistry registry;
  public final AtomicLong connections = new AtomicLong();
  public final Counter deliveries;
  public final Counter publishes;
  /** Gaps in a channel's offsets filled from the store (lost or reordered bus messages, settle checks that found some). */
  public final Counter backfills;
  /** Fan-out bus messages this node received: one per publication and interested node, never one per subscriber. */
  public final Counter fanoutReceived;
  private final ConcurrentHashMap<Integer, Counter> disconnects = new ConcurrentHashMap<>();

  public GatewayMetrics(String registryName) {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    registry = r != null ? r : new SimpleMeterRegistry();
    Gauge.builder("switchboard_connections", connections, AtomicLong::get)
        .description("open client connections").register(registry);
    deliveries = Counter.builder("switchboard_deliveries").description("publications written to client sockets").register(registry);
    publishes = Counter.builder("switchboard_publishes").description("publish requests accepted from clients").register(registry);
    backfills = Counter.builder("switchboard_backfills").description("channel gaps backfilled from the store").register(registry);
    fanoutReceived = Counter.builder("switchboard_fanout_messages_received")
        .description("fan-out bus messages received by this gateway node (one per publication, not per subscriber)").register(registry);
  }

  /**
   * Fan-out bus messages sent by one JVM's router, whatever runs there (the store and presence send most of them, so
   * the launcher registers this in every JVM): one per publication and interested gateway node.
   */
  public static void fanoutSent(String registryName, io.switchboard.common.Fanout fanout) {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    if (r == null) return;
    io.micrometer.core.instrument.FunctionCounter.builder("switchboard_fanout_messages_sent", fanout, io.switchboard.common.Fanout::sent)
        .description("fan-out bus messages sent by this JVM to gateway nodes").register(r);
  }

  public void disconnect(int code) {
    disconnects.computeIfAbsent(code, c -> Counter.builder("switchboard_disconnects")
        .description("connections closed by the server, by close code")
        .tag("code", Integer.toString(c)).register(registry)).increment();
  }
}
