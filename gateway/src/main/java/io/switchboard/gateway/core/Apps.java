package io.switchboard.gateway.core;

import io.switchboard.common.App;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The apps this gateway serves, by id and by key. With none configured there is one: {@link App#DEFAULT_ID}. */
public final class Apps {
  private final Map<String, App> byId = new HashMap<>();
  private final Map<String, App> byKey = new HashMap<>();
  private final App defaultApp;

  public Apps(List<App> apps) {
    for (App a : apps) {
      byId.put(a.id(), a);
      if (a.key() != null) byKey.put(a.key(), a);
    }
    App d = byId.get(App.DEFAULT_ID);
    if (d == null) {
      d = App.defaultApp();
      byId.put(d.id(), d);
    }
    defaultApp = d;
  }

  /** The app native-protocol sessions and tokens without an app belong to. */
  public App defaultApp() {
    return defaultApp;
  }

  public App byId(String id) {
    return byId.get(id);
  }

  public App byKey(String key) {
    return byKey.get(key);
  }

  /** The apps of the validated {@code apps} config list (plus the default one). */
  public static Apps fromConfig(io.vertx.core.json.JsonObject config) {
    return new Apps(App.parseAll(config.getJsonArray("apps")));
  }

  public Iterable<App> all() {
    return byId.values();
  }
}
