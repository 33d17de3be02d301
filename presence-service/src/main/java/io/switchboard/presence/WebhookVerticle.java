package io.switchboard.presence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.common.Addresses;
import io.switchboard.common.App;
import io.switchboard.common.BusReplies;
import io.switchboard.common.ServiceError;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.backends.BackendRegistries;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhooks of the apps (deployed by the presence service when an app has one): applies gateways' occupancy changes
 * (cluster-wide channel_occupied/vacated, once), queues the events gateways raise, and delivers the queue.
 *
 * <p>Delivery: every {@code pollMs} it claims the due items (with a lease, so a JVM that dies mid-delivery loses none),
 * groups them per app and webhook URL, and POSTs each group as Pusher does — {@code {time_ms, events:[…]}} (at most
 * {@code maxBatch} events), {@code Content-Type: application/json}, {@code X-Pusher-Key} and {@code X-Pusher-Signature}
 * (hex HMAC-SHA256 of the raw body with the app secret). A 2xx answer removes them; anything else (another status, no
 * connection, a timeout) reschedules them with exponential backoff, until they have been failing for
 * {@code retryForSeconds}: then they are dropped, logged and counted ({@code switchboard_webhook_dropped}).
 */
public final class WebhookVerticle extends VerticleBase {
  private static final System.Logger LOG = System.getLogger(WebhookVerticle.class.getName());
  private static final Set<String> RAISED = Set.of("client_event", "cache_miss");
  /**
   * Requests in flight at most; the queue is not read while this many are out. Polls do not wait for requests, so
   * one slow webhook (up to its timeout) does not hold up the others.
   */
  static final int MAX_IN_FLIGHT = 32;

  private WebhookQueue queue;
  private OccupancyStore occupancy;
  private Webhooks webhooks;
  private HttpClient http;
  private long nodeTimeoutMs;
  private long pollMs;
  private long retryForMs;
  private long backoffMs;
  private long maxBackoffMs;
  private int maxBatch;
  private long timeoutMs;
  private boolean polling;
  private int inFlight;
  private boolean pollFailing;
  private boolean sweeping;
  /** channel → its last occupancy change still being applied (changes of one channel are applied in order). */
  private final java.util.Map<String, Future<Boolean>> occupancyChains = new java.util.concurrent.ConcurrentHashMap<>();
  private Counter delivered;
  private Counter failed;
  private Counter dropped;
  /** The queue's size at the last poll (read by the depth gauge; the queue itself may be in Redis). */
  private final java.util.concurrent.atomic.AtomicLong depth = new java.util.concurrent.atomic.AtomicLong();
  private long depthAt;
  /** How often the depth is read (a Redis HLEN): often enough for a gauge scraped every 15 s. */
  static final long DEPTH_EVERY_MS = 1000;

