package io.switchboard.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An app: the unit of isolation, with its own keys, channel space, limits and webhooks. Apps come from the
 * {@code apps} config list; with none there is one, {@link #DEFAULT_ID}, so a single-app user configures nothing.
 *
 * <p>Channel scoping: channels of an app other than the default one are named {@code <appId>~<channel>} on the bus
 * and in storage ({@code ~} is not a valid channel character, so no client-chosen name reaches into another app);
 * the default app's channels are unscoped, so a single-app deployment keeps plain names everywhere.
 *
 * @param key the public app key (Pusher's {@code /app/{key}}, PubNub's sub/pub key); null for none
 * @param secret signs Pusher channel authorizations, HTTP API requests and webhooks; null for none
 * @param clientEvents whether clients may send Pusher client events ({@code client-*})
 * @param maxConnections per gateway JVM; 0 = unlimited
 * @param maxPresenceMembers members per presence channel (Pusher semantics: users)
 * @param maxPresenceInfoBytes size of one member's user_info
 * @param maxPayloadBytes size of one event's data through the Pusher dialect and HTTP API
 * @param clientEventsPerSecond client events per connection per second (above: an error, the connection lives)
 * @param webhooks {@code [{url, events?}]}
 * @param proxies the app backend's HTTP proxies for this app ({@code proxy.*} keys, plus {@code namespaces: {ns:
 *     {subscribeUrl?, publishUrl?}}} overrides); null = the global {@code proxy} section applies
 */
