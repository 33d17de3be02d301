package io.switchboard.gateway.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What {@link HeldRequests#lighten} drops from a held HTTP/1.1 request, through a real Vert.x server and one real
 * keep-alive socket: the headers, the query and its cached copies (the URI is cut to its path), and the decoder's
 * scratch buffer grown by a long line is emptied, the connection's cached addresses are dropped (and computed again
 * when asked for) — while the answer written later is whole and the
 * same connection serves the next requests (a long one again, and a POST with a body). Also fails on a Vert.x or
 * Netty upgrade that moved the internals it needs.
 */
class HeldRequestsTest {
  static Vertx vertx;
  static HttpServer server;
  /** What the server saw of each request, before and after lightening it. */
  static final ConcurrentLinkedQueue<JsonObject> seen = new ConcurrentLinkedQueue<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer(new HttpServerOptions().setPort(0).setHost("127.0.0.1")).requestHandler(req -> {
      if (req.method() == io.vertx.core.http.HttpMethod.POST) {
        req.body().onSuccess(b -> req.response().end("posted " + b.length()));
        return;
      }
      // read what the answer needs, then hold it lightened, answered by a timer (as a poll is by a publication)
      String token = req.getParam("token");
      String padding = req.getHeader("x-padding");
      if (req.path().startsWith("/proxied")) {
        // what a proxy-protocol header does: an address Vert.x takes once from the channel, then only from its cache
        ((io.vertx.core.net.impl.VertxConnection) req.connection()).channel()
            .attr(io.vertx.core.net.impl.ConnectionBase.REMOTE_ADDRESS_OVERRIDE)
            .set(io.vertx.core.net.SocketAddress.inetSocketAddress(4711, "10.1.2.3"));
      }
      int scratchBefore = HeldRequests.scratchCapacity(req.connection());
      String remoteBefore = req.connection().remoteAddress().hostAddress(); // cached by the connection from now on
      boolean cachedBefore = HeldRequests.cachedRemoteAddress(req.connection()) != null;
      boolean lightened = req.path().endsWith("/1") ? HeldRequests.lighten(req, "/held") : HeldRequests.lighten(req);
      seen.add(new JsonObject().put("lightened", lightened).put("scratchBefore", scratchBefore)
          .put("scratchAfter", HeldRequests.scratchCapacity(req.connection()))
          .put("headersAfter", req.headers().size()).put("uriAfter", req.uri()).put("pathAfter", req.path())
          .put("queryAfter", req.query()).put("paramsAfter", req.params().size())
          .put("remoteBefore", remoteBefore).put("cachedBefore", cachedBefore)
          .put("cachedAfter", HeldRequests.cachedRemoteAddress(req.connection()) != null)
          .put("remoteAfter", req.connection().remoteAddress().hostAddress()));
      String body = req.path().startsWith("/proxied") ? "remote " + req.connection().remoteAddress()
          : "token " + token.length() + " padding " + padding.length();
      vertx.setTimer(100, t -> req.response().putHeader("content-type", "text/plain").end(body));
    });
    server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void theInternalsAreFound() {
    assertTrue(HeldRequests.available(), "Vert.x/Netty internals for lightening a held request not found");
  }

  @Test
  void aLightenedRequestIsAnsweredWholeAndItsConnectionServesOn() throws Exception {
    String token = "t".repeat(700);
    String padding = "p".repeat(900);
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      for (int round = 0; round < 2; round++) {
        seen.clear();
        out.write(("GET /held/" + round + "?token=" + token + "&x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + padding + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        String answer = read(in);
        assertEquals("token 700 padding 900", answer);
        JsonObject s = seen.poll();
        assertEquals(true, s.getBoolean("lightened"), s.encode());
        assertTrue(s.getInteger("scratchBefore") > 900, "the decoder's scratch grew with the long lines: " + s.encode());
        assertEquals(HeldRequests.SCRATCH_BYTES, s.getInteger("scratchAfter"), s.encode());
        assertEquals(0, s.getInteger("headersAfter"), s.encode());
        // the path, or the caller's constant for the endpoint
        String uri = round == 1 ? "/held" : "/held/" + round;
        assertEquals(uri, s.getString("uriAfter"), s.encode());
        assertEquals(uri, s.getString("pathAfter"), s.encode());
        assertEquals(null, s.getString("queryAfter"), s.encode());
        assertEquals(0, s.getInteger("paramsAfter"), s.encode());
        assertEquals(true, s.getBoolean("cachedBefore"), s.encode());
        assertEquals(false, s.getBoolean("cachedAfter"), "the cached addresses are dropped: " + s.encode());
        assertEquals("127.0.0.1", s.getString("remoteBefore"), s.encode());
        assertEquals("127.0.0.1", s.getString("remoteAfter"), "and computed again when asked for: " + s.encode());
      }
      // the same connection: a request with a body after the held ones
      out.write("POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertEquals("posted 5", read(in));
    }
  }

  /** Keep-alive and pipelining are decided before a request is lightened: a close still closes, a pipelined one is served. */
  @Test
  void connectionCloseAndPipeliningStillHold() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      // two requests in one write: the second waits behind the held first one
      out.write(("GET /held/7?token=abc HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: pp\r\n\r\n"
          + "POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertEquals("token 3 padding 2", read(in));
      assertEquals("posted 3", read(in));
      // Connection: close on a held request: answered whole, then the server closes
      out.write("GET /held/8?token=abcd HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: p\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String rest = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1); // to the end of the stream: closed
      assertTrue(rest.startsWith("HTTP/1.1 200 OK"), rest);
      assertTrue(rest.toLowerCase(java.util.Locale.ROOT).contains("connection: close"), rest);
      assertTrue(rest.endsWith("token 4 padding 1"), rest);
    }
  }

  /** A proxy-protocol client address is Vert.x's only copy of it: lightening keeps it. */
  @Test
  void anAddressFromAProxyHeaderIsKept() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
      socket.setSoTimeout(10_000);
      seen.clear();
      OutputStream out = socket.getOutputStream();
      out.write("GET /proxied?token=t HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: p\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      assertEquals("remote 10.1.2.3:4711", read(socket.getInputStream()));
      JsonObject s = seen.poll();
      assertEquals("10.1.2.3", s.getString("remoteBefore"), s.encode());
      assertEquals(true, s.getBoolean("cachedAfter"), "kept: " + s.encode());
      assertEquals("10.1.2.3", s.getString("remoteAfter"), s.encode());
    }
  }

  /** One response's body (Content-Length), asserting keep-alive (no {@code connection: close}). */
  private static String read(InputStream in) throws IOException {
    String status = line(in);
    assertEquals("HTTP/1.1 200 OK", status);
    int length = -1;
    for (String l = line(in); !l.isEmpty(); l = line(in)) {
      String lower = l.toLowerCase(java.util.Locale.ROOT);
      if (lower.startsWith("content-length:")) length = Integer.parseInt(l.substring(15).trim());
      assertTrue(!lower.startsWith("connection:") || !lower.contains("close"), l);
    }
    return new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) throw new IOException("closed");
      if (c != '\r') b.write(c);
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }
}
