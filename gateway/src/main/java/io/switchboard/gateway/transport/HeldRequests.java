package io.switchboard.gateway.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObjectDecoder;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.impl.VertxConnection;
import java.lang.reflect.Field;

/**
 * Memory per held HTTP/1.1 request (a long-poll waiting for its answer): what Vert.x 5.0.10 and Netty keep of the
 * request while it waits, and the answer does not need. Once a poll is admitted and parsed, {@link #lighten} drops:
 * <ul>
 *   <li>the request's headers (Vert.x decided keep-alive when the request began: {@code Http1xServerConnection}
 *       passes it to the response's constructor, and nothing reads the request's headers after that): Netty's
 *       request gets Netty's shared read-only empty headers instead of its header map and its 16-slot table
 *       (~128 B);</li>
 *   <li>the copies Vert.x cached of the URI: {@code path}, {@code query}, the decoded {@code params} (a header map of
 *       its own), {@code absoluteURI}, the authority — and the URI itself is cut to its path (a PubNub URI carries
 *       the ~700-character token in {@code auth=});</li>
 *   <li>Netty's HTTP decoder's scratch buffer, which grows to the longest line it has parsed (the request line with
 *       the token, or the {@code Authorization} header) and never shrinks, and still holds the tail of the last
 *       header parsed (part of a bearer token): emptied to no capacity at all (the next request on the connection
 *       grows it again, 64 bytes first);</li>
 *   <li>the response encoder's scratch list, grown to 10 slots by the connection's first response and kept: trimmed
 *       (it grows again at the next write);</li>
 *   <li>the connection's cached socket addresses (Vert.x computes them on the first call — its byte metrics ask for
 *       the remote address at every write — and keeps them: ~145 B of address objects and host string per
 *       connection); they are computed again from the channel when next asked for. An address a proxy-protocol
 *       header gave is kept (Vert.x reads that header's address once).</li>
 * </ul>
 * Nothing here changes what is written: the answer's status, headers and body, and keep-alive, are the response's.
 *
 * <p>It reaches into Vert.x and Netty internals, so it is guarded like {@link DirectWrites}: when a field is not
 * found, that part is skipped, the request keeps what it held, and {@code HeldRequestsTest} fails to say so. Only on
 * the connection's event loop, once the request has been fully read (a GET: its end came with its head).
 */
public final class HeldRequests {
  private HeldRequests() {}

  /** What Netty's decoder scratch buffer keeps while a request is held: nothing. */
  static final int SCRATCH_BYTES = 0;

  private static final Class<?> SERVER_REQUEST;
  private static final Field DELEGATE;
  private static final Field NETTY_REQUEST;
  private static final Field[] CACHES;
  private static final Field URI;
  private static final Field PATH;
  private static final Field SCRATCH;
  /** {@code ConnectionBase}'s cached addresses: remote, real remote, local, real local. */
  private static final Field[] ADDRESSES;
  /** Netty's {@code DefaultHttpMessage.headers} (final: set by reflection) and {@code HttpObjectEncoder.out}. */
  private static final Field MESSAGE_HEADERS;
  private static final Field ENCODER_OUT;

