package io.switchboard.gateway.protocol.pubnub;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Publication;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** The filter language's semantics, expression by expression (the wire and SDK tests cover delivery). */
class PubNubFilterTest {
  private static Publication pub(String publisher, Object data, JsonObject meta) {
    return new Publication("id", "ch", 1, "e", 0, "message", data, "user", publisher, null, null, 0, false, null, null, meta);
  }

  private static final Publication P = pub("alice", new JsonObject().put("kind", "alert").put("score", 81).put("tags", new JsonArray().add("a").add(2)),
      new JsonObject().put("priority", "high").put("level", 3).put("name", "Urgent-Fix").put("code", "7")
          .put("user", new JsonObject().put("role", "admin")).put("flag", true));

  private static boolean m(String expr) {
    return PubNubFilter.parse(expr).matches(P);
  }

  @Test
  void comparisonsOnMetaDataAndUuid() {
    assertTrue(m("meta.priority == 'high'"));
    assertTrue(m("priority == \"high\""), "a bare name is a meta field");
    assertFalse(m("meta.priority != 'high'"));
    assertTrue(m("meta.level >= 3 && meta.level < 4 && meta.level > 2.5 && meta.level <= 3"));
    assertTrue(m("3 <= meta.level"), "a literal on the left mirrors the operator");
    assertTrue(m("data.score > 80 && data.kind == 'alert'"));
    assertTrue(m("uuid == 'alice' && uuid != 'bob'"));
    assertTrue(m("meta.user.role == 'admin' && meta[\"user\"]['role'] == 'admin'"));
    assertTrue(m("meta.code == 7 && meta.level == '3'"), "numbers and their text compare equal");
    assertTrue(m("meta.flag == 'true'"));
  }

  @Test
  void likeContainsAndLogic() {
    assertTrue(m("meta.name LIKE 'urgent*'"), "LIKE is case-insensitive");
    assertTrue(m("meta.name like '*fix'"));
    assertTrue(m("meta.name LIKE '*GEN*'"));
    assertFalse(m("meta.name LIKE 'fix*'"));
    assertTrue(m("meta.name LIKE '*'"));
    assertTrue(m("meta.name CONTAINS 'Fix'"));
    assertTrue(m("data.tags CONTAINS 'a' && data.tags CONTAINS 2"));
    assertFalse(m("data.tags CONTAINS 'b'"));
    assertTrue(m("meta.priority == 'low' || meta.level == 3"));
    assertFalse(m("meta.priority == 'low' || meta.level == 3 && meta.flag == 'false'"), "&& binds tighter than ||");
    assertTrue(m("(meta.priority == 'low' || meta.level == 3) && !(meta.flag == 'false')"));
    assertTrue(m("!!(uuid == 'alice')"));
  }

  @Test
  void absentFieldsFailEveryComparison() {
    assertFalse(m("meta.missing == 'x'"));
    assertFalse(m("meta.missing != 'x'"), "absent: false, even for !=");
    assertFalse(m("meta.priority > 1"), "ordering on a non-number is false");
    assertFalse(m("meta.user == 'admin'"), "an object is no value");
    assertTrue(m("!(meta.missing == 'x')"));
    Publication noMeta = pub("bob", "just text", null);
    assertFalse(PubNubFilter.parse("meta.priority == 'high'").matches(noMeta));
    assertFalse(PubNubFilter.parse("data.kind == 'alert'").matches(noMeta));
    assertTrue(PubNubFilter.parse("uuid == 'bob'").matches(noMeta));
    Publication presence = Publication.event("ch", "presence.join", new JsonObject());
    assertTrue(PubNubDialect.passes(pollerWith("meta.priority == 'high'"), presence), "presence events always pass");
  }

  @Test
  void refusedExpressionsNameWhereAndWhy() {
    for (String bad : new String[] {"meta.n % 10 == 0", "meta.a ==", "meta.a IN ('x')", "(meta.a == 'x'", "meta == 'x'",
        "'x' == 'y'", "meta.a == meta.b", "meta.n > 'x'", "'x' LIKE meta.a", "meta.a LIKE 3", "meta.a == 'open", "meta. == 1",
        "", "uuid"}) {
      PubNubFilter.Invalid e = assertThrows(PubNubFilter.Invalid.class, () -> PubNubFilter.parse(bad), bad);
      assertTrue(e.getMessage().startsWith("filter-expr: ") && e.getMessage().contains("at position"), e.getMessage());
    }
    String deep = "(".repeat(PubNubFilter.MAX_DEPTH) + "uuid == 'a'" + ")".repeat(PubNubFilter.MAX_DEPTH);
    assertTrue(assertThrows(PubNubFilter.Invalid.class, () -> PubNubFilter.parse(deep)).getMessage().contains("nested deeper"));
    String ok = "(".repeat(PubNubFilter.MAX_DEPTH - 1) + "uuid == 'alice'" + ")".repeat(PubNubFilter.MAX_DEPTH - 1);
    assertTrue(PubNubFilter.parse(ok).matches(P));
  }

  @Test
  void likeIsAGlob() {
    assertTrue(PubNubFilter.like("abcabc", "*abc"));
    assertTrue(PubNubFilter.like("aXbYc", "a*b*c"));
    assertFalse(PubNubFilter.like("aXbY", "a*b*c"));
    assertTrue(PubNubFilter.like("", "*"));
    assertFalse(PubNubFilter.like("", "a"));
    assertFalse(PubNubFilter.like("x".repeat(10_000), "*x*x*y*"), "no y: backtracking only to the last star, at most length x pattern steps");
  }

  private static PubNubPoller pollerWith(String expr) {
    PubNubPoller p = new PubNubPoller(null, "u");
    p.filter = PubNubFilter.parse(expr);
    return p;
  }
}
