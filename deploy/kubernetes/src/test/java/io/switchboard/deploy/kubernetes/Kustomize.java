package io.switchboard.deploy.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Renders a kustomization the way {@code kubectl kustomize} does, for the subset this tree uses: {@code resources}
 * (files and directories), {@code components}, {@code patches} given as strategic-merge patch files (objects matched
 * by kind and name; maps merged; the lists Kubernetes merges by name — containers, env, volumes, volumeMounts, ports
 * — merged by name, {@code $patch: delete} honoured; other lists replaced) and {@code images}. Anything else in a
 * kustomization.yaml is refused, so the tree cannot silently grow past what this renderer understands.
 *
 * <p>{@link #render} uses kubectl when it is on the PATH (it renders offline) and this renderer otherwise;
 * {@code ManifestsTest} checks that both give the same objects wherever kubectl exists.
 */
final class Kustomize {
  private Kustomize() {}

  static final Path ROOT = locateRoot();
  static final ObjectMapper YAML = new YAMLMapper();
  private static final Set<String> KNOWN = Set.of("apiVersion", "kind", "resources", "components", "patches", "images");
  private static final Set<String> MERGE_BY_NAME = Set.of("containers", "initContainers", "env", "volumes", "volumeMounts", "ports");

  private static Path locateRoot() {
    // surefire runs in the module directory (deploy/kubernetes); an IDE may run from the repository root
    Path here = Path.of("").toAbsolutePath();
    if (Files.exists(here.resolve("overlays"))) return here;
    Path fromRepo = here.resolve("deploy/kubernetes");
    if (Files.exists(fromRepo.resolve("overlays"))) return fromRepo;
    throw new IllegalStateException("cannot find deploy/kubernetes from " + here);
  }

  /** The rendered objects of a kustomization directory (relative to deploy/kubernetes), by kubectl if present. */
  static List<ObjectNode> render(String dir) {
    return kubectlAvailable() ? kubectl(dir) : java(dir);
  }

  static boolean kubectlAvailable() {
    try {
      Process p = new ProcessBuilder("kubectl", "version", "--client").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  static List<ObjectNode> kubectl(String dir) {
    try {
      Process p = new ProcessBuilder("kubectl", "kustomize", ROOT.resolve(dir).toString()).start();
      byte[] err = p.getErrorStream().readAllBytes();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError("kubectl kustomize " + dir + " failed: " + new String(err));
      }
      return parseDocuments(out);
    } catch (IOException e) {
      throw new AssertionError("kubectl kustomize " + dir + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** This renderer's output for a kustomization directory. */
  static List<ObjectNode> java(String dir) {
    return build(ROOT.resolve(dir).normalize(), false);
  }

  static List<ObjectNode> parseDocuments(String text) throws IOException {
    List<ObjectNode> out = new ArrayList<>();
    var parser = new YAMLFactory().createParser(text);
    Iterator<JsonNode> docs = YAML.readValues(parser, JsonNode.class);
    while (docs.hasNext()) {
      JsonNode d = docs.next();
      if (d == null || d.isNull() || d.isMissingNode()) continue;
      if (!(d instanceof ObjectNode o)) throw new IllegalArgumentException("not an object: " + d);
      out.add(o);
    }
    return out;
  }

  private static List<ObjectNode> build(Path dir, boolean component) {
    ObjectNode k = readOne(dir.resolve("kustomization.yaml"));
    for (Iterator<String> it = k.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!KNOWN.contains(f)) throw new IllegalArgumentException(dir + "/kustomization.yaml: '" + f + "' is not supported by this renderer");
    }
    String kind = k.path("kind").asText();
    if (component != "Component".equals(kind)) throw new IllegalArgumentException(dir + " is a " + kind + " where a " + (component ? "Component" : "Kustomization") + " belongs");
    List<ObjectNode> objects = new ArrayList<>();
    for (JsonNode r : k.path("resources")) {
      Path p = dir.resolve(r.asText()).normalize();
      objects.addAll(Files.isDirectory(p) ? build(p, false) : readAll(p));
    }
    for (JsonNode c : k.path("components")) {
      Path p = dir.resolve(c.asText()).normalize();
      ObjectNode ck = readOne(p.resolve("kustomization.yaml"));
      for (JsonNode r : ck.path("resources")) objects.addAll(readAll(p.resolve(r.asText())));
      applyPatches(objects, ck, p);
    }
    applyPatches(objects, k, dir);
    for (JsonNode img : k.path("images")) setImage(objects, img);
    return objects;
  }

  private static void applyPatches(List<ObjectNode> objects, ObjectNode k, Path dir) {
    for (JsonNode patch : k.path("patches")) {
      if (!patch.has("path") || patch.size() != 1) throw new IllegalArgumentException(dir + ": only patches with a path are supported: " + patch);
      for (ObjectNode p : readAll(dir.resolve(patch.get("path").asText()))) {
        ObjectNode target = find(objects, p.path("kind").asText(), p.path("metadata").path("name").asText());
        merge(target, p);
      }
    }
  }

  static ObjectNode find(List<ObjectNode> objects, String kind, String name) {
    for (ObjectNode o : objects) {
      if (kind.equals(o.path("kind").asText()) && name.equals(o.path("metadata").path("name").asText())) return o;
    }
    throw new IllegalArgumentException("no " + kind + " named " + name);
  }

  /** Strategic merge of {@code patch} into {@code target}. */
  private static void merge(ObjectNode target, ObjectNode patch) {
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode cur = target.get(e.getKey());
      JsonNode val = e.getValue();
      if (cur instanceof ObjectNode c && val instanceof ObjectNode v) {
        merge(c, v);
      } else if (cur instanceof ArrayNode c && val instanceof ArrayNode v && MERGE_BY_NAME.contains(e.getKey())) {
        mergeByName(c, v);
      } else if (val.isNull()) {
        target.remove(e.getKey());
      } else {
        target.set(e.getKey(), val.deepCopy());
      }
    }
  }

  private static void mergeByName(ArrayNode target, ArrayNode patch) {
    for (JsonNode p : patch) {
      String name = p.path("name").asText(null);
      if (name == null) throw new IllegalArgumentException("a list item without a name in a merged list: " + p);
      int at = -1;
      for (int i = 0; i < target.size(); i++) if (name.equals(target.get(i).path("name").asText())) at = i;
      if ("delete".equals(p.path("$patch").asText())) {
        if (at >= 0) target.remove(at);
      } else if (at >= 0) {
        merge((ObjectNode) target.get(at), (ObjectNode) p);
      } else {
        target.add(p.deepCopy());
      }
    }
  }

  private static void setImage(List<ObjectNode> objects, JsonNode img) {
    String name = img.path("name").asText();
    for (ObjectNode o : objects) {
      for (JsonNode c : o.path("spec").path("template").path("spec").path("containers")) {
        String image = c.path("image").asText();
        String base = image.contains(":") ? image.substring(0, image.lastIndexOf(':')) : image;
        String tag = image.contains(":") ? image.substring(image.lastIndexOf(':') + 1) : null;
        if (!base.equals(name)) continue;
        String newName = img.path("newName").asText(base);
        String newTag = img.path("newTag").asText(tag);
        ((ObjectNode) c).put("image", newTag == null ? newName : newName + ":" + newTag);
      }
    }
  }

  private static ObjectNode readOne(Path file) {
    List<ObjectNode> all = readAll(file);
    if (all.size() != 1) throw new IllegalArgumentException(file + " must hold one document");
    return all.get(0);
  }

  private static List<ObjectNode> readAll(Path file) {
    try {
      return parseDocuments(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