public record App(String id, String key, String secret, String name, boolean enabled, boolean clientEvents,
    int maxConnections, int maxPresenceMembers, int maxPresenceInfoBytes, int maxPayloadBytes, int clientEventsPerSecond,
    List<Webhook> webhooks, JsonObject proxies) {

  public static final String DEFAULT_ID = "default";
  public static final char SCOPE = '~';
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_\\-]{1,64}");
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_\\-.]{1,128}");
  public static final Set<String> WEBHOOK_EVENTS = Set.of("channel_occupied", "channel_vacated", "member_added",
      "member_removed", "client_event", "cache_miss");

  /** A webhook target: every event, or only those listed. */
  public record Webhook(String url, Set<String> events) {
    public boolean wants(String event) {
      return events.isEmpty() || events.contains(event);
    }
  }

  public App {
    webhooks = webhooks == null ? List.of() : List.copyOf(webhooks);
  }

  public App(String id, String key, String secret, String name, boolean enabled, boolean clientEvents, int maxConnections,
      int maxPresenceMembers, int maxPresenceInfoBytes, int maxPayloadBytes, int clientEventsPerSecond, List<Webhook> webhooks) {
    this(id, key, secret, name, enabled, clientEvents, maxConnections, maxPresenceMembers, maxPresenceInfoBytes, maxPayloadBytes,
        clientEventsPerSecond, webhooks, null);
  }

  /** Whether any of the app's webhooks wants {@code event} (one of {@link #WEBHOOK_EVENTS}). */
  public boolean wantsWebhook(String event) {
    for (Webhook w : webhooks) if (w.wants(event)) return true;
    return false;
  }

  /** The app used when none is configured. */
  public static App defaultApp() {
    return new App(DEFAULT_ID, null, null, DEFAULT_ID, true, false, 0, 100, 1024, 10 * 1024, 10, List.of());
  }

  public boolean isDefault() {
    return DEFAULT_ID.equals(id);
  }

  /** The bus/storage name of one of this app's channels. */
  public String scope(String channel) {
    return isDefault() ? channel : id + SCOPE + channel;
  }

  /** The app-local name of a scoped channel name. */
  public static String local(String scoped) {
    int i = scoped.indexOf(SCOPE);
    return i < 0 ? scoped : scoped.substring(i + 1);
  }

  /** The app id of a scoped channel name. */
  public static String appOf(String scoped) {
    int i = scoped.indexOf(SCOPE);
    return i < 0 ? DEFAULT_ID : scoped.substring(0, i);
  }

  /**
   * Parses and validates the {@code apps} config list.
   *
   * @throws ConfigException naming the bad entry and field
   */
  public static List<App> parseAll(JsonArray apps) {
    List<App> out = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    Set<String> keys = new HashSet<>();
    if (apps == null) return out;
    for (int i = 0; i < apps.size(); i++) {
      String where = "apps[" + i + "]";
      if (!(apps.getValue(i) instanceof JsonObject o)) throw new ConfigException(where, "must be an object {id, key, secret, …}");
      App a = parse(o, where);
      if (!ids.add(a.id())) throw new ConfigException(where + ".id", "'" + a.id() + "' is used by another app");
      if (a.key() != null && !keys.add(a.key())) throw new ConfigException(where + ".key", "is used by another app");
      out.add(a);
    }
    return out;
  }

  private static final Set<String> FIELDS = Set.of("id", "key", "secret", "name", "enabled", "clientEvents", "maxConnections",
      "maxPresenceMembers", "maxPresenceInfoBytes", "maxPayloadBytes", "clientEventsPerSecond", "webhooks", "proxies");
  /** The settings of an app's {@code proxies} (the global {@code proxy} section's, plus namespace overrides). */
  public static final Set<String> PROXY_FIELDS = Set.of("connectUrl", "rpcUrl", "subscribeUrl", "publishUrl", "subscribeNamespaces",
      "publishNamespaces", "timeoutMs", "retries", "breakerFailures", "breakerResetMs", "namespaces");
  /** The proxies a namespace may override: the calls that name a channel. */
  public static final Set<String> NAMESPACE_PROXY_FIELDS = Set.of("subscribeUrl", "publishUrl");

  private static App parse(JsonObject o, String where) {
    for (String f : o.fieldNames()) {
      if (!FIELDS.contains(f)) throw new ConfigException(where + "." + f, "is not a known app setting (known: " + FIELDS + ")");
    }
    String id = string(o, "id", where, true);
    if (!ID.matcher(id).matches()) throw new ConfigException(where + ".id", "must be 1-64 chars of [A-Za-z0-9_-]");
    String key = string(o, "key", where, true);
    if (!KEY.matcher(key).matches()) throw new ConfigException(where + ".key", "must be 1-128 chars of [A-Za-z0-9_-.]");
    String secret = string(o, "secret", where, true);
    if (secret.length() < 8) throw new ConfigException(where + ".secret", "must be at least 8 characters");
    String name = o.getValue("name") == null ? id : string(o, "name", where, false);
    App d = defaultApp();
    List<Webhook> hooks = new ArrayList<>();
    Object wh = o.getValue("webhooks");
    if (wh != null) {
      if (!(wh instanceof JsonArray list)) throw new ConfigException(where + ".webhooks", "must be a list of {url, events?}");
      for (int k = 0; k < list.size(); k++) {
        String w = where + ".webhooks[" + k + "]";
        if (!(list.getValue(k) instanceof JsonObject h)) throw new ConfigException(w, "must be {url, events?}");
        String url = string(h, "url", w, true);
        if (!url.startsWith("http://") && !url.startsWith("https://")) throw new ConfigException(w + ".url", "must be an http(s) URL");
        Set<String> events = new HashSet<>();
        Object ev = h.getValue("events");
        if (ev != null) {
          if (!(ev instanceof JsonArray ea)) throw new ConfigException(w + ".events", "must be a list of event names");
          for (Object e : ea) {
            if (!(e instanceof String s) || !WEBHOOK_EVENTS.contains(s)) {
              throw new ConfigException(w + ".events", "has '" + e + "', not one of " + WEBHOOK_EVENTS);
            }
            events.add(s);
          }
        }
        hooks.add(new Webhook(url, Set.copyOf(events)));
      }
    }
    return new App(id, key, secret, name, bool(o, "enabled", where, true), bool(o, "clientEvents", where, false),
        integer(o, "maxConnections", where, 0, 0), integer(o, "maxPresenceMembers", where, d.maxPresenceMembers(), 1),
        integer(o, "maxPresenceInfoBytes", where, d.maxPresenceInfoBytes(), 16), integer(o, "maxPayloadBytes", where, d.maxPayloadBytes(), 16),
        integer(o, "clientEventsPerSecond", where, d.clientEventsPerSecond(), 1), hooks, proxies(o.getValue("proxies"), where + ".proxies"));
  }

  /** Validates an app's {@code proxies}: known keys, http(s) URLs (or "" = off), whole numbers, namespace overrides. */
  private static JsonObject proxies(Object v, String where) {
    if (v == null) return null;
    if (!(v instanceof JsonObject p)) throw new ConfigException(where, "must be an object {rpcUrl, subscribeUrl, publishUrl, connectUrl, …}");
    for (String f : p.fieldNames()) {
      if (!PROXY_FIELDS.contains(f)) throw new ConfigException(where + "." + f, "is not a known proxy setting (known: " + PROXY_FIELDS + ")");
      Object x = p.getValue(f);
      String at = where + "." + f;
      if (f.endsWith("Url")) {
        url(x, at);
      } else if (f.endsWith("Namespaces")) {
        if (!(x instanceof String)) throw new ConfigException(at, "must be a comma list of namespaces");
      } else if (f.equals("namespaces")) {
        if (!(x instanceof JsonObject ns)) throw new ConfigException(at, "must be an object {namespace: {subscribeUrl?, publishUrl?}}");
        for (String n : ns.fieldNames()) {
          if (!(ns.getValue(n) instanceof JsonObject o)) throw new ConfigException(at + "." + n, "must be an object {subscribeUrl?, publishUrl?}");
          for (String k : o.fieldNames()) {
            if (!NAMESPACE_PROXY_FIELDS.contains(k)) {
              throw new ConfigException(at + "." + n + "." + k, "is not a proxy a namespace can override (known: " + NAMESPACE_PROXY_FIELDS + ")");
            }
            url(o.getValue(k), at + "." + n + "." + k);
          }
        }
      } else if (!(x instanceof Number num) || num.doubleValue() != Math.rint(num.doubleValue()) || num.longValue() < 0) {
        throw new ConfigException(at, "must be a whole number of at least 0");
      }
    }
    return p.copy();
  }

  private static void url(Object x, String at) {
    if (!(x instanceof String u) || !u.isEmpty() && !u.startsWith("http://") && !u.startsWith("https://")) {
      throw new ConfigException(at, "must be an http(s) URL, or \"\" for none");
    }
  }

  private static String string(JsonObject o, String f, String where, boolean required) {
    Object v = o.getValue(f);
    if (v == null) {
      if (required) throw new ConfigException(where + "." + f, "is required");
      return null;
    }
    if (!(v instanceof String s) || s.isEmpty()) throw new ConfigException(where + "." + f, "must be a non-empty string");
    return s;
  }

  private static boolean bool(JsonObject o, String f, String where, boolean def) {
    Object v = o.getValue(f);
    if (v == null) return def;
    if (!(v instanceof Boolean b)) throw new ConfigException(where + "." + f, "must be true or false");
    return b;
  }

  private static int integer(JsonObject o, String f, String where, int def, int min) {
    Object v = o.getValue(f);
    if (v == null) return def;
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || n.longValue() < min || n.longValue() > Integer.MAX_VALUE) {
      throw new ConfigException(where + "." + f, "must be a whole number of at least " + min);
    }
    return n.intValue();
  }
}
