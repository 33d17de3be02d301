package io.switchboard.common.test;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A real Redis for tests: {@code SWITCHBOARD_TEST_REDIS} (a redis:// URL) when set, else a redis-server 6.2 from the
 * {@code embedded-redis} artifact started on a free loopback port. One shared instance per test JVM; tests that kill
 * and restart Redis use {@link #stop()} / {@link #start()}.
 */
public final class TestRedis {
  private static TestRedis shared;

  private final int port;
  private final String external;
  /** Append-only file directory, or null for a Redis that forgets everything when stopped. */
  private final java.nio.file.Path dataDir;
  private redis.embedded.RedisServer server;

  private TestRedis(int port, String external) {
    this(port, external, null);
  }

  private TestRedis(int port, String external, java.nio.file.Path dataDir) {
    this.port = port;
    this.external = external;
    this.dataDir = dataDir;
  }

  /** The shared Redis of this test JVM, started on first use and stopped at JVM exit. */
  public static synchronized TestRedis shared() {
    if (shared == null) {
      String url = System.getenv("SWITCHBOARD_TEST_REDIS");
      shared = url != null && !url.isBlank() ? new TestRedis(-1, url) : new TestRedis(Ports.free(), null);
      shared.start();
      Runtime.getRuntime().addShutdownHook(new Thread(shared::stop));
    }
    return shared;
  }

  /** A private Redis on its own port (for tests that stop and restart it). Embedded only. */
  public static TestRedis dedicated() {
    TestRedis r = new TestRedis(Ports.free(), null);
    r.start();
    return r;
  }

  /** A private Redis that keeps its data across stop/start (append-only file, fsync always), like a production one. */
  public static TestRedis dedicatedPersistent() {
    try {
      TestRedis r = new TestRedis(Ports.free(), null, java.nio.file.Files.createTempDirectory("test-redis"));
      r.start();
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean external() {
    return external != null;
  }

  public String url() {
    return external != null ? external : "redis://127.0.0.1:" + port;
  }

  public synchronized void start() {
    if (external != null || (server != null && server.isActive())) return;
    try {
      var builder = redis.embedded.RedisServer.newRedisServer()
          .port(port)
          .setting("bind 127.0.0.1")
          .setting("save \"\"");
      if (dataDir != null) {
        builder.setting("dir " + dataDir).setting("appendonly yes").setting("appendfsync always");
      } else {
        builder.setting("appendonly no");
      }
      server = builder.build();
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start embedded redis-server on port " + port, e);
    }
  }

  public synchronized void stop() {
    if (server == null) return;
    try {
      server.stop();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