  static {
    Class<?> request = null;
    Field delegate = null;
    Field netty = null;
    Field uri = null;
    Field path = null;
    Field[] caches = null;
    try {
      request = Class.forName("io.vertx.core.http.impl.Http1xServerRequest");
      delegate = io.vertx.core.internal.http.HttpServerRequestWrapper.class.getDeclaredField("delegate");
      delegate.setAccessible(true);
      netty = request.getDeclaredField("request");
      netty.setAccessible(true);
      uri = request.getDeclaredField("uri");
      uri.setAccessible(true);
      path = request.getDeclaredField("path");
      path.setAccessible(true);
      String[] names = {"query", "params", "absoluteURI", "headers", "authority"};
      caches = new Field[names.length];
      for (int i = 0; i < names.length; i++) {
        caches[i] = request.getDeclaredField(names[i]);
        caches[i].setAccessible(true);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      request = null;
    }
    SERVER_REQUEST = request;
    DELEGATE = delegate;
    NETTY_REQUEST = netty;
    URI = uri;
    PATH = path;
    CACHES = caches;
    Field scratch = null;
    try {
      scratch = HttpObjectDecoder.class.getDeclaredField("parserScratchBuffer");
      scratch.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      scratch = null;
    }
    SCRATCH = scratch;
    Field[] addresses = null;
    try {
      String[] names = {"remoteAddress", "realRemoteAddress", "localAddress", "realLocalAddress"};
      Field[] found = new Field[names.length];
      for (int i = 0; i < names.length; i++) {
        found[i] = io.vertx.core.net.impl.ConnectionBase.class.getDeclaredField(names[i]);
        found[i].setAccessible(true);
      }
      addresses = found;
    } catch (ReflectiveOperationException | RuntimeException e) {
      addresses = null;
    }
    ADDRESSES = addresses;
    Field headers = null;
    Field out = null;
    try {
      headers = io.netty.handler.codec.http.DefaultHttpMessage.class.getDeclaredField("headers");
      headers.setAccessible(true);
      out = io.netty.handler.codec.http.HttpObjectEncoder.class.getDeclaredField("out");
      out.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      headers = null;
      out = null;
    }
    MESSAGE_HEADERS = headers;
    ENCODER_OUT = out;
  }

  /** Whether every internal {@link #lighten} reaches was found on this Vert.x/Netty version. */
  public static boolean available() {
    return SERVER_REQUEST != null && SCRATCH != null && ADDRESSES != null && MESSAGE_HEADERS != null && ENCODER_OUT != null;
  }

  /**
   * Drops what a held request keeps and its answer does not need (see the class comment). On the connection's event
   * loop; after this, the request's headers, parameters and query are gone (read them before). Returns whether the
   * request's parts were dropped (false: an unknown request class, e.g. HTTP/2, or missing internals).
   */
  public static boolean lighten(HttpServerRequest request) {
    return lighten(request, null);
  }

  /**
   * The same, and the request's URI becomes {@code heldUri} (a constant of the caller naming the endpoint, e.g.
   * {@code /v1/poll}: not even the path is kept per request) instead of its path.
   */
  public static boolean lighten(HttpServerRequest request, String heldUri) {
    boolean done = false;
    Object r = unwrap(request);
    if (SERVER_REQUEST != null && SERVER_REQUEST.isInstance(r)) {
      try {
        io.netty.handler.codec.http.HttpRequest netty = (io.netty.handler.codec.http.HttpRequest) NETTY_REQUEST.get(r);
        if (MESSAGE_HEADERS != null && netty instanceof io.netty.handler.codec.http.DefaultHttpMessage) {
          MESSAGE_HEADERS.set(netty, io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
        } else {
          netty.headers().clear();
        }
        String uri = netty.uri();
        int q = uri.indexOf('?');
        if (heldUri != null || q >= 0) {
          String path = heldUri != null ? heldUri : uri.substring(0, q);
          netty.setUri(path);
          URI.set(r, path);
          PATH.set(r, path);
        } else {
          URI.set(r, uri);
        }
        for (Field f : CACHES) f.set(r, null);
        done = true;
      } catch (ReflectiveOperationException | RuntimeException e) {
        done = false;
      }
    }
    shrinkDecoder(request.connection());
    trimEncoder(request.connection());
    forgetAddresses(request.connection());
    return done;
  }

  /** The response encoder's scratch list trimmed when empty (between writes it is). On the connection's loop only. */
  static boolean trimEncoder(io.vertx.core.http.HttpConnection connection) {
    if (ENCODER_OUT == null || !(connection instanceof VertxConnection c)) return false;
    try {
      Channel ch = c.channel();
      if (!ch.eventLoop().inEventLoop()) return false;
      io.netty.handler.codec.http.HttpObjectEncoder<?> encoder = ch.pipeline().get(io.netty.handler.codec.http.HttpObjectEncoder.class);
      if (encoder == null) return false;
      if (ENCODER_OUT.get(encoder) instanceof java.util.ArrayList<?> list && list.isEmpty()) list.trimToSize();
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** Netty's HTTP decoder's scratch buffer emptied (between requests it holds nothing). */
  static boolean shrinkDecoder(io.vertx.core.http.HttpConnection connection) {
    if (SCRATCH == null || !(connection instanceof VertxConnection c)) return false;
    try {
      Channel ch = c.channel();
      if (!ch.eventLoop().inEventLoop()) return false;
      HttpObjectDecoder decoder = ch.pipeline().get(HttpObjectDecoder.class);
      if (decoder == null) return false;
      ByteBuf scratch = (ByteBuf) SCRATCH.get(decoder);
      if (scratch.capacity() > SCRATCH_BYTES) scratch.clear().capacity(SCRATCH_BYTES);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The connection's cached addresses dropped where they are the socket's own (computed again from the channel on the
   * next call). An address that is not the socket's came from a proxy-protocol header, which Vert.x reads once: the
   * cached field is its only copy, so it stays. On the connection's event loop only.
   */
  static boolean forgetAddresses(io.vertx.core.http.HttpConnection connection) {
    if (ADDRESSES == null || !(connection instanceof VertxConnection c)) return false;
    try {
      Channel ch = c.channel();
      if (!ch.eventLoop().inEventLoop()) return false;
      if (isSocketAddress(ADDRESSES[0].get(c), ch.remoteAddress())) ADDRESSES[0].set(c, null);
      ADDRESSES[1].set(c, null);
      if (isSocketAddress(ADDRESSES[2].get(c), ch.localAddress())) ADDRESSES[2].set(c, null);
      ADDRESSES[3].set(c, null);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** Whether a cached Vert.x address (or none) is the channel's own socket address. */
  private static boolean isSocketAddress(Object cached, java.net.SocketAddress socket) {
    if (cached == null) return true;
    if (!(cached instanceof io.vertx.core.net.SocketAddress a) || !(socket instanceof java.net.InetSocketAddress s)) return false;
    return a.port() == s.getPort() && s.getAddress() != null && s.getAddress().getHostAddress().equals(a.hostAddress());
  }

  /** The Vert.x request under vertx-web's (and any other) wrappers. */
  private static Object unwrap(HttpServerRequest request) {
    Object r = request;
    try {
      for (int i = 0; i < 8 && DELEGATE != null && r instanceof io.vertx.core.internal.http.HttpServerRequestWrapper; i++) r = DELEGATE.get(r);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return request;
    }
    return r;
  }

  /** The connection's cached remote address, or null (tests). */
  static Object cachedRemoteAddress(io.vertx.core.http.HttpConnection connection) {
    try {
      return ADDRESSES[0].get(connection);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "unknown";
    }
  }

  /** The decoder's scratch buffer capacity on a connection (tests). */
  static int scratchCapacity(io.vertx.core.http.HttpConnection connection) {
    try {
      HttpObjectDecoder decoder = ((VertxConnection) connection).channel().pipeline().get(HttpObjectDecoder.class);
      return ((ByteBuf) SCRATCH.get(decoder)).capacity();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return -1;
    }
  }
}
