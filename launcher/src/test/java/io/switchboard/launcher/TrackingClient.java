package io.switchboard.launcher;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A subscriber that behaves like a well-written production client: it keeps its last (offset, epoch) per channel,
 * and when its connection drops (kill -9, drain) it reconnects to the next gateway with recovery. It counts what a
 * delivery guarantee is about: publications lost (an offset skipped), duplicated (an offset seen again) and out of
 * order, plus positions the server could not recover. Runs on one Vert.x context; read counters after {@link #stop}.
 *
 * <p>With {@link #heartbeat} it also notices a server that stopped answering without closing (a frozen JVM keeps its
 * sockets open): it pings, and when nothing has arrived for the deadline it abandons that connection (and a
 * handshake that hangs) and moves on to the next gateway, as a production client's liveness check does.
 */
final class TrackingClient {
  final String name;
  private final Vertx vertx;
  private final Context context;
  private final WebSocketClient client;
  private final String token;
  /** Backoff before a subscribe answered {@code unavailable} is sent again (see {@link #retryUnavailable}). */
  static final long SUBSCRIBE_RETRY_MS = 500;
  /** Whether an {@code unavailable} subscribe is retried; otherwise it counts as unrecovered. */
  private boolean retryUnavailable;
  private final List<String> channels;
  private final List<Integer> ports;
  private int portIndex;
  private WebSocket socket;
  private volatile boolean stopped;
  /** The current connection attempt; callbacks of an abandoned one are ignored (context-confined). */
  private int attempt;
  private boolean live;
  private long lastFrameNanos;
  private long heartbeatMs;
  private long deadMs;
  private long heartbeatTimer = -1;

  private final Map<String, Long> last = new HashMap<>();
  private final Map<String, String> epochs = new HashMap<>();
  int lost;
  /** Offsets at or below the last delivered one: duplicates and out-of-order deliveries together. */
  int duplicated;
  /** Of {@link #duplicated}, the offsets never delivered before (they came after a later one: reordered). */
  int outOfOrder;
  /** Connections abandoned by the heartbeat (the server went silent without closing). */
  int silentFailovers;
  /** Channels whose subscribe was answered {@code unavailable} and sent again after {@link #SUBSCRIBE_RETRY_MS}. */
  int retriedSubscribes;
  private final Map<String, java.util.BitSet> seen = new HashMap<>();
  int unrecovered;
  int delivered;
  int reconnects;
  /** Longest time from a lost connection to the answer of the resubscribe on the next one (recovery included). */
  long longestOutageMs;
  private long lostAtNanos;
  /** Close codes of connections the server closed, in order. */
  final java.util.List<Integer> closeCodes = new java.util.ArrayList<>();

  TrackingClient(String name, Vertx vertx, WebSocketClient client, String token, List<String> channels, List<Integer> ports) {
    this.name = name;
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.client = client;
    this.token = token;
    this.channels = channels;
    this.ports = ports;
  }

  /**
   * Pings every {@code everyMs} once connected; a connection (or handshake) silent for {@code silentMs} is abandoned
   * for the next gateway. Call before {@link #start}.
   */
  TrackingClient heartbeat(long everyMs, long silentMs) {
    this.heartbeatMs = everyMs;
    this.deadMs = silentMs;
    return this;
  }

  /**
   * Retries a subscribe answered {@code unavailable} after {@link #SUBSCRIBE_RETRY_MS}, as docs/protocol.md tells
   * clients to (faults where a gateway may briefly have no route to the store); without this it counts as unrecovered.
   * Call before {@link #start}.
   */
  TrackingClient retryUnavailable() {
    this.retryUnavailable = true;
    return this;
  }

  void start() {
    context.runOnContext(v -> {
      if (heartbeatMs > 0) heartbeatTimer = vertx.setPeriodic(heartbeatMs, t -> checkLiveness());
      connect();
    });
  }

  private void connect() {
    if (stopped) return;
    int my = ++attempt;
    live = false;
    socket = null;
    lastFrameNanos = System.nanoTime();
    int port = ports.get(portIndex % ports.size());
    client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI("/ws")).onComplete(ar -> {
      if (my != attempt) {
        if (ar.succeeded()) ar.result().close(); // the handshake answered after it was given up
        return;
      }
      if (ar.failed()) {
        portIndex++;
        vertx.setTimer(100, t -> connect());
        return;
      }
      WebSocket s = ar.result();
      socket = s;
      lastFrameNanos = System.nanoTime();
      s.textMessageHandler(text -> {
        if (my != attempt) return;
        lastFrameNanos = System.nanoTime();
        onFrame(text);
      });
      s.closeHandler(x -> {
        if (my == attempt) onClose(s);
      });
      s.writeTextMessage(new JsonObject().put("type", "request").put("id", "c").put("method", "connect")
          .put("params", new JsonObject().put("token", token)).encode());
    });
  }

  private void checkLiveness() {
    if (stopped) return;
    if (System.nanoTime() - lastFrameNanos > deadMs * 1_000_000) {
      abandon();
    } else if (live && socket != null) {
      socket.writeTextMessage("{\"type\":\"ping\"}");
    }
  }

  /** The server went silent: give up this connection (or handshake) and reconnect to the next gateway. */
  private void abandon() {
    WebSocket old = socket;
    synchronized (this) {
      silentFailovers++;
      if (lostAtNanos == 0) lostAtNanos = lastFrameNanos;
    }
    reconnects++;
    portIndex++;
    attempt++; // everything the old connection still says is ignored from now on
    if (old != null) old.close();
    connect();
  }

  private void onClose(WebSocket closed) {
    Short code = closed.closeStatusCode();
    synchronized (this) {
      closeCodes.add(code == null ? 1006 : (int) code);
      if (lostAtNanos == 0) lostAtNanos = System.nanoTime();
    }
    if (stopped) return;
    reconnects++;
    portIndex++;
    vertx.setTimer(50, t -> connect());
  }

  private void onFrame(String text) {
    JsonObject f = new JsonObject(text);
    String type = f.getString("type");
    if ("response".equals(type) && "c".equals(f.getString("id"))) {
      live = true;
      subscribe();
    } else if ("response".equals(type) && "s".equals(f.getString("id"))) {
      List<String> retry = new java.util.ArrayList<>();
      for (Object o : f.getJsonObject("result").getJsonArray("channels")) {
        JsonObject a = (JsonObject) o;
        String ch = a.getString("channel");
        synchronized (this) {
          if (retryUnavailable && !a.getBoolean("ok") && "unavailable".equals(a.getJsonObject("error", new JsonObject()).getString("code"))) {
            // what docs/protocol.md tells a client to do with unavailable: try again after a backoff (e.g. this
            // gateway's JVM is briefly cut off from the store while the cluster re-forms)
            retriedSubscribes++;
            retry.add(ch);
          } else if (!a.getBoolean("ok")) {
            unrecovered++;
          } else if (a.containsKey("recovered")) {
            if (!a.getBoolean("recovered")) unrecovered++;
          } else {
            last.put(ch, a.getLong("offset"));
            epochs.put(ch, a.getString("epoch"));
          }
        }
      }
      synchronized (this) {
        // the outage ends when every channel is subscribed again
        if (lostAtNanos != 0 && retry.isEmpty()) {
          longestOutageMs = Math.max(longestOutageMs, (System.nanoTime() - lostAtNanos) / 1_000_000);
          lostAtNanos = 0;
        }
      }
      if (!retry.isEmpty()) {
        int my = attempt;
        vertx.setTimer(SUBSCRIBE_RETRY_MS, t -> {
          if (my == attempt && !stopped && socket != null) subscribe(retry);
        });
      }
    } else if ("event".equals(type) && f.containsKey("offset")) {
      onEvent(f.getString("channel"), f.getLong("offset"), f.getString("epoch"));
    }
  }

  private synchronized void onEvent(String channel, long offset, String epoch) {
    Long prev = last.get(channel);
    if (prev == null || !epoch.equals(epochs.get(channel))) {
      // an event before any position is known cannot happen: the subscribe answer comes first
      unrecovered++;
      last.put(channel, offset);
      epochs.put(channel, epoch);
      return;
    }
    java.util.BitSet s = seen.computeIfAbsent(channel, k -> new java.util.BitSet());
    if (offset <= prev) {
      duplicated++;
      if (!s.get((int) offset)) {
        outOfOrder++;
        s.set((int) offset);
      }
    } else {
      s.set((int) offset);
      lost += (int) (offset - prev - 1);
      last.put(channel, offset);
      delivered++;
    }
  }

  private void subscribe() {
    subscribe(channels);
  }

  private void subscribe(List<String> which) {
    JsonArray subs = new JsonArray();
    synchronized (this) {
      for (String ch : which) {
        Long off = last.get(ch);
        subs.add(off == null ? new JsonObject().put("channel", ch)
            : new JsonObject().put("channel", ch).put("recover", new JsonObject().put("offset", off).put("epoch", epochs.get(ch))));
      }
    }
    socket.writeTextMessage(new JsonObject().put("type", "subscribe").put("id", "s").put("channels", subs).encode());
  }

  /** Whether this client has seen every channel up to the given final offsets. */
  synchronized boolean caughtUp(Map<String, Long> finals) {
    for (String ch : channels) {
      Long want = finals.get(ch);
      if (want != null && (last.get(ch) == null || last.get(ch) < want)) return false;
    }
    return true;
  }

  synchronized boolean subscribed() {
    return last.keySet().containsAll(channels);
  }

  void stop() {
    stopped = true;
    context.runOnContext(v -> {
      if (heartbeatTimer >= 0) vertx.cancelTimer(heartbeatTimer);
      if (socket != null) socket.close();
    });
  }

  @Override
  public synchronized String toString() {
    return name + "{delivered=" + delivered + ", lost=" + lost + ", duplicated=" + duplicated + ", outOfOrder=" + outOfOrder
        + ", unrecovered=" + unrecovered + ", reconnects=" + reconnects + ", silentFailovers=" + silentFailovers + ", retriedSubscribes=" + retriedSubscribes + ", closes=" + closeCodes + ", longestOutageMs=" + longestOutageMs + ", at=" + last + "}";
  }
}
