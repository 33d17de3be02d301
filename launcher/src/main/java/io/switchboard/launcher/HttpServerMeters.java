package io.switchboard.launcher;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.VertxOptions;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.ClientMetrics;
import io.vertx.core.spi.metrics.DatagramSocketMetrics;
import io.vertx.core.spi.metrics.EventBusMetrics;
import io.vertx.core.spi.metrics.HttpClientMetrics;
import io.vertx.core.spi.metrics.HttpServerMetrics;
import io.vertx.core.spi.metrics.PoolMetrics;
import io.vertx.core.spi.metrics.TCPMetrics;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.core.spi.observability.HttpRequest;
import io.vertx.core.spi.observability.HttpResponse;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MetricsNaming;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.HashSet;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Vert.x's metrics (vertx-micrometer-metrics) with the HTTP server domain ({@code vertx_http_server_*}) recorded on
 * meters resolved once, instead of per connection and per request.
 *
 * <p>Why: vertx-micrometer-metrics 5.0.10 registers its meters anew for every TCP connection (a gauge and two
 * counters), every request (a gauge; a summary at its end) and every response (a counter, a timer and a summary looked
 * up by their tags),
 * each one a {@code Meter.Id} built, hashed and looked up in the registry's maps. A WebSocket connect is one TCP
 * connection plus one upgrade request, so these look-ups were 7–9 % of the gateway's event-loop time in a connect
 * storm (docs/benchmarks.md, "Connect cost"). Here every meter without a per-request label is resolved when the
 * server starts, and the per-request ones once per label value set (method; method and status code).
 *
 * <p>The meters are the ones Vert.x makes with Switchboard's options (Vert.x's default labels, which for the HTTP
 * server are {@code method} and {@code code}: no {@code route}, {@code local} or {@code remote}): same names, types,
 * descriptions, label sets and values ({@code HttpServerMetersTest} compares the two scrapes), so dashboards and the
 * documented {@code vertx_http_server_*} metrics stay as they were. One difference: the open-connection and
 * open-WebSocket gauges and the two byte counters exist from the start, at 0, where Vert.x registers them with the
 * first connection. Every other domain (event bus, pools, HTTP clients, JVM) is Vert.x's own, unchanged.
 */
final class HttpServerMeters implements HttpServerMetrics<HttpServerMeters.Request, LongAdder, Object> {
  /** What {@link #connected(SocketAddress, String)} hands back: no per-connection state is kept. */
  private static final Object CONNECTION = new Object();

  private final MeterRegistry registry;
  private final MetricsNaming names;
  private final LongAdder connections = new LongAdder();
  private final LongAdder webSockets = new LongAdder();
  private final Counter bytesRead;
  private final Counter bytesWritten;
  /** Registered on first use, as Vert.x does (no zero-valued series before anything failed). */
  private final Meter.MeterProvider<Counter> errors;
  private final Meter.MeterProvider<Counter> resets;
  /**
   * Meters by label values. As many entries as Vert.x would register meters for the same traffic (one per method,
   * one per method and status code), so caching them adds no cardinality of its own.
   */
  private final Map<HttpMethod, MethodMeters> byMethod = new ConcurrentHashMap<>();

  /** One per registry: Vert.x's meters carry no {@code local} label, so every HTTP server of the JVM adds to them. */
  HttpServerMeters(MeterRegistry registry) {
    this.registry = registry;
    this.names = MetricsNaming.v4Names().withBaseName("vertx." + MetricsDomain.HTTP_SERVER.toCategory() + ".");
    Gauge.builder(names.getNetActiveConnections(), connections, LongAdder::doubleValue)
        .description("Number of opened connections to the server").strongReference(true).register(registry);
    Gauge.builder(names.getHttpActiveWsConnections(), webSockets, LongAdder::doubleValue)
        .description("Number of websockets currently opened").strongReference(true).register(registry);
    bytesRead = Counter.builder(names.getNetBytesRead()).description("Number of bytes received by the server").register(registry);
    bytesWritten = Counter.builder(names.getNetBytesWritten()).description("Number of bytes sent by the server").register(registry);
    errors = Counter.builder(names.getNetErrorCount()).description("Number of errors").withRegistry(registry);
    resets = Counter.builder(names.getHttpRequestResetsCount()).description("Number of request resets").withRegistry(registry);
  }

  // --- connections ---

