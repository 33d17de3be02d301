package io.switchboard.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The grants carried in a token: channel patterns (exact, or ending in {@code *} for a prefix) each with a set of
 * capabilities. Immutable; parsed once per token and consulted on every operation.
 */
public final class Grants {
  public record Grant(String pattern, Set<Capability> capabilities) {
    boolean matches(String channel) {
      if (pattern.endsWith("*")) return channel.startsWith(pattern.substring(0, pattern.length() - 1));
      return pattern.equals(channel);
    }

    public JsonObject toJson() {
      JsonArray caps = new JsonArray();
      for (Capability c : capabilities) caps.add(c.wire());
      return new JsonObject().put("channel", pattern).put("capabilities", caps);
    }
  }

  private final List<Grant> grants;

  private Grants(List<Grant> grants) {
    this.grants = List.copyOf(grants);
  }

  public static final Grants NONE = new Grants(List.of());

  public List<Grant> list() {
    return grants;
  }

  /** Whether any grant matching the channel carries the capability. */
  public boolean allows(String channel, Capability capability) {
    for (Grant g : grants) {
      if (g.capabilities.contains(capability) && g.matches(channel)) return true;
    }
    return false;
  }

  public JsonArray toJson() {
    JsonArray a = new JsonArray();
    for (Grant g : grants) a.add(g.toJson());
    return a;
  }

  /**
   * Parses {@code [{channel, capabilities[]}]}, validating every entry.
   *
   * @throws ServiceError bad_request naming the first bad entry
   */
  public static Grants parse(Object json, String field) {
    if (json == null) return NONE;
    if (!(json instanceof JsonArray array)) throw ServiceError.badRequest(field + " must be an array of {channel, capabilities}");
    List<Grant> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      Object o = array.getValue(i);
      if (!(o instanceof JsonObject g)) throw ServiceError.badRequest(where(field, i) + " must be an object {channel, capabilities}");
      Object pattern = g.getValue("channel");
      if (!(pattern instanceof String p) || p.isEmpty()) throw ServiceError.badRequest(where(field, i) + ".channel must be a non-empty string");
      String plain = p.endsWith("*") ? p.substring(0, p.length() - 1) : p;
      if (!plain.isEmpty()) {
        String why = Channels.invalidReason(plain.indexOf('{') < 0 ? plain : plain.replace("{sub}", "x"));
        if (why != null) throw ServiceError.badRequest(where(field, i) + ".channel: " + why);
      }
      Object caps = g.getValue("capabilities");
      if (!(caps instanceof JsonArray ca) || ca.isEmpty()) {
        throw ServiceError.badRequest(where(field, i) + ".capabilities must be a non-empty array of subscribe|publish|presence|history|server");
      }
      EnumSet<Capability> set = EnumSet.noneOf(Capability.class);
      for (Object c : ca) {
        Capability cap = c instanceof String s ? Capability.parse(s) : null;
        if (cap == null) throw ServiceError.badRequest(where(field, i) + ".capabilities has unknown capability " + c + " (subscribe|publish|presence|history|server)");
        set.add(cap);
      }
      out.add(new Grant(p, set));
    }
    return new Grants(out);
  }

  /** Names entry {@code i} in an error (built only then: every connect parses its token's grants). */
  private static String where(String field, int i) {
    return field + "[" + i + "]";
  }

  /** Replaces {@code {sub}} in every pattern (policy templates of API keys). */
  public Grants withSubject(String subject) {
    List<Grant> out = new ArrayList<>();
    for (Grant g : grants) out.add(new Grant(g.pattern.replace("{sub}", subject), g.capabilities));
    return new Grants(out);
  }
}
