package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.common.Ids;
import io.switchboard.common.test.Await;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.EnumSet;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpServerMeters} exports what Vert.x's own HTTP server metrics export: the same traffic (routed and
 * unrouted requests with several methods and status codes, request bodies, WebSocket upgrades, open and closed) is
 * sent to a server under each (through a vertx-web Router, as the gateway's port is), and the scraped {@code vertx_http_server_*} series — names, HELP and TYPE lines,
 * label sets and every value but the measured times — must be identical.
 */
class HttpServerMetersTest {

  /** Runs the traffic against a server of a fresh Vert.x built by {@code builder}; returns its scrape (filtered). */
  private static String scrapeAfterTraffic(UnaryOperator<VertxBuilder> builder) throws Exception {
    String registry = "meters-test-" + Ids.hex(6);
    Vertx vertx = builder.apply(Vertx.builder().with(Switchboard.vertxOptions(registry, new JsonObject()))).build();
    try {
      Router router = Router.router(vertx);
      router.get("/hello/:name").handler(rc -> rc.response().end("hi " + rc.pathParam("name")));
      router.post("/echo").handler(io.vertx.ext.web.handler.BodyHandler.create())
          .handler(rc -> rc.response().setStatusCode(201).end(rc.body().buffer()));
      router.route().handler(rc -> rc.response().setStatusCode(404).end("no"));
      HttpServer server = Await.result(vertx.createHttpServer()
          .webSocketHandshakeHandler(h -> {
            if (h.path().equals("/ws")) h.accept();
            else h.reject(403);
          })
          .requestHandler(router).listen(0, "127.0.0.1"));
      int port = server.actualPort();
      // plain HTTP/1.1 over a socket per request ("Connection: close"): the same bytes every run, and no client pool
      // (Vert.x's own client once left its first request hanging after evicting a fresh connection)
      for (int i = 0; i < 3; i++) assertTrue(http1(port, "GET", "/hello/n" + i, null).startsWith("HTTP/1.1 200"));
      assertTrue(http1(port, "POST", "/echo", "twelve bytes").startsWith("HTTP/1.1 201"));
      assertTrue(http1(port, "DELETE", "/nowhere", null).startsWith("HTTP/1.1 404"));
      WebSocketClient ws = vertx.createWebSocketClient();
      var open = Await.result(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")));
      var closed = Await.result(ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")));
      Await.result(closed.close());
      Future<Boolean> refused = ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/refused"))
          .transform(ar -> Future.succeededFuture(ar.failed()));
      assertTrue(Await.result(refused), "a refused upgrade fails");
      PrometheusMeterRegistry r = (PrometheusMeterRegistry) BackendRegistries.getNow(registry);
      // while one WebSocket is open: the gauges count it (its connection, and the one the refused upgrade may keep)
      Await.until("the closed WebSocket gone and the refused upgrade answered, on the server",
          () -> r.scrape().contains("vertx_http_server_active_ws_connections 1.0") && r.scrape().contains("code=\"403\""));
      assertTrue(r.scrape().lines().anyMatch(l -> l.matches("vertx_http_server_active_connections [1-9].*")), r.scrape());
      // then everything closed, so that the compared scrape does not depend on when the client closes its connections
      Await.result(open.close());
      Await.result(ws.close());
      Await.until("every connection closed on the server", () -> r.scrape().contains("vertx_http_server_active_connections 0.0")
          && r.scrape().contains("vertx_http_server_active_ws_connections 0.0"));
      String scrape = filtered(r.scrape());
      return scrape;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** One HTTP/1.1 request on its own connection, which the server closes after its answer; returns the answer. */
  private static String http1(int port, String method, String path, String body) throws java.io.IOException {
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(20_000);
      byte[] content = body == null ? new byte[0] : body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      String head = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n"
          + (body == null ? "" : "Content-Length: " + content.length + "\r\n") + "\r\n";
      socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      socket.getOutputStream().write(content);
      socket.getOutputStream().flush();
      return new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** The vertx_http_server_* lines, sorted, with measured times (and byte counts of the TCP streams) blanked. */
  private static String filtered(String scrape) {
    return scrape.lines().filter(l -> l.contains("vertx_http_server_"))
        .map(l -> l.matches("vertx_http_server_response_time_seconds_(sum|max).*") ? l.replaceAll(" [0-9.Ee-]+$", " <time>") : l)
        // every connection's bytes on the wire (headers include none that differ, but keep-alive reuse may)
        .map(l -> l.matches("vertx_http_server_bytes_(read|written)_total.*") ? l.replaceAll(" [0-9.Ee-]+$", " <bytes>") : l)
        .collect(Collectors.toCollection(TreeSet::new)).stream().collect(Collectors.joining("\n"));
  }

  @Test
  void sameSeriesAsVertxOwnHttpServerMetrics() throws Exception {
    String vertx = scrapeAfterTraffic(b -> b);
    String ours = scrapeAfterTraffic(b -> b.withMetrics(new HttpServerMeters.Factory()));
    // the traffic reached every kind of series (so the comparison is not of two empty scrapes)
    for (String s : List.of("vertx_http_server_requests_total{code=\"200\",method=\"GET\"} 3.0",
        "vertx_http_server_requests_total{code=\"201\",method=\"POST\"} 1.0",
        "vertx_http_server_requests_total{code=\"404\",method=\"DELETE\"} 1.0",
        "vertx_http_server_request_bytes_sum{method=\"POST\"} 12.0",
        "vertx_http_server_active_ws_connections 0.0",
        "vertx_http_server_response_time_seconds_count{code=\"101\",method=\"GET\"} 2",
        "vertx_http_server_requests_total{code=\"403\",method=\"GET\"} 1.0",
        "vertx_http_server_active_connections 0.0")) {
      assertTrue(vertx.contains(s), "Vert.x's own scrape has " + s + ":\n" + vertx);
    }
    assertEquals(vertx, ours);
  }

  @Test
  void refusesLabelsItDoesNotReproduce() {
    VertxOptions options = Switchboard.vertxOptions("meters-test-" + Ids.hex(6), new JsonObject());
    ((MicrometerMetricsOptions) options.getMetricsOptions()).setLabels(EnumSet.of(Label.HTTP_METHOD, Label.REMOTE));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Vertx.builder().with(options).withMetrics(new HttpServerMeters.Factory()).build());
    assertTrue(e.getMessage().contains("default labels"), e.getMessage());
  }

  @Test
  void noHttpServerMetersWhenTheDomainIsOff() throws Exception {
    String registry = "meters-test-" + Ids.hex(6);
    VertxOptions options = Switchboard.vertxOptions(registry, new JsonObject());
    ((MicrometerMetricsOptions) options.getMetricsOptions()).addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.HTTP_SERVER)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
    Vertx vertx = Vertx.builder().with(options).withMetrics(new HttpServerMeters.Factory()).build();
    try {
      HttpServer server = Await.result(vertx.createHttpServer().requestHandler(rq -> rq.response().end()).listen(0, "127.0.0.1"));
      assertTrue(http1(server.actualPort(), "GET", "/", null).startsWith("HTTP/1.1 200"));
      // another domain's meters (a TCP client of Vert.x's) are still recorded by Vert.x
      var socket = Await.result(vertx.createNetClient().connect(server.actualPort(), "127.0.0.1"));
      Await.result(socket.close());
      String scrape = ((PrometheusMeterRegistry) BackendRegistries.getNow(registry)).scrape();
      assertFalse(scrape.contains("vertx_http_server_"), scrape);
      assertTrue(scrape.contains("vertx_net_client_"), "the other domains are still Vert.x's: " + scrape);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
