package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.switchboard.common.test.OnContext;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A real WebSocket client for tests: records every frame it receives, in order; tests take frames by predicate
 * (waiting with a deadline) so responses and events can interleave freely.
 */
final class WsClient implements AutoCloseable {
  final WebSocket socket;
  private final List<JsonObject> inbox = new ArrayList<>();
  private final List<JsonObject> all = new ArrayList<>();
  private final AtomicInteger ids = new AtomicInteger();
  volatile Short closeCode;
  volatile String closeReason;
  JsonObject connectResult;

  private final OnContext on;

  WsClient(WebSocket socket, OnContext on) {
    this.socket = socket;
    this.on = on;
    socket.textMessageHandler(t -> {
      JsonObject f = new JsonObject(t);
      synchronized (this) {
        inbox.add(f);
        all.add(f);
      }
    });
    socket.closeHandler(v -> {
      closeReason = socket.closeReason();
      closeCode = socket.closeStatusCode() == null ? (short) 1006 : socket.closeStatusCode();
    });
  }

  void sendText(String text) {
    on.await(() -> socket.writeTextMessage(text));
  }

  void send(JsonObject frame) {
    sendText(frame.encode());
  }

  String nextId() {
    return "r" + ids.incrementAndGet();
  }

  /** Sends a request and waits for its response frame (result or error). */
  JsonObject request(String method, JsonObject params) {
    String id = nextId();
    send(new JsonObject().put("type", "request").put("id", id).put("method", method).put("params", params));
    return response(id);
  }

  JsonObject result(String method, JsonObject params) {
    JsonObject r = request(method, params);
    if (r.containsKey("error")) throw new AssertionError(method + " failed: " + r.encode());
    return r.getJsonObject("result");
  }

  JsonObject subscribe(Object... channels) {
    String id = nextId();
    send(new JsonObject().put("type", "subscribe").put("id", id).put("channels", new JsonArray(List.of(channels))));
    return response(id);
  }

  JsonObject unsubscribe(String... channels) {
    String id = nextId();
    send(new JsonObject().put("type", "unsubscribe").put("id", id).put("channels", new JsonArray(List.of((Object[]) channels))));
    return response(id);
  }

  JsonObject response(String id) {
    return take("response to " + id, f -> "response".equals(f.getString("type")) && id.equals(f.getString("id")));
  }

  /** The next event on a channel (in arrival order). */
  JsonObject event(String channel) {
    return take("event on " + channel, f -> "event".equals(f.getString("type")) && channel.equals(f.getString("channel")));
  }

  JsonObject event(String channel, String eventName) {
    return take(eventName + " on " + channel, f -> "event".equals(f.getString("type")) && channel.equals(f.getString("channel"))
        && eventName.equals(f.getString("event")));
  }

  /** Removes and returns the first received frame matching {@code p}, waiting up to the default deadline. */
  JsonObject take(String what, Predicate<JsonObject> p) {
    return take(what, p, Await.DEFAULT);
  }

  JsonObject take(String what, Predicate<JsonObject> p, Duration timeout) {
    JsonObject[] found = new JsonObject[1];
    Await.until(what, timeout, () -> {
      synchronized (this) {
        for (Iterator<JsonObject> it = inbox.iterator(); it.hasNext(); ) {
          JsonObject f = it.next();
          if (p.test(f)) {
            it.remove();
            found[0] = f;
            return true;
          }
        }
        return false;
      }
    });
    return found[0];
  }

  /** Frames received so far matching {@code p}, without removing them. */
  synchronized List<JsonObject> seen(Predicate<JsonObject> p) {
    return all.stream().filter(p).toList();
  }

  synchronized List<JsonObject> received() {
    return List.copyOf(all);
  }

  /** Waits for the socket to close; returns the close code. */
  short awaitClose() {
    Await.until("socket close", () -> closeCode != null);
    return closeCode;
  }

  boolean isOpen() {
    return closeCode == null;
  }

  @Override
  public void close() {
    if (closeCode == null) on.run(socket::close);
  }
}
