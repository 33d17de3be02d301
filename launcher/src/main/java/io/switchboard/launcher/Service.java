package io.switchboard.launcher;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The four services the one jar can run, in the order they start (the gateway needs the others' answers). */
enum Service {
  STORE("store"), PRESENCE("presence"), AUTH("auth"), GATEWAY("gateway");

  final String cliName;

  Service(String cliName) {
    this.cliName = cliName;
  }

  /** Parses {@code --services} (a comma list, or "all"); throws naming the unknown entry. */
  static Set<Service> parse(String list) {
    if (list == null || list.isBlank() || list.trim().equalsIgnoreCase("all")) return EnumSet.allOf(Service.class);
    EnumSet<Service> out = EnumSet.noneOf(Service.class);
    for (String raw : list.split(",")) {
      String name = raw.trim().toLowerCase(Locale.ROOT);
      Service found = null;
      for (Service s : values()) if (s.cliName.equals(name)) found = s;
      if (found == null) {
        throw new IllegalArgumentException("--services: unknown service '" + raw.trim() + "' (gateway, auth, store, presence or all)");
      }
      out.add(found);
    }
    return out;
  }
}
