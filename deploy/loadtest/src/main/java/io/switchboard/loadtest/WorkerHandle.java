package io.switchboard.loadtest;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/** The coordinator's end of one worker process: sends commands, waits for their answers. */
final class WorkerHandle implements AutoCloseable {
  final int index;
  /** The source address this worker's connections use (spreads ports over 127.0.0.x). */
  final String localAddress;
  /**
   * Source addresses a worker's subscribers rotate over, each used by at most ~1/8 of them: the kernel picks the
   * source port of a bound socket (bind before connect) from the odd half of the ephemeral range, per address, and
   * its search slows to a crawl as that half fills (~14k ports here): one address for 14k clients held the open
   * rate of a 57k-connection run at ~50/s.
   */
  static final int SOURCE_ADDRESSES = 8;

  /** {@code 127.0.(2+index).1 … .8}: distinct from every other worker's and from 127.0.0.x. */
  List<String> sourceAddresses() {
    List<String> a = new ArrayList<>();
    for (int k = 1; k <= SOURCE_ADDRESSES; k++) a.add("127.0." + (2 + index % 250) + "." + k);
    return a;
  }
  private final Process process;
  private final Writer in;
  private final Map<Long, CompletableFuture<JsonObject>> waiting = new ConcurrentHashMap<>();
  private final AtomicLong seq = new AtomicLong();

  private WorkerHandle(int index, String localAddress, Process process) {
    this.index = index;
    this.localAddress = localAddress;
    this.process = process;
    this.in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread reader = new Thread(this::readAnswers, "worker-" + index + "-answers");
    reader.setDaemon(true);
    reader.start();
  }

  static WorkerHandle start(int index, int threads, long deadlineMillis, Path log) throws IOException {
    List<String> cmd = new ArrayList<>(Launch.java());
    cmd.addAll(List.of("-Xms256m", "-Xmx1g", "-XX:+UseParallelGC", "-Xss512k", "-cp", Launch.classpath(),
        Main.class.getName(), "worker", "--threads", Integer.toString(threads), "--deadline-ms", Long.toString(deadlineMillis)));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Launch.track(p);
    return new WorkerHandle(index, "127.0.0." + (2 + index % 250), p);
  }

  long pid() {
    return process.pid();
  }

  private void readAnswers() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        JsonObject a;
        try {
          a = new JsonObject(line);
        } catch (RuntimeException e) {
          continue;
        }
        CompletableFuture<JsonObject> f = waiting.remove(a.getLong("re", -1L));
        if (f != null) f.complete(a);
      }
    } catch (IOException e) {
      // the process ended
    }
    for (CompletableFuture<JsonObject> f : waiting.values()) {
      f.completeExceptionally(new IllegalStateException("worker " + index + " exited"));
    }
  }

  /** Sends a command; the answer arrives on the returned future. */
  CompletableFuture<JsonObject> send(JsonObject cmd) {
    long n = seq.incrementAndGet();
    CompletableFuture<JsonObject> f = new CompletableFuture<>();
    waiting.put(n, f);
    try {
      synchronized (in) {
        in.write(cmd.copy().put("seq", n).encode());
        in.write('\n');
        in.flush();
      }
    } catch (IOException e) {
      waiting.remove(n);
      f.completeExceptionally(new IllegalStateException("worker " + index + " is gone: " + e.getMessage()));
    }
    return f;
  }

  /** Sends a command and waits for its answer; a worker error becomes an exception naming the command. */
  JsonObject call(JsonObject cmd, long timeoutSeconds) {
    try {
      JsonObject a = send(cmd).get(timeoutSeconds, TimeUnit.SECONDS);
      if (a.containsKey("error")) throw new IllegalStateException("worker " + index + " failed '" + cmd.getString("op") + "': " + a.getString("error"));
      return a;
    } catch (TimeoutException e) {
      throw new IllegalStateException("worker " + index + " did not answer '" + cmd.getString("op") + "' within " + timeoutSeconds + " s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    }
  }

  /** Sends the same command to every worker at once and waits for all answers. */
  static List<JsonObject> callAll(List<WorkerHandle> workers, JsonObject cmd, long timeoutSeconds) {
    List<CompletableFuture<JsonObject>> fs = new ArrayList<>();
    for (WorkerHandle w : workers) fs.add(w.send(cmd));
    List<JsonObject> answers = new ArrayList<>();
    for (int i = 0; i < fs.size(); i++) {
      WorkerHandle w = workers.get(i);
      try {
        JsonObject a = fs.get(i).get(timeoutSeconds, TimeUnit.SECONDS);
        if (a.containsKey("error")) throw new IllegalStateException("worker " + w.index + " failed '" + cmd.getString("op") + "': " + a.getString("error"));
        answers.add(a);
      } catch (TimeoutException e) {
        throw new IllegalStateException("worker " + w.index + " did not answer '" + cmd.getString("op") + "' within " + timeoutSeconds + " s");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted");
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
      }
    }
    return answers;
  }

  @Override
  public void close() {
    try {
      synchronized (in) {
        in.write("{\"op\":\"exit\"}\n");
        in.flush();
      }
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
