package io.switchboard.loadtest;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A private redis-server for Redis-engine runs: the linux-amd64 binary the embedded-redis artifact carries,
 * extracted once, started on a free loopback port with persistence off.
 */
final class RedisProcess implements AutoCloseable {
  static final String BINARY = "redis-server-6.2.6-v5-linux-amd64";

  private final Process process;
  private final int port;

  private RedisProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  static RedisProcess start(Path outDir) throws IOException {
    Path bin = Path.of(System.getProperty("java.io.tmpdir"), "loadtest-" + BINARY);
    if (!Files.isExecutable(bin)) {
      try (InputStream in = RedisProcess.class.getClassLoader().getResourceAsStream(BINARY)) {
        if (in == null) throw new IllegalStateException(BINARY + " is not on the classpath (embedded-redis jar)");
        Path tmp = Files.createTempFile(bin.getParent(), "redis", ".tmp");
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        tmp.toFile().setExecutable(true);
        Files.move(tmp, bin, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    }
    int port = Target.freePort();
    Path log = outDir.resolve("redis-" + port + ".log");
    Process p = new ProcessBuilder(List.of(bin.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--protected-mode", "no", "--maxclients", "10000"))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    Launch.track(p);
    long until = System.currentTimeMillis() + 15_000;
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        break;
      } catch (IOException e) {
        if (!p.isAlive() || System.currentTimeMillis() > until) {
          Target.stop(p, 1000);
          throw new IllegalStateException("redis-server did not start on port " + port + "; see " + log);
        }
        Target.sleep(50);
      }
    }
    return new RedisProcess(p, port);
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  long pid() {
    return process.pid();
  }

  @Override
  public void close() {
    Target.stop(process, 5000);
  }
}
