package io.switchboard.launcher;

import io.switchboard.common.CloseCode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A native protocol v1 client for the CLI, on the JDK's WebSocket (no Vert.x instance to start: the CLI stays
 * quick). Connects with header auth, matches responses to requests by id, hands {@code event} frames to a
 * listener, and reports how the connection ended (the {@code disconnect} frame's code and reason when one came).
 */
final class NativeClient implements AutoCloseable {
  /** How a connection ended. */
  record Ended(int code, String reason, boolean reconnect) {}

  private final WebSocket socket;
  private final Listener listener;

  private NativeClient(WebSocket socket, Listener listener) {
    this.socket = socket;
    this.listener = listener;
  }

  /**
   * Opens {@code url} with {@code Authorization: Bearer token} and waits for the server's {@code connected} frame.
   *
   * @throws CliArgs.CliError unreachable (3) when the socket cannot be opened, failed (1) when the server refuses
   *     the token
   */
  static NativeClient connect(HttpClient http, URI url, String token, Consumer<JsonObject> events, Duration timeout) {
    Listener l = new Listener(events);
    WebSocket ws;
    try {
      ws = http.newWebSocketBuilder().header("Authorization", "Bearer " + token).connectTimeout(timeout)
          .buildAsync(url, l).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof WebSocketHandshakeException h) {
        throw new CliArgs.CliError(Main.EXIT_UNREACHABLE, url + " refused the WebSocket upgrade (HTTP " + h.getResponse().statusCode() + ")");
      }
      throw unreachable(url, c instanceof ConnectException || c instanceof HttpTimeoutException ? c : e);
    } catch (TimeoutException e) {
      throw unreachable(url, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw unreachable(url, e);
    }
    NativeClient c = new NativeClient(ws, l);
    try {
      CompletableFuture.anyOf(l.connected, l.ended).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | InterruptedException | ExecutionException e) {
      c.close();
      throw new CliArgs.CliError(Main.EXIT_UNREACHABLE, url + " did not answer the connect within " + timeout.toSeconds() + " s");
    }
    if (!l.connected.isDone()) {
      Ended end = l.ended.join();
      // refused at connect: only a server that is going away is worth retrying; an expired token stays expired
      boolean retry = end.reconnect() && end.code() != CloseCode.TOKEN_EXPIRED;
      throw new CliArgs.CliError(retry ? Main.EXIT_UNREACHABLE : Main.EXIT_FAILED,
          "the server closed the connection: " + end.code() + " " + end.reason());
    }
    return c;
  }

  private static CliArgs.CliError unreachable(URI url, Throwable t) {
    String why = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    if (t instanceof ConnectException) why = "connection refused";
    return new CliArgs.CliError(Main.EXIT_UNREACHABLE, "cannot reach the gateway at " + url + ": " + why);
  }

  /** The result of {@code connect} ({@code client}, {@code subject}, {@code subscriptions} …). */
  JsonObject connectResult() {
    return listener.connected.join();
  }

  /** Sends a request and returns its {@code result}; an {@code error} answer becomes a CliError with its code. */
  JsonObject request(String method, JsonObject params, Duration timeout) {
    String id = Integer.toString(listener.ids.incrementAndGet());
    return send(id, new JsonObject().put("type", "request").put("id", id).put("method", method).put("params", params), timeout);
  }

  JsonObject subscribe(JsonArray channels, Duration timeout) {
    String id = Integer.toString(listener.ids.incrementAndGet());
    return send(id, new JsonObject().put("type", "subscribe").put("id", id).put("channels", channels), timeout);
  }

  private JsonObject send(String id, JsonObject frame, Duration timeout) {
    CompletableFuture<JsonObject> answer = new CompletableFuture<>();
    listener.pending.put(id, answer);
    JsonObject response;
    try {
      synchronized (this) {
        socket.sendText(frame.encode(), true).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      }
      response = CompletableFuture.anyOf(answer, listener.ended).get(timeout.toMillis(), TimeUnit.MILLISECONDS)
          instanceof JsonObject r ? r : null;
    } catch (TimeoutException e) {
      throw new CliArgs.CliError(Main.EXIT_UNREACHABLE, "no answer from the gateway within " + timeout.toSeconds() + " s");
    } catch (ExecutionException | InterruptedException e) {
      throw new CliArgs.CliError(Main.EXIT_UNREACHABLE, "the connection failed: " + e.getMessage());
    } finally {
      listener.pending.remove(id);
    }
    if (response == null) {
      Ended end = listener.ended.join();
      throw new CliArgs.CliError(end.reconnect() ? Main.EXIT_UNREACHABLE : Main.EXIT_FAILED,
          "the server closed the connection: " + end.code() + " " + end.reason());
    }
    JsonObject error = response.getJsonObject("error");
    if (error != null) throw serverError(error);
    return response.getJsonObject("result", new JsonObject());
  }

  /** An error answer: unavailable means the server could not do it now (3), anything else it refused (1). */
  static CliArgs.CliError serverError(JsonObject error) {
    String code = error.getString("code", "internal");
    String extra = error.containsKey("retryAfterMs") ? " (retry after " + error.getValue("retryAfterMs") + " ms)" : "";
    return new CliArgs.CliError("unavailable".equals(code) ? Main.EXIT_UNREACHABLE : Main.EXIT_FAILED,
        code + ": " + error.getString("message", "") + extra);
  }

  /** Completes when the connection has ended, for whatever reason. */
  CompletableFuture<Ended> ended() {
    return listener.ended;
  }

  @Override
  public void close() {
    if (!socket.isOutputClosed()) {
      socket.sendClose(CloseCode.NORMAL, "bye").orTimeout(2, TimeUnit.SECONDS).exceptionally(t -> null).join();
    }
    socket.abort();
  }

  /** Receives frames on the HttpClient's threads; one at a time (each asks for the next). */
  private static final class Listener implements WebSocket.Listener {
    final CompletableFuture<JsonObject> connected = new CompletableFuture<>();
    final CompletableFuture<Ended> ended = new CompletableFuture<>();
    final Map<String, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
    final AtomicInteger ids = new AtomicInteger();
    private final Consumer<JsonObject> events;
    private final StringBuilder text = new StringBuilder();
    private volatile JsonObject disconnect;

    Listener(Consumer<JsonObject> events) {
      this.events = events;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        String frame = text.toString();
        text.setLength(0);
        try {
          frame(new JsonObject(frame));
        } catch (RuntimeException e) {
          System.err.println("switchboard: ignored a frame that is not a JSON object: " + e.getMessage());
        }
      }
      ws.request(1);
      return null;
    }

    private void frame(JsonObject f) {
      switch (f.getString("type", "")) {
        case "connected" -> connected.complete(f.getJsonObject("result", new JsonObject()));
        case "response" -> {
          CompletableFuture<JsonObject> p = pending.get(f.getString("id", ""));
          if (p != null) p.complete(f);
        }
        case "event" -> events.accept(f);
        case "disconnect" -> disconnect = f;
        case "error" -> System.err.println("switchboard: the server reported: " + f.getJsonObject("error", new JsonObject()).encode());
        default -> { /* pong, unsubscribed: nothing to do for a CLI */ }
      }
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int code, String reason) {
      JsonObject d = disconnect;
      // the disconnect frame carries the full reason; the close frame's may be cut
      String why = d != null ? d.getString("reason", reason) : reason;
      ended.complete(new Ended(code, why, code == CloseCode.GOING_AWAY || code >= 4500 || code == 1006));
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      ended.complete(new Ended(1006, "connection lost: " + error, true));
    }

    @Override
    public void onOpen(WebSocket ws) {
      ws.request(1);
    }
  }
}
