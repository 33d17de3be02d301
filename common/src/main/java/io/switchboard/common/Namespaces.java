package io.switchboard.common;

import io.vertx.core.json.JsonObject;
import java.util.HashMap;
import java.util.Map;

/** Resolves a channel to its namespace's options; built once from the {@code channels} config section. */
public final class Namespaces {
  private final NamespaceOptions defaults;
  private final Map<String, NamespaceOptions> named;
  private final boolean strict;

  /**
   * The personal namespace unless configured: history and recovery as every namespace, but no presence — only its
   * owner ever subscribes, so members and join/leave events there would cost a presence entry and two presence
   * messages per connection for nobody to watch.
   */
  private final NamespaceOptions personal;

  public Namespaces(NamespaceOptions defaults, Map<String, NamespaceOptions> named, boolean strict) {
    this.defaults = defaults;
    this.personal = new NamespaceOptions(defaults.historySize(), defaults.historyTtlSeconds(), false, false,
        defaults.clientPublish(), defaults.recovery(), defaults.publishRatePerSecond());
    this.named = Map.copyOf(named);
    this.strict = strict;
  }

  /** From the validated {@code channels} section of the config. */
  public static Namespaces fromConfig(JsonObject channels) {
    JsonObject c = channels == null ? new JsonObject() : channels;
    NamespaceOptions defaults = NamespaceOptions.parse(
        c.getJsonObject("defaults", new JsonObject()), NamespaceOptions.DEFAULT, "channels.defaults");
    Map<String, NamespaceOptions> named = new HashMap<>();
    JsonObject ns = c.getJsonObject("namespaces", new JsonObject());
    for (String name : ns.fieldNames()) {
      Object v = ns.getValue(name);
      if (!(v instanceof JsonObject o)) throw new ConfigException("channels.namespaces." + name, "must be an object of namespace options");
      if (!name.isEmpty() && !Channels.isValid(name)) {
        throw new ConfigException("channels.namespaces." + name, "is not a valid namespace name");
      }
      named.put(name, NamespaceOptions.parse(o, defaults, "channels.namespaces." + name));
    }
    return new Namespaces(defaults, named, c.getBoolean("strictNamespaces", false));
  }

  /**
   * Options for a valid channel name, or null when its namespace is unknown (strict mode only). The default
   * namespace {@code ""} and the personal namespace {@code user} always exist.
   */
  public NamespaceOptions of(String channel) {
    String ns = Channels.namespace(channel);
    NamespaceOptions o = named.get(ns);
    if (o != null) return o;
    if (ns.equals(Channels.PERSONAL_NAMESPACE)) return personal;
    if (strict && !ns.isEmpty()) return null;
    return defaults;
  }
}
