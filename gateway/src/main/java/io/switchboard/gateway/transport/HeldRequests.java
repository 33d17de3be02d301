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
 *       passes it to the response's constructor, and nothing reads the request's headers after that);</li>
 *   <li>the copies Vert.x cached of the URI: {@code path}, {@code query}, the decoded {@code params} (a header map of
 *       its own), {@code absoluteURI}, the authority — and the URI itself is cut to its path (a PubNub URI carries
 *       the ~700-character token in {@code auth=});</li>
 *   <li>Netty's HTTP decoder's scratch buffer, which grows to the longest line it has parsed (the request line with
 *       the token, or the {@code Authorization} header) and never shrinks: back to its initial 128 bytes.</li>
 * </ul>
 * Nothing here changes what is written: the answer's status, headers and body, and keep-alive, are the response's.
 *
 * <p>It reaches into Vert.x and Netty internals, so it is guarded like {@link DirectWrites}: when a field is not
 * found, that part is skipped, the request keeps what it held, and {@code HeldRequestsTest} fails to say so. Only on
 * the connection's event loop, once the request has been fully read (a GET: its end came with its head).
 */
public final class HeldRequests {
  private HeldRequests() {}

  /** The initial size of Netty's decoder scratch buffer ({@code HttpDecoderConfig}'s default initial buffer size). */
  static final int SCRATCH_BYTES = 128;

  private static final Class<?> SERVER_REQUEST;
  private static final Field DELEGATE;
  private static final Field NETTY_REQUEST;
  private static final Field[] CACHES;
  private static final Field URI;
  private static final Field PATH;
  private static final Field SCRATCH;

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
  }

  /** Whether every internal {@link #lighten} reaches was found on this Vert.x/Netty version. */
  public static boolean available() {
    return SERVER_REQUEST != null && SCRATCH != null;
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
        netty.headers().clear();
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
    return done;
  }

  /** Netty's HTTP decoder's scratch buffer back to its initial size (between requests it holds nothing). */
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