  @Override
  public Object connected(SocketAddress remoteAddress, String remoteName) {
    connections.increment();
    return CONNECTION;
  }

  @Override
  public void disconnected(Object connection, SocketAddress remoteAddress) {
    connections.decrement();
  }

  @Override
  public void bytesRead(Object connection, SocketAddress remoteAddress, long numberOfBytes) {
    bytesRead.increment(numberOfBytes);
  }

  @Override
  public void bytesWritten(Object connection, SocketAddress remoteAddress, long numberOfBytes) {
    bytesWritten.increment(numberOfBytes);
  }

  @Override
  public void exceptionOccurred(Object connection, SocketAddress remoteAddress, Throwable t) {
    errors.withTags(Tags.empty()).increment();
  }

  // --- requests ---

  @Override
  public Request requestBegin(Object connection, HttpRequest request) {
    return begin(request.method());
  }

  @Override
  public Request responsePushed(Object connection, HttpMethod method, String uri, HttpResponse response) {
    return begin(method);
  }

  private Request begin(HttpMethod method) {
    MethodMeters m = byMethod.get(method);
    if (m == null) m = byMethod.computeIfAbsent(method, MethodMeters::new);
    m.active.increment();
    return new Request(m);
  }

  @Override
  public void requestEnd(Request r, HttpRequest request, long bytesRead) {
    if (r == null) return; // Vert.x passes none for a pushed HTTP/2 response; a callback must never throw
    r.method.requestBytes.record(bytesRead);
    if (r.requestEnded()) r.method.active.decrement();
  }

  @Override
  public void requestReset(Request r) {
    // Vert.x 5.0.10 may report one HTTP/1 reset twice (the connection's exception, then its close): counted once, and
    // a request that had ended both ways was no longer active
    if (r == null || r.reset) return;
    resets.withTags(r.method.tags).increment();
    if (!(r.requestEnded && r.responseEnded)) r.method.active.decrement();
    r.reset = true;
  }

  @Override
  public void responseEnd(Request r, HttpResponse response, long bytesWritten) {
    if (r == null) return;
    ResponseMeters m = r.method.response(response.statusCode());
    m.requests.increment();
    m.responseTime.record(System.nanoTime() - r.startNanos, TimeUnit.NANOSECONDS);
    m.responseBytes.record(bytesWritten);
    if (r.responseEnded()) r.method.active.decrement();
  }

  // --- WebSockets ---

  @Override
  public LongAdder connected(Object connection, Request request, ServerWebSocket webSocket) {
    webSockets.increment();
    return webSockets;
  }

  @Override
  public void disconnected(LongAdder webSocketGauge) {
    if (webSocketGauge != null) webSocketGauge.decrement(); // null: closed before the handshake completed
  }

  /** The meters labelled by a request's method alone, and its responses' meters by status code. */
  final class MethodMeters {
    final Tags tags;
    final LongAdder active = new LongAdder();
    final DistributionSummary requestBytes;
    /** status code → meters. */
    private final Map<Integer, ResponseMeters> responses = new ConcurrentHashMap<>();

    MethodMeters(HttpMethod method) {
      tags = Tags.of(Label.HTTP_METHOD.toString(), method.toString());
      Gauge.builder(names.getHttpActiveRequests(), active, LongAdder::doubleValue).description("Number of requests being processed")
          .tags(tags).strongReference(true).register(registry);
      requestBytes = DistributionSummary.builder(names.getHttpRequestBytes()).description("Size of requests in bytes")
          .tags(tags).register(registry);
    }

    ResponseMeters response(int code) {
      ResponseMeters m = responses.get(code);
      return m != null ? m : responses.computeIfAbsent(code, c -> new ResponseMeters(tags, c));
    }
  }

  /** The meters of the responses with one method and status code. */
  final class ResponseMeters {
    final Counter requests;
    final Timer responseTime;
    final DistributionSummary responseBytes;

    ResponseMeters(Tags methodTags, int code) {
      Tags tags = methodTags.and(Label.HTTP_CODE.toString(), Integer.toString(code));
      requests = Counter.builder(names.getHttpRequestsCount()).description("Number of processed requests").tags(tags).register(registry);
      responseTime = Timer.builder(names.getHttpResponseTime()).description("Request processing time").tags(tags).register(registry);
      responseBytes = DistributionSummary.builder(names.getHttpResponseBytes()).description("Size of responses in bytes")
          .tags(tags).register(registry);
    }
  }

