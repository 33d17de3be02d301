package io.switchboard.loadtest;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * A generator child process: holds up to ~19k client connections (one process cannot open more files here) on its
 * own source address, and does what the coordinator asks over stdin, one JSON command per line, answering each on
 * stdout. It exits when stdin closes (the coordinator is gone) or its deadline passes, so it never outlives a run.
 */
final class Worker {
  final Stats stats = new Stats();
  final ConcurrentHistogram recoverLatency = Stats.histogram();
  private final Vertx vertx;
  private final List<Context> loops = new ArrayList<>();
  private final Map<String, WebSocketClient> clients = new HashMap<>();
  private final List<Conn> subscribers = Collections.synchronizedList(new ArrayList<>());
  private final List<Conn> publishers = Collections.synchronizedList(new ArrayList<>());
  private final List<Conn> connectOnly = Collections.synchronizedList(new ArrayList<>());
  /** Channel → highest stored offset acked to this worker's publishers. */
  private final Map<String, Long> stored = new ConcurrentHashMap<>();
  private final PrintStream out;
  private Protocol protocol;
  private String host;
  /** Server ports: subscribers are spread over them (the gateways of a cluster), publishers use the first. */
  private int[] ports;
  private Publishing publishing;

  private Worker(int threads, PrintStream out) {
    this.out = out;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(threads).setWorkerPoolSize(2)
        .setInternalBlockingPoolSize(2).setBlockedThreadCheckInterval(10_000));
    for (int i = 0; i < threads; i++) loops.add(((io.vertx.core.internal.VertxInternal) vertx).createEventLoopContext());
  }

  /** {@code worker --threads N --deadline-ms EPOCH_MS}: runs until stdin closes, "exit" or the deadline. */
  static void main(String[] args) throws Exception {
    int threads = 1;
    long deadline = System.currentTimeMillis() + 3_600_000L;
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (args[i].equals("--threads")) threads = Integer.parseInt(args[i + 1]);
      if (args[i].equals("--deadline-ms")) deadline = Long.parseLong(args[i + 1]);
    }
    PrintStream protocolOut = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
    System.setOut(System.err); // stdout carries answers only
    long stopAt = deadline;
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(Math.max(0, stopAt - System.currentTimeMillis()));
      } catch (InterruptedException e) {
        return;
      }
      System.err.println("worker: deadline reached, exiting");
      Runtime.getRuntime().halt(3);
    }, "worker-deadline");
    watchdog.setDaemon(true);
    watchdog.start();
    new Worker(threads, protocolOut).serve();
  }

  private void serve() throws Exception {
    ExecutorService commands = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "worker-command");
      t.setDaemon(true);
      return t;
    });
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null) {
      JsonObject cmd = new JsonObject(line);
      if (cmd.getString("op").equals("exit")) break;
      commands.submit(() -> answer(cmd));
    }
    Runtime.getRuntime().halt(0);
  }

  private void answer(JsonObject cmd) {
    JsonObject reply;
    try {
      reply = handle(cmd);
    } catch (Throwable t) {
      t.printStackTrace();
      reply = new JsonObject().put("error", String.valueOf(t));
    }
    reply.put("re", cmd.getLong("seq"));
    synchronized (out) {
      out.println(reply.encode());
    }
  }

  private HttpClient http;

  /**
   * The HTTP client of protocols that publish over HTTP (Pusher's API): up to 16 keep-alive connections, no
   * pipelining (Soketi fails pipelined requests), so concurrent requests may be handled in either order — such
   * protocols say {@link Protocol#ordered()} false and their subscribers count reordering, not gaps.
   */
  synchronized HttpClient http() {
    if (http == null) {
      http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setConnectTimeout(10_000),
          new PoolOptions().setHttp1MaxSize(16).setMaxWaitQueueSize(-1));
    }
    return http;
  }

  private final Map<String, HttpClient> streamClients = new HashMap<>();

  /**
   * The HTTP client of the HTTP fallbacks' subscribers on one source address: one connection per subscriber (an
   * SSE stream or a held poll occupies its connection), kept alive between polls.
   */
  HttpClient streamClient(String localAddress) {
    synchronized (streamClients) {
      return streamClients.computeIfAbsent(localAddress == null ? "" : localAddress, a -> {
        HttpClientOptions o = new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setConnectTimeout(60_000)
            .setIdleTimeout(0).setMaxInitialLineLength(64 * 1024);
        if (!a.isEmpty()) o.setLocalAddress(a);
        return vertx.createHttpClient(o, new PoolOptions().setHttp1MaxSize(100_000).setMaxWaitQueueSize(-1));
      });
    }
  }

  void log(String message) {
    System.err.println("worker: " + message);
  }

  private JsonObject handle(JsonObject cmd) throws Exception {
    return switch (cmd.getString("op")) {
      case "init" -> {
        protocol = Protocol.of(cmd.getString("protocol"), cmd.getJsonObject("protocolOptions", new JsonObject()));
        host = cmd.getString("host");
        JsonArray p = cmd.getJsonArray("ports");
        ports = new int[p.size()];
        for (int i = 0; i < ports.length; i++) ports[i] = p.getInteger(i);
        yield new JsonObject();
      }
      case "open" -> open(cmd);
      case "mark" -> {
        stats.mark();
        recoverLatency.reset();
        yield new JsonObject();
      }
      case "collect" -> stats.snapshot().put("subscribers", live(subscribers)).put("publishers", live(publishers))
          .put("connected", live(connectOnly));
      case "publish" -> {
        publishing = new Publishing(this, vertx, copy(publishers), cmd);
        publishing.start();
        yield new JsonObject();
      }
      case "stop-publish" -> stopPublishing();
      case "drop" -> drop(cmd);
      case "check" -> check(cmd.getJsonObject("final"));
      case "close" -> close();
      default -> throw new IllegalArgumentException("unknown op " + cmd.getString("op"));
    };
  }

  private static List<Conn> copy(List<Conn> list) {
    synchronized (list) {
      return new ArrayList<>(list);
    }
  }

  private static int live(List<Conn> list) {
    int n = 0;
    for (Conn c : copy(list)) if (c.isOpen()) n++;
    return n;
  }

  private WebSocketClient client(String localAddress) {
    synchronized (clients) {
      return clients.computeIfAbsent(localAddress == null ? "" : localAddress, a -> {
        WebSocketClientOptions o = new WebSocketClientOptions()
            .setMaxConnections(100_000)
            .setConnectTimeout(60_000)
            .setTcpNoDelay(true)
            .setMaxFrameSize(1 << 20)
            .setMaxMessageSize(1 << 20);
        if (!a.isEmpty()) o.setLocalAddress(a);
        return vertx.createWebSocketClient(o);
      });
    }
  }

  /**
   * Opens {@code count} connections of one role, at most {@code concurrency} handshakes in flight; tokens and
   * channels are dealt round-robin. Answers with how many opened, the first errors, and open latency.
   */
  private JsonObject open(JsonObject cmd) throws InterruptedException {
    String role = cmd.getString("role");
    int count = cmd.getInteger("count");
    JsonArray tokens = cmd.getJsonArray("tokens", new JsonArray().add(""));
    JsonArray channels = cmd.getJsonArray("channels");
    int concurrency = cmd.getInteger("concurrency", 200);
    // several source addresses when given: each holds only its share of the source ports
    JsonArray sources = cmd.getJsonArray("localAddresses", new JsonArray().add(cmd.getString("localAddress", "")));
    List<WebSocketClient> clientsBySource = new ArrayList<>();
    for (int k = 0; k < sources.size(); k++) clientsBySource.add(client(sources.getString(k)));
    List<Conn> into = switch (role) {
      case "sub" -> subscribers;
      case "pub" -> publishers;
      default -> connectOnly;
    };
    Semaphore inFlight = new Semaphore(concurrency);
    AtomicInteger opened = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    ConcurrentHistogram latency = Stats.histogram();
    long start = Clock.epochMicros();
    for (int i = 0; i < count; i++) {
      inFlight.acquire();
      String channel = role.equals("sub") ? channels.getString(i % channels.size()) : null;
      Context ctx = loops.get(i % loops.size());
      int port = role.equals("pub") ? ports[0] : ports[(cmd.getInteger("first", 0) + i) % ports.length];
      Conn c = new Conn(this, ctx, protocol, tokens.getString(i % tokens.size()), channel, port);
      WebSocketClient client = clientsBySource.get(i % clientsBySource.size());
      String source = sources.getString(i % sources.size());
      c.localAddress = source.isEmpty() ? null : source;
      ctx.runOnContext(v -> {
        long t0 = Clock.epochMicros();
        c.open(client, host, false).onComplete(ar -> {
          if (ar.succeeded()) {
            latency.recordValue(Math.max(1, Math.min(Stats.MAX_LATENCY_MICROS, Clock.epochMicros() - t0)));
            opened.incrementAndGet();
            into.add(c);
          } else {
            failed.incrementAndGet();
            if (errors.size() < 5) errors.add(String.valueOf(ar.cause().getMessage()));
            c.close();
          }
          inFlight.release();
        });
      });
    }
    inFlight.acquire(concurrency);
    long end = Clock.epochMicros();
    return new JsonObject().put("opened", opened.get()).put("failed", failed.get()).put("errors", new JsonArray(errors))
        .put("startMicros", start).put("endMicros", end).put("openLatency", Stats.encode(latency));
  }

  void storedAt(String channel, long offset) {
    if (offset > 0) stored.merge(channel, offset, Math::max);
  }

  private JsonObject stopPublishing() throws InterruptedException {
    if (publishing == null) return new JsonObject().put("final", new JsonObject());
    publishing.stop();
    // let the answers to what was sent arrive, so the stored head is final
    long until = System.currentTimeMillis() + 10_000;
    while (publishing.inFlight() > 0 && System.currentTimeMillis() < until) Thread.sleep(20);
    JsonObject fin = new JsonObject();
    if (protocol.acksPublishes()) stored.forEach(fin::put);
    else fin = publishing.lastSequences();
    JsonObject r = new JsonObject().put("final", fin).put("inFlight", publishing.inFlight());
    publishing = null;
    return r;
  }

  /**
   * Reconnect storm: every subscriber closes, reconnects at once and resubscribes with its last position. Answers
   * when all have recovered up to the head their resubscribe reported (or the timeout passed).
   */
  private JsonObject drop(JsonObject cmd) throws InterruptedException {
    long timeoutMs = cmd.getLong("timeoutMs", 60_000L);
    int concurrency = cmd.getInteger("concurrency", 1000);
    WebSocketClient client = client(cmd.getString("localAddress"));
    List<Conn> all = copy(subscribers);
    Semaphore inFlight = new Semaphore(concurrency);
    AtomicInteger reconnected = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicInteger recoveredTrue = new AtomicInteger();
    AtomicInteger recoveredFalse = new AtomicInteger();
    List<String> errors = Collections.synchronizedList(new ArrayList<>());
    List<Future<Void>> done = Collections.synchronizedList(new ArrayList<>());
    long dropMicros = Clock.epochMicros();
    java.util.concurrent.atomic.AtomicLong lastRecovered = new java.util.concurrent.atomic.AtomicLong(dropMicros);
    for (Conn c : all) {
      inFlight.acquire();
      c.context.runOnContext(v -> {
        c.recoverStartMicros = Clock.epochMicros();
        Promise<Void> recovered = Promise.promise();
        // from the source address it used before (see WorkerHandle.SOURCE_ADDRESSES)
        WebSocketClient again = c.client != null ? c.client : client;
        c.close().transform(x -> c.open(again, host, true)).onComplete(ar -> {
          inFlight.release();
          if (ar.failed()) {
            failed.incrementAndGet();
            if (errors.size() < 5) errors.add(String.valueOf(ar.cause().getMessage()));
            recovered.tryComplete();
            return;
          }
          reconnected.incrementAndGet();
          JsonObject r = ar.result();
          if (r.containsKey("recovered")) (r.getBoolean("recovered") ? recoveredTrue : recoveredFalse).incrementAndGet();
          if (protocol.recovers()) {
            c.recovered = recovered;
            c.checkRecovered(Clock.epochMicros());
          } else {
            // nothing to recover: the client is back once it is subscribed again
            recoverLatency.recordValue(Math.max(1, Math.min(Stats.MAX_LATENCY_MICROS, Clock.epochMicros() - c.recoverStartMicros)));
            recovered.tryComplete();
          }
        });
        done.add(recovered.future().onSuccess(x -> lastRecovered.accumulateAndGet(Clock.epochMicros(), Math::max)));
      });
    }
    inFlight.acquire(concurrency);
    List<Future<Void>> waits;
    synchronized (done) {
      waits = new ArrayList<>(done);
    }
    boolean complete;
    try {
      Future.all(waits).await(timeoutMs, TimeUnit.MILLISECONDS);
      complete = true;
    } catch (Exception e) {
      complete = false;
    }
    int pendingRecovery = 0;
    for (Future<Void> f : waits) if (!f.isComplete()) pendingRecovery++;
    return new JsonObject().put("reconnected", reconnected.get()).put("failed", failed.get())
        .put("recoveredTrue", recoveredTrue.get()).put("recoveredFalse", recoveredFalse.get())
        .put("notRecovered", pendingRecovery).put("complete", complete)
        .put("dropMicros", dropMicros).put("lastRecoveredMicros", lastRecovered.get())
        .put("recoverLatency", Stats.encode(recoverLatency)).put("errors", new JsonArray(errors));
  }

  /** Messages each subscriber still lacks compared with the publishers' final positions. */
  private JsonObject check(JsonObject fin) {
    long missing = 0;
    int behind = 0;
    for (Conn c : copy(subscribers)) {
      Long head = fin.getLong(c.channel);
      if (head != null && head > c.lastSeq) {
        missing += head - c.lastSeq;
        behind++;
      }
    }
    return new JsonObject().put("missing", missing).put("behind", behind);
  }

  private JsonObject close() {
    List<Future<Void>> closing = new ArrayList<>();
    List<Conn> all = new ArrayList<>();
    all.addAll(copy(subscribers));
    all.addAll(copy(publishers));
    all.addAll(copy(connectOnly));
    for (Conn c : all) {
      Promise<Void> p = Promise.promise();
      c.context.runOnContext(v -> c.close().onComplete(ar -> p.tryComplete()));
      closing.add(p.future());
    }
    try {
      Future.all(closing).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      log("not every connection closed within 30 s: " + e.getMessage());
    }
    subscribers.clear();
    publishers.clear();
    connectOnly.clear();
    return new JsonObject().put("closed", all.size());
  }
}
