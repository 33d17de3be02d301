package io.switchboard.deploy.kubernetes;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Parses rendered objects into the official Kubernetes object model (fabric8) and refuses what the API server would
 * not know: a kind with no model class, or any field the model has no property for (fabric8 keeps those in each
 * object's {@code additionalProperties}; a strict parse is one where all of them are empty, at every depth).
 */
final class StrictModel {
  private StrictModel() {}

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  static HasMetadata parse(ObjectNode object) {
    String where = object.path("kind").asText() + " " + object.path("metadata").path("name").asText();
    Object parsed = SERIALIZATION.unmarshal(object.toString());
    if (!(parsed instanceof HasMetadata h) || parsed instanceof GenericKubernetesResource) {
      throw new AssertionError(where + ": " + object.path("apiVersion").asText() + " " + object.path("kind").asText()
          + " is not a kind of the Kubernetes model");
    }
    List<String> unknown = new ArrayList<>();
    walk(parsed, where, unknown);
    if (!unknown.isEmpty()) throw new AssertionError(where + " has fields the Kubernetes model does not know: " + unknown);
    return h;
  }

  private static void walk(Object o, String path, List<String> unknown) {
    if (o == null) return;
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) walk(e, path + "[" + i++ + "]", unknown);
      return;
    }
    if (o instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) walk(e.getValue(), path + "." + e.getKey(), unknown);
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.")) return;
    for (Method g : o.getClass().getMethods()) {
      if (g.getParameterCount() != 0 || Modifier.isStatic(g.getModifiers()) || g.getDeclaringClass() == Object.class) continue;
      String n = g.getName();
      if (!n.startsWith("get") && !n.startsWith("is")) continue;
      Object v;
      try {
        v = g.invoke(o);
      } catch (ReflectiveOperationException | RuntimeException e) {
        continue;
      }
      if (n.equals("getAdditionalProperties")) {
        if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
          for (Object k : extra.keySet()) unknown.add(path + "." + k);
        }
        continue;
      }
      if (v == null || v instanceof String || v instanceof Number || v instanceof Boolean || v instanceof Enum<?>) continue;
      String prop = n.startsWith("get") ? n.substring(3) : n.substring(2);
      walk(v, path + "." + Character.toLowerCase(prop.charAt(0)) + prop.substring(1), unknown);
    }
  }
}