  /** One request: its method's meters, when it began, and which of its ends were seen. */
  static final class Request {
    final MethodMeters method;
    final long startNanos = System.nanoTime();
    private boolean requestEnded;
    private boolean responseEnded;
    private boolean reset;

    Request(MethodMeters method) {
      this.method = method;
    }

    /** True when the response had ended too (and the request was not reset): the request is no longer active. */
    boolean requestEnded() {
      requestEnded = true;
      return !reset && responseEnded;
    }

    boolean responseEnded() {
      responseEnded = true;
      return !reset && requestEnded;
    }
  }

  /**
   * Vert.x's Micrometer metrics with {@link HttpServerMeters} for every HTTP server. Needs Switchboard's metrics
   * options: Vert.x's default labels (of the HTTP server's, {@code method} and {@code code}), which these meters
   * reproduce; any other label set is refused rather than exported differently.
   */
  static final class Factory implements VertxMetricsFactory {
    private final MicrometerMetricsFactory micrometer = new MicrometerMetricsFactory();

    @Override
    public VertxMetrics metrics(VertxOptions options) {
      MicrometerMetricsOptions m = (MicrometerMetricsOptions) options.getMetricsOptions();
      if (!new HashSet<>(m.getLabels()).equals(new HashSet<>(MicrometerMetricsOptions.DEFAULT_LABELS))) {
        throw new IllegalArgumentException("HttpServerMeters reproduces Vert.x's default labels only, not " + m.getLabels());
      }
      VertxMetrics vertx = micrometer.metrics(options);
      boolean httpServer = m.getDisabledMetricsCategories() == null
          || !m.getDisabledMetricsCategories().contains(MetricsDomain.HTTP_SERVER.toCategory());
      return new Delegating(vertx, httpServer ? new HttpServerMeters(BackendRegistries.getNow(m.getRegistryName())) : null);
    }

    @Override
    public MetricsOptions newOptions(MetricsOptions options) {
      return micrometer.newOptions(options);
    }

    @Override
    public MetricsOptions newOptions() {
      return micrometer.newOptions();
    }

    @Override
    public MetricsOptions newOptions(io.vertx.core.json.JsonObject json) {
      return micrometer.newOptions(json);
    }
  }

  /** Vert.x's metrics for everything but the HTTP servers. */
  private static final class Delegating implements VertxMetrics {
    private final VertxMetrics vertx;
    private final HttpServerMeters httpServers;

    Delegating(VertxMetrics vertx, HttpServerMeters httpServers) {
      this.vertx = vertx;
      this.httpServers = httpServers;
    }

    @Override
    public HttpServerMetrics<?, ?, ?> createHttpServerMetrics(HttpServerOptions options, SocketAddress localAddress) {
      return httpServers;
    }

    @Override
    public EventBusMetrics<?> createEventBusMetrics() {
      return vertx.createEventBusMetrics();
    }

    @Override
    public ClientMetrics<?, ?, ?> createClientMetrics(SocketAddress remoteAddress, String type, String namespace) {
      return vertx.createClientMetrics(remoteAddress, type, namespace);
    }

    @Override
    public HttpClientMetrics<?, ?, ?> createHttpClientMetrics(HttpClientOptions options) {
      return vertx.createHttpClientMetrics(options);
    }

    @Override
    public TCPMetrics<?> createNetServerMetrics(NetServerOptions options, SocketAddress localAddress) {
      return vertx.createNetServerMetrics(options, localAddress);
    }

    @Override
    public TCPMetrics<?> createNetClientMetrics(NetClientOptions options) {
      return vertx.createNetClientMetrics(options);
    }

    @Override
    public DatagramSocketMetrics createDatagramSocketMetrics(DatagramSocketOptions options) {
      return vertx.createDatagramSocketMetrics(options);
    }

    @Override
    public PoolMetrics<?, ?> createPoolMetrics(String poolType, String poolName, int maxPoolSize) {
      return vertx.createPoolMetrics(poolType, poolName, maxPoolSize);
    }

    @Override
    public void vertxCreated(io.vertx.core.Vertx v) {
      vertx.vertxCreated(v);
    }

    @Override
    public boolean isMetricsEnabled() {
      return vertx.isMetricsEnabled();
    }

    @Override
    public void close() {
      vertx.close();
    }
  }
}
