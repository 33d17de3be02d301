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
  private final ConcurrentHashMap<Integer, Counter> disconnects = new ConcurrentHashMap<>();

  public GatewayMetrics(String registryName) {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    registry = r != null ? r : new SimpleMeterRegistry();
    Gauge.builder("switchboard_connections", connections, AtomicLong::get)
        .description("open client connections").register(registry);
    deliveries = Counter.builder("switchboard_deliveries").description("publications written to client sockets").register(registry);
    publishes = Counter.builder("switchboard_publishes").description("publish requests accepted from clients").register(registry);
    backfills = Counter.builder("switchboard_backfills").description("channel gaps backfilled from the store").register(registry);
  }

  public void disconnect(int code) {
    disconnects.computeIfAbsent(code, c -> Counter.builder("switchboard_disconnects")
        .description("connections closed by the server, by close code")
        .tag("code", Integer.toString(c)).register(registry)).increment();
  }
}
