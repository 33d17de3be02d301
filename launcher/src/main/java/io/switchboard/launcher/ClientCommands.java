package io.switchboard.launcher;

import io.switchboard.common.Capability;
import io.switchboard.common.Config;
import io.switchboard.common.ConfigException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The operator commands that talk to a running server: {@code token}, {@code key}, {@code revoke} through the auth
 * API with the admin key; {@code publish}, {@code history}, {@code presence}, {@code tail} over the native WebSocket
 * protocol, as a client would (with {@code --token}, or a token the command mints with the admin key for subject
 * {@code --as}, granted only what the command needs on that one channel).
 *
 * <p>Where the server is comes from the same configuration the server reads ({@code --config FILE} and the
 * SWITCHBOARD_* environment, so {@code SWITCHBOARD_ADMIN_KEY} works as is), on loopback; {@code --url} and
 * {@code --auth-url} point elsewhere. Human output by default, {@code --json} for scripts.
 */
final class ClientCommands {
  static final Duration TIMEOUT = Duration.ofSeconds(10);
  static final String DEFAULT_AS = "switchboard-cli";

  private static final Set<String> COMMON_VALUES = Set.of("--config", "--url", "--auth-url", "--admin-key");
  private static final Set<String> COMMON_FLAGS = Set.of("--json");

  private static final String COMMON_HELP = """
      common options
        --config FILE       the server's configuration: ports and admin key are read from it (and SWITCHBOARD_*)
        --url URL           the gateway's WebSocket URL (default ws://127.0.0.1:<gateway.port>/ws)
        --auth-url URL      the auth API (default http://127.0.0.1:<auth.port>)
        --admin-key KEY     the admin key (default SWITCHBOARD_ADMIN_KEY or the config's adminKey)
        --json              machine-readable output: one JSON object (per line for tail)""";

  private static final String CLIENT_HELP = """
        --token JWT         connect with this token instead of minting one with the admin key
        --as SUBJECT        subject of the minted token (default switchboard-cli, source type service)""";

  static final Map<String, String> USAGE = Map.of(
      "token", """
          usage: switchboard token <subject> [--grant CHANNEL[=CAPS]]... [--ttl SECONDS] [--info JSON] [--source-type TYPE]
                 switchboard token --api-key KEY [--info JSON]
            mints a token through the auth API (POST /v1/tokens): with the admin key for any subject, or from an API
            key's policy. CAPS is a comma list of subscribe,publish,presence,history (default: all four); CHANNEL
            may end in * (task:*). Prints the token on standard output (the details on standard error).
          """,
      "key", """
          usage: switchboard key create <subject> [--grant CHANNEL[=CAPS]]... [--channel NAME=PATTERN]... [--ttl SECONDS] [--source-type TYPE]
                 switchboard key delete <id>
            creates an API key with a policy (grants may use {sub}; named channels show up in minted tokens) — the
            key is shown once — or deletes one (tokens minted from it stay valid until they expire).
          """,
      "revoke", """
          usage: switchboard revoke <subject>
                 switchboard revoke --token-id JTI
            revokes every token of a subject issued until now, or one token; their connections close with 4003.
          """,
      "publish", """
          usage: switchboard publish <channel> <event> [DATA] [--priority P] [--tag T]... [--ttl SECONDS]
                                     [--requires-ack] [--correlation-id ID] [--idempotency-key KEY]
            publishes over the WebSocket protocol. DATA is JSON ('{"status":"done"}'); text that is not JSON is sent
            as a JSON string; - reads it from standard input. Prints the offset and epoch given by the store.
          """,
      "history", """
          usage: switchboard history <channel> [--limit N] [--since OFFSET:EPOCH | --since-time TIME] [--reverse]
                                     [--priority P]... [--tag T]... [--source-type T]... [--unacked]
            reads a channel's history (oldest first; --reverse newest first). TIME is ISO-8601 or epoch ms.
          """,
      "tail", """
          usage: switchboard tail <channel> [--from OFFSET[:EPOCH]] [--count N]
            prints the channel's publications as they happen. On a lost connection it reconnects with backoff and
            recovers what it missed from its last position, so nothing is skipped or repeated (it says so when
            the position is gone). --from starts at a past offset (included); --count exits after N publications.
            Runs until interrupted (Ctrl-C) otherwise.
          """,
      "presence", """
          usage: switchboard presence <channel>
            lists the channel's present members: client, subject, joined at, state and info.
          """);

