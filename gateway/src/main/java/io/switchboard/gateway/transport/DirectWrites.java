package io.switchboard.gateway.transport;

import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.impl.WebSocketImplBase;
import io.vertx.core.net.impl.VertxConnection;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;

/**
 * Memory per idle connection: Vert.x 5.0.10 gives every WebSocket connection a multi-producer write queue whose
 * first chunk is a 1024-slot array (~4 KB, the largest part of an idle connection), so that any thread may write.
 * Every write to our sockets happens on the socket's own event loop, which is exactly the case Vert.x's HTTP
 * "strict thread mode" serves with a direct queue — but that option does not reach upgraded WebSockets. This swaps
 * the queue for Vert.x's direct one right after the handshake, while it is empty.
 *
 * <p>It reaches into Vert.x internals, so it is guarded: if a Vert.x version changes them, {@link #apply} returns
 * false, the gateway keeps working with the default queue, and {@code DirectWritesTest} fails to say so.
 */
public final class DirectWrites {
  private DirectWrites() {}

  private static final Field CONNECTION;
  private static final Field QUEUE;
  private static final Constructor<?> DIRECT_QUEUE;
  /** ServerWebSocketHandshaker.request and Http1xServerRequest.conn: the upgrade's HTTP connection. */
  private static final Field HANDSHAKE_REQUEST;
  private static final Field REQUEST_CONNECTION;
  /** Vert.x's multi-producer queue (to give a plain HTTP connection back after a held response). */
  private static final Constructor<?> MPSC_QUEUE;

  static {
    Field conn = null;
    Field queue = null;
    Constructor<?> direct = null;
    try {
      conn = WebSocketImplBase.class.getDeclaredField("conn");
      conn.setAccessible(true);
      queue = VertxConnection.class.getDeclaredField("outboundMessageQueue");
      queue.setAccessible(true);
      direct = Class.forName(VertxConnection.class.getName() + "$DirectOutboundMessageQueue").getDeclaredConstructor(VertxConnection.class);
      direct.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      conn = null;
    }
    CONNECTION = conn;
    QUEUE = queue;
    DIRECT_QUEUE = direct;
    Field request = null;
    Field requestConn = null;
    try {
      request = Class.forName("io.vertx.core.http.impl.ServerWebSocketHandshaker").getDeclaredField("request");
      request.setAccessible(true);
      requestConn = Class.forName("io.vertx.core.http.impl.Http1xServerRequest").getDeclaredField("conn");
      requestConn.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      request = null;
    }
    HANDSHAKE_REQUEST = request;
    REQUEST_CONNECTION = requestConn;
    Constructor<?> mpsc = null;
    try {
      mpsc = Class.forName(VertxConnection.class.getName() + "$InternalMessageChannel")
          .getDeclaredConstructor(VertxConnection.class, io.vertx.core.internal.EventExecutor.class);
      mpsc.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      mpsc = null;
    }
    MPSC_QUEUE = mpsc;
  }

  /** Whether the internals for {@link #applyToHandshake} were found. */
  public static boolean availableForHandshakes() {
    return HANDSHAKE_REQUEST != null && CONNECTION != null;
  }

  /**
   * The same swap for the HTTP/1.1 connection that carried a WebSocket upgrade: it stays reachable from the upgraded
   * socket for the connection's whole life, so its unused multi-producer queue (~4.8 KB with the queue object) would
   * too. What Vert.x's {@code HttpServerOptions.setStrictThreadMode} does for every HTTP connection, limited to
   * upgraded ones: after the upgrade nothing writes to that connection any more. Strict mode itself is not used
   * because it makes every HTTP response written off its connection's event loop throw, and one may legitimately be
   * completed from another loop (a PubNub long-poll held by the session's loop). On the connection's event loop,
   * once the upgrade succeeded (its queue is empty: the handshake answer was written on the loop, directly). Returns
   * whether the swap was made.
   */
  public static boolean applyToHandshake(Object handshake) {
    if (!availableForHandshakes() || !HANDSHAKE_REQUEST.getDeclaringClass().isInstance(handshake)) return false;
    try {
      Object request = HANDSHAKE_REQUEST.get(handshake);
      Object connection = request == null ? null : REQUEST_CONNECTION.get(request);
      if (!(connection instanceof VertxConnection)) return false;
      QUEUE.set(connection, DIRECT_QUEUE.newInstance(connection));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /** Whether the internals for a held HTTP response's swap and its undoing were found. */
  public static boolean httpAvailable() {
    return QUEUE != null && DIRECT_QUEUE != null && MPSC_QUEUE != null;
  }

  /** Whether the internals were found (on this Vert.x version the swap works). */
  public static boolean available() {
    return CONNECTION != null;
  }

  /**
   * The same swap for a plain HTTP/1.x connection while it holds a response (a long-poll) that will be written on
   * its event loop and nothing else can be written meanwhile (HTTP/1.1 answers in order); {@link #restore} gives it
   * back its queue after. Only on that loop and while nothing waits in the queue (Netty's channel is writable, so
   * it has been drained). Returns whether the swap was made; a connection already on the direct queue (strict
   * thread mode) is left as it is.
   */
  public static boolean apply(io.vertx.core.http.HttpConnection connection) {
    if (QUEUE == null || MPSC_QUEUE == null || !(connection instanceof VertxConnection c)) return false;
    try {
      if (!c.channel().eventLoop().inEventLoop() || !c.channel().isWritable()) return false;
      Object current = QUEUE.get(c);
      if (current == null || current.getClass() == DIRECT_QUEUE.getDeclaringClass()) return false;
      QUEUE.set(c, DIRECT_QUEUE.newInstance(c));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Undoes {@link #apply(io.vertx.core.http.HttpConnection)} once the held response has been written (on the
   * connection's event loop): the connection may serve more requests, whose answers other threads may write (a
   * PubNub client's session lives on another loop), so it gets a fresh multi-producer queue again.
   */
  public static void restore(io.vertx.core.http.HttpConnection connection) {
    if (MPSC_QUEUE == null || !(connection instanceof VertxConnection c)) return;
    try {
      if (!c.channel().isOpen()) return;
      io.vertx.core.internal.ContextInternal ctx = c.context();
      QUEUE.set(c, MPSC_QUEUE.newInstance(c, ctx.executor()));
    } catch (ReflectiveOperationException | RuntimeException e) {
      // keeps the direct queue: still correct for writes on the loop
    }
  }

  /** On the socket's event loop, before anything is written through Vert.x. Returns whether the swap was made. */
  public static boolean apply(ServerWebSocket socket) {
    if (CONNECTION == null || !(socket instanceof WebSocketImplBase)) return false;
    try {
      Object connection = CONNECTION.get(socket);
      QUEUE.set(connection, DIRECT_QUEUE.newInstance(connection));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }
}