  @Override
  public Future<?> start() {
    JsonObject config = config();
    JsonObject w = config.getJsonObject("webhooks");
    pollMs = w.getLong("pollMs");
    retryForMs = w.getLong("retryForSeconds") * 1000;
    backoffMs = w.getLong("backoffMs");
    maxBackoffMs = Math.max(backoffMs, w.getLong("maxBackoffMs"));
    maxBatch = w.getInteger("maxBatch");
    timeoutMs = w.getLong("timeoutMs");
    nodeTimeoutMs = config.getJsonObject("presence").getLong("timeoutSeconds") * 1000;
    queue = WebhookQueue.create(vertx, config);
    occupancy = OccupancyStore.create(vertx, config);
    webhooks = Webhooks.fromConfig(config, queue);
    http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs)),
        new PoolOptions().setHttp1MaxSize(8));
    meters(config.getJsonObject("operations").getString("registryName"));
    EventBus bus = vertx.eventBus();
    return Future.all(List.of(
            BusReplies.serve(bus, Addresses.WEBHOOKS_ENQUEUE, this::enqueue).completion(),
            BusReplies.serve(bus, Addresses.WEBHOOKS_OCCUPANCY, this::occupancyChange).completion(),
            BusReplies.serve(bus, Addresses.WEBHOOKS_NODE_ALIVE, this::nodeAlive).completion()))
        .onSuccess(v -> {
          vertx.setPeriodic(pollMs, t -> poll());
          vertx.setPeriodic(config.getJsonObject("presence").getLong("sweepIntervalMs"), t -> sweepNodes());
        });
  }

  @Override
  public Future<?> stop() {
    return Future.join(queue.close(), occupancy.close(), http.close());
  }

  private void meters(String registryName) {
    MeterRegistry r = BackendRegistries.getNow(registryName);
    MeterRegistry registry = r != null ? r : new SimpleMeterRegistry();
    Counter[] c = counters(registry);
    delivered = c[0];
    failed = c[1];
    dropped = c[2];
    io.micrometer.core.instrument.Gauge.builder("switchboard_webhook_queue_depth", depth, java.util.concurrent.atomic.AtomicLong::get)
        .description("webhook deliveries queued (due, held or being sent), as of the last poll").register(registry);
  }

  private static Counter[] counters(MeterRegistry registry) {
    return new Counter[] {
        Counter.builder("switchboard_webhook_requests").description("webhook requests answered 2xx").register(registry),
        Counter.builder("switchboard_webhook_failures")
            .description("webhook requests that failed (non-2xx, no connection, timeout) and were rescheduled or dropped").register(registry),
        Counter.builder("switchboard_webhook_dropped")
            .description("webhook events given up after failing for webhooks.retryForSeconds").register(registry)};
  }

  /** Nothing queued: a gauge's source that is never collected (gauges hold theirs weakly). */
  private static final java.util.concurrent.atomic.AtomicLong NONE = new java.util.concurrent.atomic.AtomicLong();

  /**
   * The webhook meters of a presence service without webhooks (no app has one): at zero, so dashboards and alerts
   * read 0 rather than nothing.
   */
  static void idleMeters(String registryName) {
    MeterRegistry registry = BackendRegistries.getNow(registryName);
    if (registry == null) return;
    counters(registry);
    io.micrometer.core.instrument.Gauge.builder("switchboard_webhook_queue_depth", NONE, java.util.concurrent.atomic.AtomicLong::get)
        .description("webhook deliveries queued (due, held or being sent), as of the last poll").register(registry);
  }

  // --- from gateways ------------------------------------------------------------------------------

  /** {@code {app, events:[{name: client_event|cache_miss, channel, …}]}}. */
  private Future<JsonObject> enqueue(Message<Object> msg) {
    JsonObject body = PresenceRequests.body(msg);
    App app = webhooks.app(PresenceRequests.string(body, "app"));
    if (app == null) throw ServiceError.badRequest("'app' names no configured app");
    if (!(body.getValue("events") instanceof JsonArray events)) throw ServiceError.badRequest("'events' must be an array of events");
    List<Future<Boolean>> queued = new ArrayList<>();
    for (Object e : events) {
      if (!(e instanceof JsonObject event) || !RAISED.contains(event.getValue("name")) || !(event.getValue("channel") instanceof String)) {
        throw ServiceError.badRequest("each event must be {name: client_event|cache_miss, channel, …}");
      }
    }
    for (Object e : events) queued.add(webhooks.raised(app, (JsonObject) e));
    return Future.all(queued).map(v -> new JsonObject());
  }

  /** {@code {node, seq, channel, occupied}}: one node's first/last local subscriber of a channel. */
  private Future<JsonObject> occupancyChange(Message<Object> msg) {
    JsonObject body = PresenceRequests.body(msg);
    String node = PresenceRequests.string(body, "node");
    String channel = PresenceRequests.channel(body);
    if (!(body.getValue("seq") instanceof Number seq) || seq.longValue() < 0) throw ServiceError.badRequest("'seq' must be a whole number ≥ 0");
    if (!(body.getValue("occupied") instanceof Boolean occupied)) throw ServiceError.badRequest("'occupied' must be true or false");
    // one channel's changes one after the other, each with its webhook queued before the next is applied: with
    // Redis (several connections) a re-subscribe's cancel could otherwise reach the queue before the hold it cancels,
    // and a quick unsubscribe/subscribe would send vacated and a second occupied
    Future<Boolean> before = occupancyChains.getOrDefault(channel, Future.succeededFuture());
    Future<Boolean> done = before.transform(x -> occupancy.change(node, seq.longValue(), channel, occupied, System.currentTimeMillis() + nodeTimeoutMs)
        .compose(t -> t == 0 ? Future.succeededFuture(false) : webhooks.occupancy(channel, t == OccupancyStore.OCCUPIED)));
    occupancyChains.put(channel, done);
    done.onComplete(x -> occupancyChains.remove(channel, done));
    return done.map(v -> new JsonObject());
  }

  /** {@code {node}} → {@code {known}}. */
  private Future<JsonObject> nodeAlive(Message<Object> msg) {
    String node = PresenceRequests.string(PresenceRequests.body(msg), "node");
    return occupancy.alive(node, System.currentTimeMillis() + nodeTimeoutMs).map(known -> new JsonObject().put("known", known));
  }

  /** Channels of nodes that stopped their heartbeats (died, lost the bus) are vacated, once. */
  private void sweepNodes() {
    if (sweeping) return;
    sweeping = true;
    occupancy.sweep(System.currentTimeMillis())
        .onSuccess(vacated -> vacated.forEach(channel -> webhooks.occupancy(channel, false)))
        .onComplete(done -> sweeping = false);
  }

  // --- delivery -----------------------------------------------------------------------------------

  private void poll() {
    long at = System.currentTimeMillis();
    if (at - depthAt >= DEPTH_EVERY_MS) {
      depthAt = at;
      queue.depth().onSuccess(depth::set);
    }
    if (polling || inFlight >= MAX_IN_FLIGHT) return;
    polling = true;
    long now = System.currentTimeMillis();
    // a lease outlives one request (its timeout) with room to spare; then the items are due again
    long leaseUntil = now + timeoutMs + 2 * pollMs + 1000;
    queue.claim(now, Math.min(maxBatch * 10, (MAX_IN_FLIGHT - inFlight) * maxBatch), leaseUntil)
        .map(this::deliver)
        .onComplete(done -> {
          polling = false;
          if (done.failed() && !pollFailing) LOG.log(System.Logger.Level.WARNING, "webhook queue unavailable, retrying: " + done.cause().getMessage());
          pollFailing = done.failed();
        });
  }

  /** Starts one request per app, URL and batch; each reports its own outcome to the queue. */
  private Void deliver(List<WebhookQueue.Claimed> claimed) {
    if (claimed.isEmpty()) return null;
    Map<String, List<WebhookQueue.Claimed>> groups = new LinkedHashMap<>();
    for (WebhookQueue.Claimed c : claimed) {
      groups.computeIfAbsent(c.item().getString("app") + " " + c.item().getString("url"), k -> new ArrayList<>()).add(c);
    }
    for (List<WebhookQueue.Claimed> group : groups.values()) {
      group.sort(Comparator.comparingLong(c -> c.item().getLong("at", 0L)));
      for (int from = 0; from < group.size(); from += maxBatch) {
        inFlight++;
        send(group.subList(from, Math.min(group.size(), from + maxBatch))).onComplete(done -> {
          inFlight--;
          if (done.failed()) LOG.log(System.Logger.Level.WARNING, "webhook queue update failed: " + done.cause().getMessage());
        });
      }
    }
    return null;
  }

  private Future<Void> send(List<WebhookQueue.Claimed> batch) {
    JsonObject first = batch.get(0).item();
    App app = webhooks.app(first.getString("app"));
    String url = first.getString("url");
    List<String> ids = batch.stream().map(WebhookQueue.Claimed::id).toList();
    if (app == null || app.webhooks().stream().noneMatch(w -> w.url().equals(url))) {
      LOG.log(System.Logger.Level.WARNING, "dropping " + batch.size() + " webhook events for " + url + ": the app or webhook is no longer configured");
      return queue.done(ids);
    }
    JsonArray events = new JsonArray();
    for (WebhookQueue.Claimed c : batch) events.add(c.item().getJsonObject("event"));
    String body = new JsonObject().put("time_ms", System.currentTimeMillis()).put("events", events).encode();
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setAbsoluteURI(url).setIdleTimeout(timeoutMs)
        .putHeader("Content-Type", "application/json")
        .putHeader("X-Pusher-Key", app.key())
        .putHeader("X-Pusher-Signature", sign(app.secret(), body));
    return http.request(options)
        .compose(req -> req.send(body))
        .compose(resp -> resp.body().map(b -> resp.statusCode()))
        .timeout(timeoutMs, TimeUnit.MILLISECONDS)
        .transform(ar -> {
          if (ar.succeeded() && ar.result() / 100 == 2) {
            delivered.increment();
            return queue.done(ids);
          }
          String reason = ar.succeeded() ? "HTTP " + ar.result() : String.valueOf(ar.cause().getMessage());
          return failed(url, batch, reason);
        });
  }

  /** Reschedules a failed batch with backoff; items failing for longer than the retry period are dropped. */
  private Future<Void> failed(String url, List<WebhookQueue.Claimed> batch, String reason) {
    failed.increment();
    long now = System.currentTimeMillis();
    List<WebhookQueue.Claimed> again = new ArrayList<>();
    List<String> giveUp = new ArrayList<>();
    int attempts = 0;
    for (WebhookQueue.Claimed c : batch) {
      int n = c.item().getInteger("attempts", 0) + 1;
      attempts = Math.max(attempts, n);
      if (now - c.item().getLong("at", now) >= retryForMs) {
        giveUp.add(c.id());
      } else {
        again.add(new WebhookQueue.Claimed(c.id(), c.item().copy().put("attempts", n)));
      }
    }
    long delay = backoff(attempts);
    if (!giveUp.isEmpty()) {
      dropped.increment(giveUp.size());
      LOG.log(System.Logger.Level.WARNING, "webhook " + url + " failed (" + reason + "): dropping " + giveUp.size()
          + " events that have failed for " + retryForMs / 1000 + " s");
    }
    if (!again.isEmpty()) {
      LOG.log(System.Logger.Level.INFO, "webhook " + url + " failed (" + reason + "), attempt " + attempts + " of "
          + again.size() + " events; retrying in " + delay + " ms");
    }
    return Future.join(queue.done(giveUp), queue.retry(again, now + delay)).mapEmpty();
  }

  /** backoffMs, doubled per attempt, at most maxBackoffMs. */
  long backoff(int attempts) {
    int shift = Math.min(30, Math.max(0, attempts - 1));
    return Math.min(maxBackoffMs, backoffMs << shift);
  }

  static String sign(String secret, String body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is required of every JVM", e);
    }
  }
}
