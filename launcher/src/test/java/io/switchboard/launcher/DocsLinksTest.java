package io.switchboard.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The docs check of the build: README.md and docs/*.md stand alone. Every relative link (and image) must point at
 * a file of the repository — and at a heading of it when it has a {@code #fragment} — and nothing may point at
 * {@code ../shared}, the developers' notes outside the repository that a user who clones it does not have.
 */
class DocsLinksTest {
  /** {@code [text](target)} and {@code ![alt](target)}; the target up to the first space or closing paren. */
  private static final Pattern INLINE = Pattern.compile("!?\\[[^\\]]*\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
  /** {@code [label]: target} reference definitions. */
  private static final Pattern REFERENCE = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s*<?(\\S+?)>?(?:\\s.*)?$");
  private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");
  private static final Pattern HEADING = Pattern.compile("^\\s{0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");

  @Test
  void readmeAndDocsLinkOnlyInsideTheRepository() {
    Path root = repositoryRoot();
    List<Path> files = new ArrayList<>();
    files.add(root.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    assertTrue(files.size() >= 2, "README.md and docs/*.md should be found under " + root);
    List<String> problems = new ArrayList<>();
    for (Path f : files) problems.addAll(check(root, f));
    assertEquals(List.of(), problems, "broken documentation links");
  }

  /** The check itself must catch what it is for: a missing file, a missing heading, a way out of the repo. */
  @Test
  void theCheckFindsBrokenLinks(@TempDir Path repo) throws IOException {
    Files.createDirectories(repo.resolve("docs"));
    Files.writeString(repo.resolve("docs/a.md"), "# Title\n## Close codes\ntext\n");
    Files.writeString(repo.resolve("README.md"), String.join("\n",
        "[ok](docs/a.md) [ok anchor](docs/a.md#close-codes) [web](https://example.com) [self](#readme)",
        "# README",
        "[gone](docs/missing.md)",
        "[bad anchor](docs/a.md#no-such-heading)",
        "see `../shared/design/protocol.md`",
        "[out](../outside.md)",
        "```",
        "[in a code block](docs/nothing.md)",
        "```",
        "[ref]: docs/also-missing.md",
        ""));
    List<String> problems = check(repo, repo.resolve("README.md"));
    assertEquals(5, problems.size(), problems.toString());
    assertTrue(problems.get(0).contains("docs/missing.md"), problems.toString());
    assertTrue(problems.get(1).contains("no-such-heading"), problems.toString());
    assertTrue(problems.get(2).contains("../shared"), problems.toString());
    assertTrue(problems.get(3).contains("outside the repository"), problems.toString());
    assertTrue(problems.get(4).contains("also-missing"), problems.toString());
  }

  /** Problems of one markdown file, each naming the file, line and link. */
  static List<String> check(Path root, Path file) {
    List<String> problems = new ArrayList<>();
    List<String> lines = read(file);
    String name = root.relativize(file).toString();
    boolean fenced = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      String where = name + ":" + (i + 1);
      if (line.contains("../shared")) problems.add(where + ": refers to ../shared, which is not in the repository");
      if (line.trim().startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      if (fenced) continue;
      String text = line.replaceAll("`[^`]*`", "");
      List<String> targets = new ArrayList<>();
      Matcher m = INLINE.matcher(text);
      while (m.find()) targets.add(m.group(1));
      Matcher r = REFERENCE.matcher(text);
      if (r.matches()) targets.add(r.group(1));
      for (String target : targets) {
        String problem = checkTarget(root, file, target);
        if (problem != null) problems.add(where + ": " + target + ": " + problem);
      }
    }
    return problems;
  }

  private static String checkTarget(Path root, Path file, String target) {
    if (SCHEME.matcher(target).find()) return null; // https:, mailto: …
    int hash = target.indexOf('#');
    String path = hash < 0 ? target : target.substring(0, hash);
    String fragment = hash < 0 ? null : target.substring(hash + 1);
    Path resolved = path.isEmpty() ? file : file.getParent().resolve(path).normalize();
    if (!resolved.startsWith(root)) return "points outside the repository";
    if (!Files.exists(resolved)) return "no such file " + root.relativize(resolved);
    if (fragment != null && !fragment.isEmpty() && resolved.toString().endsWith(".md")
        && !anchors(resolved).contains(fragment.toLowerCase(Locale.ROOT))) {
      return "no heading #" + fragment + " in " + root.relativize(resolved);
    }
    return null;
  }

  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
  static List<String> anchors(Path markdown) {
    List<String> out = new ArrayList<>();
    Map<String, Integer> seen = new HashMap<>();
    boolean fenced = false;
    for (String line : read(markdown)) {
      if (line.trim().startsWith("```")) fenced = !fenced;
      Matcher h = HEADING.matcher(line);
      if (fenced || !h.matches()) continue;
      String slug = h.group(2).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
      int n = seen.merge(slug, 1, Integer::sum);
      out.add(n == 1 ? slug : slug + "-" + (n - 1));
    }
    return out;
  }

  private static List<String> read(Path file) {
    try {
      return Files.readAllLines(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The directory holding the root pom and README (tests run in the module's directory). */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("README.md")) && Files.isDirectory(p.resolve("docs")) && Files.exists(p.resolve("pom.xml"))) {
        return p;
      }
    }
    throw new AssertionError("no repository root (README.md, docs/, pom.xml) above " + dir);
  }
}