  private final PrintStream out;
  private final PrintStream err;
  private final Map<String, String> env;
  private HttpClient http;
  private boolean json;
  private URI wsUrl;
  private URI authUrl;
  private String adminKey;

  ClientCommands(PrintStream out, PrintStream err, Map<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  int run(String command, List<String> args) {
    String sub = command.equals("key") && !args.isEmpty() && !args.get(0).startsWith("-") ? args.get(0) : null;
    List<String> rest = sub == null ? args : args.subList(1, args.size());
    CliArgs a = CliArgs.parse(rest, values(command), flags(command));
    if (a.flag("--help")) {
      out.print(USAGE.get(command));
      out.println(COMMON_HELP);
      if (Set.of("publish", "history", "tail", "presence").contains(command)) out.println(CLIENT_HELP);
      return Main.EXIT_OK;
    }
    json = a.flag("--json");
    resolveEndpoints(a);
    // daemon threads: an interrupted or finished command never waits for the client's threads to end the JVM
    java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "switchboard-cli");
      t.setDaemon(true);
      return t;
    });
    http = HttpClient.newBuilder().connectTimeout(TIMEOUT).executor(executor).build();
    try {
      return switch (command) {
        case "token" -> token(a);
        case "key" -> key(sub, a);
        case "revoke" -> revoke(a);
        case "publish" -> publish(a);
        case "history" -> history(a);
        case "presence" -> presence(a);
        case "tail" -> tail(a);
        default -> throw CliArgs.usage("unknown command " + command);
      };
    } finally {
      executor.shutdownNow();
    }
  }

  private static Set<String> values(String command) {
    Set<String> s = new HashSet<>(COMMON_VALUES);
    s.addAll(switch (command) {
      case "token" -> List.of("--grant", "--ttl", "--info", "--source-type", "--api-key");
      case "key" -> List.of("--grant", "--channel", "--ttl", "--source-type");
      case "revoke" -> List.of("--token-id");
      case "publish" -> List.of("--token", "--as", "--priority", "--tag", "--ttl", "--correlation-id", "--idempotency-key");
      case "history" -> List.of("--token", "--as", "--limit", "--since", "--since-time", "--priority", "--tag", "--source-type");
      case "tail" -> List.of("--token", "--as", "--from", "--count");
      case "presence" -> List.of("--token", "--as");
      default -> List.of();
    });
    return s;
  }

  private static Set<String> flags(String command) {
    Set<String> s = new HashSet<>(COMMON_FLAGS);
    if (command.equals("publish")) s.add("--requires-ack");
    if (command.equals("history")) s.addAll(List.of("--reverse", "--unacked"));
    return s;
  }

  /** Endpoints and admin key: the server's own configuration (file + environment), overridden by options. */
  private void resolveEndpoints(CliArgs a) {
    JsonObject config;
    try {
      String file = a.value("--config", null);
      config = Config.load(file == null ? null : Path.of(file), env);
    } catch (ConfigException e) {
      throw CliArgs.usage(e.getMessage());
    }
    int wsPort = config.getJsonObject("gateway").getInteger("port");
    int authPort = config.getJsonObject("auth").getInteger("port");
    wsUrl = uri(a.value("--url", "ws://" + loopback(config.getJsonObject("gateway").getString("host")) + ":" + wsPort + "/ws"), "--url");
    authUrl = uri(a.value("--auth-url", "http://" + loopback(config.getJsonObject("auth").getString("host")) + ":" + authPort), "--auth-url");
    adminKey = a.value("--admin-key", config.getString("adminKey"));
  }

  /** A wildcard bind address is reached on loopback. */
  private static String loopback(String host) {
    return host.isEmpty() || host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
  }

  private static URI uri(String s, String option) {
    try {
      URI u = URI.create(s);
      if (u.getScheme() == null || u.getHost() == null) throw new IllegalArgumentException("no scheme or host");
      return u;
    } catch (IllegalArgumentException e) {
      throw CliArgs.usage(option + " is not a URL: '" + s + "'");
    }
  }

  private String requireAdminKey(String forWhat) {
    if (adminKey == null || adminKey.isEmpty()) {
      throw CliArgs.usage(forWhat + " needs the admin key: set SWITCHBOARD_ADMIN_KEY, pass --admin-key, or use --config with adminKey");
    }
    return adminKey;
  }

  // --- auth API ---------------------------------------------------------------------------------------------------

  private int token(CliArgs a) {
    String apiKey = a.value("--api-key", null);
    JsonObject answer;
    if (apiKey != null) {
      a.atMostPositionals(0);
      if (!a.values("--grant").isEmpty()) throw CliArgs.usage("--grant cannot be used with --api-key: the key's policy decides the grants");
      JsonObject body = new JsonObject();
      if (a.value("--info", null) != null) body.put("info", jsonObject(a.value("--info", null), "--info"));
      answer = call("POST", "/v1/tokens", apiKey, body);
    } else {
      String subject = a.positional(0, "the subject to mint a token for (or --api-key KEY)");
      a.atMostPositionals(1);
      JsonObject body = new JsonObject().put("subject", subject).put("grants", grants(a.values("--grant")));
      if (a.value("--ttl", null) != null) body.put("ttl", a.longValue("--ttl", 0, 1, Integer.MAX_VALUE));
      if (a.value("--info", null) != null) body.put("info", jsonObject(a.value("--info", null), "--info"));
      if (a.value("--source-type", null) != null) body.put("sourceType", a.value("--source-type", null));
      answer = call("POST", "/v1/tokens", requireAdminKey("token"), body);
    }
    if (json) {
      out.println(answer.encode());
    } else {
      out.println(answer.getString("token"));
      err.println("subject " + answer.getString("subject") + ", expires " + answer.getString("expiresAt") + ", grants "
          + describeGrants(answer.getJsonArray("grants", new JsonArray()))
          + (answer.getJsonObject("channels", new JsonObject()).isEmpty() ? "" : ", channels " + answer.getJsonObject("channels").encode()));
    }
    return Main.EXIT_OK;
  }

  private int key(String sub, CliArgs a) {
    if (sub == null) throw CliArgs.usage("key needs create or delete");
    String admin = requireAdminKey("key " + sub);
    switch (sub) {
      case "create" -> {
        String subject = a.positional(0, "the subject of the key");
        a.atMostPositionals(1);
        JsonObject channels = new JsonObject();
        for (String c : a.values("--channel")) {
          int eq = c.indexOf('=');
          if (eq <= 0 || eq == c.length() - 1) throw CliArgs.usage("--channel must be NAME=PATTERN (cmd=agent.{sub}.cmd), got '" + c + "'");
          channels.put(c.substring(0, eq), c.substring(eq + 1));
        }
        JsonObject body = new JsonObject().put("subject", subject).put("grants", grants(a.values("--grant")));
        if (!channels.isEmpty()) body.put("channels", channels);
        if (a.value("--ttl", null) != null) body.put("ttl", a.longValue("--ttl", 0, 1, Integer.MAX_VALUE));
        if (a.value("--source-type", null) != null) body.put("sourceType", a.value("--source-type", null));
        JsonObject answer = call("POST", "/v1/keys", admin, body);
        if (json) {
          out.println(answer.encode());
        } else {
          out.println("id   " + answer.getString("id"));
          out.println("key  " + answer.getString("key"));
          err.println("the key is shown only now: store it (mint tokens with: switchboard token --api-key KEY)");
        }
      }
      case "delete" -> {
        String id = a.positional(0, "the id of the key to delete");
        a.atMostPositionals(1);
        call("DELETE", "/v1/keys/" + URLEncoder.encode(id, StandardCharsets.UTF_8), admin, null);
        out.println(json ? new JsonObject().put("deleted", id).encode() : "deleted key " + id);
      }
      default -> throw CliArgs.usage("key needs create or delete, got '" + sub + "'");
    }
    return Main.EXIT_OK;
  }

  private int revoke(CliArgs a) {
    String tokenId = a.value("--token-id", null);
    JsonObject body;
    if (tokenId != null) {
      a.atMostPositionals(0);
      body = new JsonObject().put("tokenId", tokenId);
    } else {
      String subject = a.positional(0, "the subject to revoke (or --token-id JTI)");
      a.atMostPositionals(1);
      body = new JsonObject().put("subject", subject);
    }
    call("POST", "/v1/revocations", requireAdminKey("revoke"), body);
    if (json) {
      out.println(new JsonObject().put("revoked", body).encode());
    } else {
      out.println("revoked " + (tokenId != null ? "token " + tokenId : "subject " + body.getString("subject"))
          + ": its connections close with 4003, its tokens no longer connect");
    }
    return Main.EXIT_OK;
  }

  /** One auth API call; the JSON answer, or a CliError with the server's error code and message. */
  private JsonObject call(String method, String path, String key, JsonObject body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(authUrl.resolve(path)).timeout(TIMEOUT).header("x-api-key", key)
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body.encode()));
    HttpResponse<String> r;
    try {
      r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new CliArgs.CliError(Main.EXIT_UNREACHABLE, "cannot reach the auth API at " + authUrl + ": connection refused");
    } catch (IOException e) {
      throw new CliArgs.CliError(Main.EXIT_UNREACHABLE, "cannot reach the auth API at " + authUrl + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliArgs.CliError(Main.EXIT_FAILED, "interrupted");
    }
    JsonObject answer = null;
    try {
      answer = r.body().isBlank() ? new JsonObject() : new JsonObject(r.body());
    } catch (DecodeException | ClassCastException e) {
      if (r.statusCode() / 100 == 2) throw new CliArgs.CliError(Main.EXIT_FAILED, "the auth API answered something that is not JSON: " + r.body());
    }
    if (r.statusCode() / 100 != 2) {
      JsonObject error = answer == null ? null : answer.getJsonObject("error");
      if (error == null) throw new CliArgs.CliError(Main.EXIT_FAILED, "the auth API answered HTTP " + r.statusCode() + ": " + r.body());
      throw NativeClient.serverError(error);
    }
    return answer;
  }

  /** {@code CHANNEL[=caps]} → {@code {channel, capabilities}}; without caps, all four. */
  static JsonArray grants(List<String> specs) {
    JsonArray out = new JsonArray();
    for (String spec : specs) {
      String channel = spec;
      List<String> caps = null;
      int eq = spec.lastIndexOf('=');
      if (eq > 0) {
        List<String> named = List.of(spec.substring(eq + 1).split(","));
        // channel names may contain '=': only a list of capabilities after the last '=' is one
        if (named.stream().allMatch(c -> Capability.parse(c.trim()) != null)) {
          channel = spec.substring(0, eq);
          caps = named.stream().map(String::trim).toList();
        }
      }
      if (caps == null) caps = List.of("subscribe", "publish", "presence", "history");
      out.add(new JsonObject().put("channel", channel).put("capabilities", new JsonArray(caps)));
    }
    return out;
  }

  private static String describeGrants(JsonArray grants) {
    List<String> parts = new ArrayList<>();
    for (Object o : grants) {
      JsonObject g = (JsonObject) o;
      parts.add(g.getString("channel") + "=" + String.join(",", g.getJsonArray("capabilities").stream().map(String::valueOf).toList()));
    }
    return parts.isEmpty() ? "(none)" : String.join(" ", parts);
  }

  // --- WebSocket commands -----------------------------------------------------------------------------------------

  /** The token to connect with: --token, or one minted for --as with exactly these capabilities on the channel. */
  private String clientToken(CliArgs a, String channel, String... capabilities) {
    String given = a.value("--token", null);
    if (given != null) return given;
    String subject = a.value("--as", DEFAULT_AS);
    JsonObject body = new JsonObject().put("subject", subject).put("sourceType", "service")
        .put("grants", new JsonArray().add(new JsonObject().put("channel", channel).put("capabilities", new JsonArray(List.of(capabilities)))));
    return call("POST", "/v1/tokens", requireAdminKey("connecting without --token"), body).getString("token");
  }

  private NativeClient open(String token, java.util.function.Consumer<JsonObject> events) {
    return NativeClient.connect(http, wsUrl, token, events, TIMEOUT);
  }

  private int publish(CliArgs a) {
    String channel = a.positional(0, "the channel to publish to");
    String event = a.positional(1, "the event name");
    a.atMostPositionals(3);
    Object data = a.positional.size() > 2 ? data(a.positional.get(2)) : null;
    JsonObject params = new JsonObject().put("channel", channel).put("event", event).put("data", data);
    if (a.value("--priority", null) != null) params.put("priority", a.value("--priority", null));
    if (!a.values("--tag").isEmpty()) params.put("tags", new JsonArray(a.values("--tag")));
    if (a.value("--ttl", null) != null) params.put("ttl", a.longValue("--ttl", 0, 0, Integer.MAX_VALUE));
    if (a.flag("--requires-ack")) params.put("requiresAck", true);
    if (a.value("--correlation-id", null) != null) params.put("correlationId", a.value("--correlation-id", null));
    if (a.value("--idempotency-key", null) != null) params.put("idempotencyKey", a.value("--idempotency-key", null));
    try (NativeClient c = open(clientToken(a, channel, "publish"), e -> { })) {
      JsonObject r = c.request("publish", params, TIMEOUT);
      if (json) {
        out.println(r.encode());
      } else {
        out.println("published " + event + " to " + channel + (r.containsKey("offset")
            ? ": offset " + r.getLong("offset") + ", epoch " + r.getString("epoch") : " (ephemeral: no offset)")
            + ", id " + r.getString("id"));
      }
    }
    return Main.EXIT_OK;
  }

  /** DATA: JSON when it parses, else the text as a JSON string; "-" reads standard input. */
  private static Object data(String raw) {
    String text = raw;
    if (raw.equals("-")) {
      try {
        text = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
      } catch (IOException e) {
        throw CliArgs.usage("cannot read DATA from standard input: " + e.getMessage());
      }
    }
    try {
      return Json.decodeValue(text);
    } catch (DecodeException e) {
      return text;
    }
  }

  private int history(CliArgs a) {
    String channel = a.positional(0, "the channel");
    a.atMostPositionals(1);
    JsonObject params = new JsonObject().put("channel", channel);
    if (a.value("--limit", null) != null) params.put("limit", a.longValue("--limit", 0, 1, Integer.MAX_VALUE));
    if (a.value("--since", null) != null) params.put("since", position(a.value("--since", null), "--since", true));
    if (a.value("--since-time", null) != null) {
      String t = a.value("--since-time", null);
      params.put("sinceTime", t.matches("\\d+") ? (Object) Long.parseLong(t) : t);
    }
    if (a.flag("--reverse")) params.put("reverse", true);
    JsonObject filter = new JsonObject();
    if (!a.values("--priority").isEmpty()) filter.put("priority", new JsonArray(a.values("--priority")));
    if (!a.values("--tag").isEmpty()) filter.put("tags", new JsonArray(a.values("--tag")));
    if (!a.values("--source-type").isEmpty()) filter.put("sourceType", new JsonArray(a.values("--source-type")));
    if (a.flag("--unacked")) filter.put("unacked", true);
    if (!filter.isEmpty()) params.put("filter", filter);
    try (NativeClient c = open(clientToken(a, channel, "history"), e -> { })) {
      JsonObject r = c.request("history", params, TIMEOUT);
      if (json) {
        out.println(r.encode());
      } else {
        JsonArray pubs = r.getJsonArray("publications", new JsonArray());
        for (Object o : pubs) out.println(line((JsonObject) o));
        out.println("(" + pubs.size() + " publication" + (pubs.size() == 1 ? "" : "s") + "; " + channel + " is at offset "
            + r.getLong("offset", 0L) + (r.getString("epoch") == null ? "" : ", epoch " + r.getString("epoch")) + ")");
      }
    }
    return Main.EXIT_OK;
  }

  /** {@code OFFSET:EPOCH} (epoch required or not) → {@code {offset, epoch}}. */
  private static JsonObject position(String s, String option, boolean epochRequired) {
    int colon = s.indexOf(':');
    String offset = colon < 0 ? s : s.substring(0, colon);
    String epoch = colon < 0 ? null : s.substring(colon + 1);
    if (epochRequired && (epoch == null || epoch.isEmpty())) throw CliArgs.usage(option + " must be OFFSET:EPOCH (e.g. 41:9a1c), got '" + s + "'");
    try {
      long n = Long.parseLong(offset);
      if (n < 0) throw new NumberFormatException();
      JsonObject p = new JsonObject().put("offset", n);
      if (epoch != null && !epoch.isEmpty()) p.put("epoch", epoch);
      return p;
    } catch (NumberFormatException e) {
      throw CliArgs.usage(option + " needs a whole offset >= 0, got '" + offset + "'");
    }
  }

  private int presence(CliArgs a) {
    String channel = a.positional(0, "the channel");
    a.atMostPositionals(1);
    try (NativeClient c = open(clientToken(a, channel, "presence"), e -> { })) {
      JsonObject r = c.request("presence", new JsonObject().put("channel", channel), TIMEOUT);
      if (json) {
        out.println(r.encode());
      } else {
        JsonArray members = r.getJsonArray("members", new JsonArray());
        for (Object o : members) {
          JsonObject m = (JsonObject) o;
          out.println(m.getString("subject") + "  client " + m.getString("client") + "  joined " + m.getString("joinedAt")
              + "  state " + m.getJsonObject("state", new JsonObject()).encode() + "  info " + m.getJsonObject("info", new JsonObject()).encode());
        }
        out.println("(" + members.size() + " member" + (members.size() == 1 ? "" : "s") + " in " + channel + ")");
      }
    }
    return Main.EXIT_OK;
  }

  /** One publication or event as a line: offset, time, event, source, data. */
  static String line(JsonObject p) {
    JsonObject src = p.getJsonObject("source");
    Object data = p.getValue("data");
    return (p.containsKey("offset") ? "#" + p.getLong("offset") : "-") + "  " + p.getString("timestamp", "") + "  "
        + p.getString("event") + (src == null ? "" : "  " + src.getString("type") + ":" + src.getString("id"))
        + (p.getBoolean("requiresAck", false) ? "  (ack)" : "") + "  " + Json.encode(data);
  }

  // --- tail -------------------------------------------------------------------------------------------------------

  /**
   * Live publications with recovery. Invariant: {@code position} is the last stored offset printed (or the position
   * the subscribe answer gave); every (re)subscribe recovers from it, so a reconnect neither skips nor repeats.
   */
  private int tail(CliArgs a) {
    String channel = a.positional(0, "the channel to tail");
    a.atMostPositionals(1);
    long count = a.longValue("--count", 0, 1, Long.MAX_VALUE);
    JsonObject from = a.value("--from", null) == null ? null : position(a.value("--from", null), "--from", false);
    AtomicReference<JsonObject> position = new AtomicReference<>();
    AtomicInteger printed = new AtomicInteger();
    CompletableFuture<Void> enough = new CompletableFuture<>();
    boolean everConnected = false;
    long backoffMs = 100;
    while (true) {
      NativeClient c;
      AtomicReference<String> self = new AtomicReference<>();
      try {
        c = open(clientToken(a, channel, "subscribe", "history"), f -> {
          if (!channel.equals(f.getString("channel"))) return;
          JsonObject data = f.getValue("data") instanceof JsonObject d ? d : null;
          // our own presence join/leave is noise in a tail
          if (f.getString("event", "").startsWith("presence.") && data != null && data.getString("client", "").equals(self.get())) return;
          if (f.containsKey("offset")) {
            position.set(new JsonObject().put("offset", f.getLong("offset")).put("epoch", f.getString("epoch")));
          }
          JsonObject shown = f.copy();
          shown.remove("type");
          synchronized (out) {
            out.println(json ? shown.encode() : line(shown));
            out.flush();
          }
          if (f.containsKey("id") && count > 0 && printed.incrementAndGet() >= count) enough.complete(null);
        });
      } catch (CliArgs.CliError e) {
        if (!everConnected || e.exitCode != Main.EXIT_UNREACHABLE) throw e;
        err.println("switchboard: " + e.getMessage() + "; retrying in " + backoffMs + " ms");
        sleep(backoffMs);
        backoffMs = Math.min(5000, backoffMs * 2);
        continue;
      }
      try (c) {
        self.set(c.connectResult().getString("client"));
        if (position.get() == null && from != null) {
          JsonObject start = from.copy();
          if (!start.containsKey("epoch")) start.put("epoch", c.request("history", new JsonObject().put("channel", channel).put("limit", 1), TIMEOUT).getString("epoch"));
          // --from N includes N: recover from the position just before it
          position.set(start.put("offset", Math.max(0, start.getLong("offset") - 1)));
        }
        JsonObject recover = position.get();
        JsonObject entry = new JsonObject().put("channel", channel);
        if (recover != null && recover.getString("epoch") != null) entry.put("recover", recover);
        JsonObject answer = c.subscribe(new JsonArray().add(entry), TIMEOUT).getJsonArray("channels").getJsonObject(0);
        if (!answer.getBoolean("ok", false)) throw NativeClient.serverError(answer.getJsonObject("error", new JsonObject()));
        if (entry.containsKey("recover") && !answer.getBoolean("recovered", false)) {
          err.println("switchboard: publications after offset " + recover.getLong("offset") + " (epoch " + recover.getString("epoch")
              + ") could not be recovered (no longer in history, or recovery is off); continuing from offset " + answer.getLong("offset", 0L));
        }
        if (answer.containsKey("epoch") && (recover == null || !answer.getBoolean("recovered", true))) {
          // unless a live publication already moved it on (the listener runs on its own thread)
          position.compareAndSet(recover, new JsonObject().put("offset", answer.getLong("offset")).put("epoch", answer.getString("epoch")));
        }
        if (!everConnected && !json) err.println("switchboard: tailing " + channel + " at " + wsUrl + " (Ctrl-C stops)");
        everConnected = true;
        backoffMs = 100;
        CompletableFuture.anyOf(enough, c.ended()).join();
        if (enough.isDone()) return Main.EXIT_OK;
        NativeClient.Ended end = c.ended().join();
        if (!end.reconnect()) throw new CliArgs.CliError(Main.EXIT_FAILED, "the server closed the connection: " + end.code() + " " + end.reason());
        err.println("switchboard: connection closed (" + end.code() + " " + end.reason() + "); reconnecting");
      } catch (CliArgs.CliError e) {
        if (e.exitCode != Main.EXIT_UNREACHABLE || !everConnected) throw e;
        err.println("switchboard: " + e.getMessage() + "; reconnecting");
      }
      if (enough.isDone()) return Main.EXIT_OK;
      sleep(backoffMs);
      backoffMs = Math.min(5000, backoffMs * 2);
    }
  }

  private static void sleep(long ms) {
    try {
      TimeUnit.MILLISECONDS.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliArgs.CliError(Main.EXIT_FAILED, "interrupted");
    }
  }

  private static JsonObject jsonObject(String raw, String option) {
    try {
      return new JsonObject(raw);
    } catch (DecodeException | ClassCastException e) {
      throw CliArgs.usage(option + " must be a JSON object, got '" + raw + "'");
    }
  }
}
