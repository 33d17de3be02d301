package io.switchboard.launcher;

import io.switchboard.common.test.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Debian's headless chromium driven over the DevTools protocol (no browser download, no driver): navigate, run
 * JavaScript in the page, wait for a condition, take a screenshot. The browser comes from {@code CHROMIUM} or
 * {@code /usr/bin/chromium} (apt-get install chromium; .ci/run installs it).
 */
final class Chromium implements AutoCloseable {
  private final Process process;
  private final Path profile;
  private final WebSocket socket;
  private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
  private final AtomicInteger ids = new AtomicInteger();

  private Chromium(Process process, Path profile, WebSocket socket) {
    this.process = process;
    this.profile = profile;
    this.socket = socket;
  }

  static String executable() {
    String exe = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    if (!Files.isExecutable(Path.of(exe))) {
      throw new AssertionError("no chromium at " + exe + ": install it (apt-get install chromium; .ci/run does) or set CHROMIUM");
    }
    return exe;
  }

  static Chromium launch() throws Exception {
    Path profile = Files.createTempDirectory("chromium-profile");
    Process p = new ProcessBuilder(executable(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--window-size=1280,720",
        "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank")
        .redirectErrorStream(true).start();
    // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…" tells the port
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          int at = line.indexOf("DevTools listening on ws://");
          if (at >= 0) port.complete(URI.create(line.substring(at + "DevTools listening on ".length()).trim()).getPort());
        }
      } catch (IOException ignored) {
        // the browser ended
      }
      port.completeExceptionally(new AssertionError("chromium exited without a DevTools port"));
    }, "chromium-output");
    reader.setDaemon(true);
    reader.start();
    int devtools = port.get(60, TimeUnit.SECONDS);
    HttpClient http = HttpClient.newHttpClient();
    String list = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + devtools + "/json/list")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    String page = null;
    for (Object o : new JsonArray(list)) {
      JsonObject t = (JsonObject) o;
      if ("page".equals(t.getString("type"))) page = t.getString("webSocketDebuggerUrl");
    }
    if (page == null) throw new AssertionError("chromium has no page target: " + list);
    Chromium[] self = new Chromium[1];
    StringBuilder partial = new StringBuilder();
    WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(page), new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
          JsonObject m = new JsonObject(partial.toString());
          partial.setLength(0);
          Integer id = m.getInteger("id");
          if (id != null && self[0] != null) {
            CompletableFuture<JsonObject> f = self[0].pending.remove(id);
            if (f != null) f.complete(m);
          }
        }
        w.request(1);
        return null;
      }
    }).get(30, TimeUnit.SECONDS);
    self[0] = new Chromium(p, profile, ws);
    return self[0];
  }

  /** One DevTools command; its result, or an AssertionError with the browser's error. */
  JsonObject call(String method, JsonObject params) {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonObject> answer = new CompletableFuture<>();
    pending.put(id, answer);
    try {
      synchronized (this) {
        socket.sendText(new JsonObject().put("id", id).put("method", method).put("params", params).encode(), true).get(30, TimeUnit.SECONDS);
      }
      JsonObject m = answer.get(30, TimeUnit.SECONDS);
      if (m.containsKey("error")) throw new AssertionError(method + " failed: " + m.getJsonObject("error").encode());
      return m.getJsonObject("result", new JsonObject());
    } catch (AssertionError e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError(method + " failed: " + e, e);
    }
  }

  void navigate(String url) {
    call("Page.navigate", new JsonObject().put("url", url));
  }

  /** Evaluates an expression in the page; its value (JSON-compatible), null when undefined. */
  Object eval(String expression) {
    JsonObject r = call("Runtime.evaluate", new JsonObject().put("expression", expression).put("returnByValue", true)
        .put("awaitPromise", true));
    if (r.containsKey("exceptionDetails")) throw new AssertionError("page script failed: " + r.getJsonObject("exceptionDetails").encode());
    return r.getJsonObject("result").getValue("value");
  }

  /** Waits until the expression is true in the page (the page may be loading meanwhile). */
  void waitFor(String what, String expression) {
    try {
      Await.until(what, Duration.ofSeconds(20), () -> {
        try {
          return Boolean.TRUE.equals(eval(expression));
        } catch (AssertionError e) {
          return false; // navigating: the execution context changed under us
        }
      });
    } catch (AssertionError e) {
      String page;
      try {
        page = eval("location.href") + "\n" + text();
      } catch (AssertionError again) {
        page = "(page unreadable: " + again.getMessage() + ")";
      }
      throw new AssertionError(e.getMessage() + "; the page shows:\n" + page, e);
    }
  }

  String text() {
    return String.valueOf(eval("document.body ? document.body.innerText : ''"));
  }

  void screenshot(Path file) throws IOException {
    String png = call("Page.captureScreenshot", new JsonObject().put("format", "png").put("captureBeyondViewport", true)).getString("data");
    Files.createDirectories(file.getParent());
    Files.write(file, Base64.getDecoder().decode(png));
  }

  @Override
  public void close() {
    socket.abort();
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try (var files = Files.walk(profile)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException | java.io.UncheckedIOException ignored) {
      // temp files; chromium's helper processes may still be removing their cache files as we walk
    }
  }
}
