package io.switchboard.loadtest;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

/**
 * How the generator speaks to one kind of server. The scenarios only open connections, subscribe them to one
 * channel, publish and count deliveries; everything wire-specific lives behind this interface, so other protocols
 * (Pusher, Centrifuge) are one more implementation each.
 */
interface Protocol {
  String name();

  /** Path and query of the WebSocket upgrade; {@code channel} is null for publishers and connect-only clients. */
  String path(String channel);

  /**
   * Whether this client connects over WebSocket; false for the HTTP fallbacks' subscribers, whose session opens its
   * own HTTP requests in {@link Session#start}.
   */
  default boolean webSocket(Conn conn) {
    return true;
  }

  /** The protocol state of one connection. */
  Session session(Conn conn);

  /** Whether the server answers each publish (then publish acks and stored positions are measured). */
  boolean acksPublishes();

  /** Whether a resubscribe can recover what was missed (reconnect-storm). */
  boolean recovers();

  /**
   * Whether one channel's publications are delivered in the order published. False where publishes are concurrent
   * requests (Pusher's HTTP API): subscribers then count what arrived out of order and check completeness by the set
   * of sequences seen, not by each delivery being the next one.
   */
  default boolean ordered() {
    return true;
  }

  /** What a worker needs besides the name to speak it (app key and secret for Pusher); sent with "init". */
  default JsonObject options() {
    return new JsonObject();
  }

  /** The scenarios' channel names start with this (Pusher's names have no namespace colon). */
  default String channelPrefix() {
    return "bench:";
  }

  static Protocol of(String name, JsonObject options) {
    return switch (name) {
      case "native" -> new NativeProtocol();
      case "raw" -> new RawProtocol();
      case "socketio" -> new SocketIoProtocol();
      case "centrifuge" -> new CentrifugeProtocol();
      case "pusher" -> PusherProtocol.of(options);
      case "sse" -> new HttpProtocols.Sse();
      case "longpoll" -> new HttpProtocols.LongPoll();
      case "pubnub" -> new HttpProtocols.PubNub(options.getString("key", SwitchboardTarget.PUBNUB_KEY));
      default -> throw new IllegalArgumentException("unknown protocol '" + name + "' (native, raw, socketio, centrifuge, pusher, sse, longpoll, pubnub)");
    };
  }

  /** One connection's protocol state; every method runs on the connection's event loop. */
  abstract class Session {
    final Conn conn;

    Session(Conn conn) {
      this.conn = conn;
    }

    /**
     * Authenticates (when the protocol has tokens) and subscribes to {@link Conn#channel} when it is set. With
     * {@code recover} the subscription asks for what was missed since {@link Conn#lastSeq}. Completes with
     * {@code {offset?, recovered?}} once the subscription is live.
     */
    abstract Future<JsonObject> start(boolean recover);

    /** Every data frame the server sends. */
    abstract void onFrame(Buffer frame, long nowMicros);

    /** Sends one publication with {@code data} (a JSON object as text) to {@code channel}. */
    abstract void publish(String channel, String data, long nowMicros);

    /** Publishes sent and not yet answered (0 for protocols without acks). */
    int inFlight() {
      return 0;
    }

    /** Whether the client is connected (its WebSocket, or its HTTP stream or poll loop). */
    boolean isOpen() {
      return conn.ws != null && !conn.ws.isClosed();
    }

    /** Closes a client that is not a WebSocket; null for WebSocket clients (the socket is closed). */
    Future<Void> close() {
      return null;
    }
  }
}
