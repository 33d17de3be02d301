package io.switchboard.auth;

import static io.switchboard.auth.AuthHarness.grant;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.auth.AuthHarness.Reply;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Authentication, validation and limits over real HTTP; none of this depends on the storage engine. */
@ExtendWith(VertxExtension.class)
class AuthRequestsTest {
  private AuthHarness auth;

  @BeforeEach
  void deploy(Vertx vertx) {
    auth = AuthHarness.memory(vertx);
  }

  private static JsonObject tokenBody(String subject) {
    return new JsonObject().put("subject", subject).put("grants", new JsonArray().add(grant("task:*", "subscribe")));
  }

  private static void assertError(Reply r, int status, String code, String... messageParts) {
    assertEquals(status, r.status(), r.body());
    assertEquals("application/json", r.headers().get("content-type"));
    assertEquals(code, r.errorCode(), r.body());
    for (String part : messageParts) assertTrue(r.errorMessage().contains(part), "'" + part + "' not in: " + r.errorMessage());
  }

  private Reply adminToken(JsonObject body) {
    return auth.post("/v1/tokens", auth.adminKey, body);
  }

  @Test
  void everyAdminEndpointRejectsMissingWrongAndApiKeys() {
    String apiKey = auth.createKey(tokenBody("k")).getString("key");
    for (String credential : new String[] {null, "wrong-" + auth.adminKey, apiKey}) {
      assertError(auth.post("/v1/keys", credential, tokenBody("x")), 401, "unauthorized");
      assertError(auth.delete("/v1/keys/abc", credential), 401, "unauthorized");
      assertError(auth.post("/v1/revocations", credential, new JsonObject().put("subject", "x")), 401, "unauthorized");
    }
    assertError(auth.post("/v1/tokens", null, tokenBody("x")), 401, "unauthorized", "x-api-key");
    assertError(auth.post("/v1/tokens", "wrong-" + auth.adminKey, tokenBody("x")), 401, "unauthorized");
    Reply badBearer = auth.send(HttpMethod.POST, "/v1/keys", Map.of("Authorization", "Bearer nope"), Buffer.buffer("{}"));
    assertError(badBearer, 401, "unauthorized");
  }

  @Test
  void anAnonymousCallerGetsNoValidationDetails() {
    assertError(auth.post("/v1/keys", null, "{not json"), 401, "unauthorized");
    assertError(auth.post("/v1/tokens", "sbk_0000000000000000_guess", "{not json"), 401, "unauthorized");
    assertError(auth.post("/v1/tokens", "sbk_0000000000000000_guess", new JsonObject().put("info", 5)), 401, "unauthorized");
  }

  @Test
  void bodiesThatAreNotJsonObjectsAreBadRequests() {
    assertError(adminToken(null), 400, "bad_request", "body must be a JSON object");
    assertError(auth.post("/v1/tokens", auth.adminKey, "{\"subject\":"), 400, "bad_request", "not valid JSON");
    assertError(auth.post("/v1/keys", auth.adminKey, "[1,2]"), 400, "bad_request", "JSON object");
    assertError(auth.post("/v1/revocations", auth.adminKey, "nope"), 400, "bad_request", "not valid JSON");
    String key = auth.createKey(tokenBody("k2")).getString("key");
    assertError(auth.post("/v1/tokens", key, "{oops"), 400, "bad_request", "not valid JSON");
  }

  @Test
  void bodiesNestedPastTheDepthLimitAreBadRequestsOnEveryEndpoint() {
    int max = io.switchboard.common.Defaults.MAX_JSON_DEPTH;
    // the body is level 1 and info level 2: info holding max - 2 more levels makes the body exactly max deep
    String atLimit = "{\"subject\":\"a\",\"grants\":[],\"info\":" + "{\"d\":".repeat(max - 2) + "{}" + "}".repeat(max - 2) + "}";
    assertEquals(200, auth.post("/v1/tokens", auth.adminKey, atLimit).status());
    String past = "{\"subject\":\"a\",\"grants\":[],\"info\":" + "{\"d\":".repeat(max - 1) + "{}" + "}".repeat(max - 1) + "}";
    assertError(auth.post("/v1/tokens", auth.adminKey, past), 400, "bad_request", "deeper than " + max);
    // the attack: a small body nested 1,000 (and 30,000) deep
    for (int depth : new int[] {1000, 30_000}) {
      String deep = "[".repeat(depth) + "]".repeat(depth);
      assertError(auth.post("/v1/tokens", auth.adminKey, deep), 400, "bad_request", "deeper than " + max);
      assertError(auth.post("/v1/keys", auth.adminKey, deep), 400, "bad_request", "deeper than " + max);
      assertError(auth.post("/v1/revocations", auth.adminKey, deep), 400, "bad_request", "deeper than " + max);
    }
    String key = auth.createKey(tokenBody("k3")).getString("key");
    assertError(auth.post("/v1/tokens", key, "{\"info\":" + "[".repeat(max) + "]".repeat(max) + "}"), 400, "bad_request",
        "deeper than " + max);
    assertEquals(200, auth.post("/v1/tokens", key, "{\"info\":{\"a\":" + "[".repeat(max - 2) + "]".repeat(max - 2) + "}}").status());
    byte[] badUtf8 = {'{', '"', 's', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    assertError(auth.send(HttpMethod.POST, "/v1/tokens", Map.of("x-api-key", auth.adminKey), Buffer.buffer(badUtf8)), 400,
        "bad_request", "not valid JSON");
  }

  @Test
  void missingOrWrongTypedFieldsAreNamed() {
    assertError(adminToken(new JsonObject().put("grants", new JsonArray())), 400, "bad_request", "subject");
    assertError(adminToken(tokenBody("a").put("subject", 42)), 400, "bad_request", "subject");
    assertError(adminToken(new JsonObject().put("subject", "a")), 400, "bad_request", "grants is required");
    assertError(adminToken(tokenBody("a").put("grants", "task:*")), 400, "bad_request", "grants must be an array");
    assertError(adminToken(tokenBody("a").put("info", "hi")), 400, "bad_request", "info");
    assertError(adminToken(tokenBody("a").put("sourceType", "no spaces")), 400, "bad_request", "sourceType");
    assertError(adminToken(tokenBody("a").put("ttl", "60")), 400, "bad_request", "ttl");
    assertError(adminToken(tokenBody("a").put("ttl", 1.5)), 400, "bad_request", "ttl");
    assertError(adminToken(tokenBody("a:b")), 400, "bad_request", "subject");
    assertError(auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("channels", new JsonArray())), 400, "bad_request", "channels");
    assertError(auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("channels", new JsonObject().put("cmd", 7))),
        400, "bad_request", "channels.cmd");
    assertError(auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("channels", new JsonObject().put("cmd", "bad channel"))),
        400, "bad_request", "channels.cmd");
  }

  @Test
  void badGrantsNameTheEntry() {
    JsonArray unknownCap = new JsonArray().add(grant("ok", "subscribe")).add(grant("task:1", "subscribe", "fly"));
    assertError(adminToken(tokenBody("a").put("grants", unknownCap)), 400, "bad_request", "grants[1].capabilities", "fly");
    JsonArray badChannel = new JsonArray().add(grant("bad channel", "publish"));
    assertError(adminToken(tokenBody("a").put("grants", badChannel)), 400, "bad_request", "grants[0].channel");
    JsonArray noCaps = new JsonArray().add(new JsonObject().put("channel", "x"));
    assertError(adminToken(tokenBody("a").put("grants", noCaps)), 400, "bad_request", "grants[0].capabilities");
    assertError(auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("grants", new JsonArray().add("x"))),
        400, "bad_request", "grants[0]");
  }

  @Test
  void aSubjectThatMakesATemplateTooLongIsRejectedNamingTheEntry() {
    String subject = "s".repeat(Fields.MAX_SUBJECT);
    JsonObject body = new JsonObject().put("subject", subject)
        .put("grants", new JsonArray().add(grant("ok", "publish")).add(grant("agent.{sub}." + "x".repeat(60), "publish")));
    assertError(auth.post("/v1/keys", auth.adminKey, body), 400, "bad_request", "grants[1].channel", "255");
  }

  @Test
  void ttlIsBoundedByTheMaximum() {
    int max = 7 * 24 * 3600;
    assertEquals(max, adminToken(tokenBody("a").put("ttl", max)).json().getInteger("ttl"));
    assertEquals(1, adminToken(tokenBody("a").put("ttl", 1)).json().getInteger("ttl"));
    assertError(adminToken(tokenBody("a").put("ttl", max + 1)), 400, "bad_request", "ttl", String.valueOf(max));
    assertError(adminToken(tokenBody("a").put("ttl", 0)), 400, "bad_request", "ttl");
    assertError(auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("ttl", max + 1)), 400, "bad_request", "ttl");
    assertEquals(201, auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("ttl", max)).status());
  }

  @Test
  void subjectLengthLimit() {
    assertEquals(200, adminToken(tokenBody("s".repeat(Fields.MAX_SUBJECT))).status());
    assertError(adminToken(tokenBody("s".repeat(Fields.MAX_SUBJECT + 1))), 400, "bad_request", "subject");
  }

  @Test
  void infoSizeLimit() {
    // {"p":"…"} is 8 bytes of JSON around the padding.
    JsonObject atLimit = new JsonObject().put("p", "x".repeat(Fields.MAX_INFO_BYTES - 8));
    assertEquals(Fields.MAX_INFO_BYTES, atLimit.encode().length());
    assertEquals(200, adminToken(tokenBody("a").put("info", atLimit)).status());
    JsonObject over = new JsonObject().put("p", "x".repeat(Fields.MAX_INFO_BYTES - 7));
    assertError(adminToken(tokenBody("a").put("info", over)), 400, "bad_request", "info", "4097");
  }

  @Test
  void grantCountLimit() {
    JsonArray grants = new JsonArray();
    for (int i = 0; i < Fields.MAX_GRANTS; i++) grants.add(grant("c" + i, "subscribe"));
    assertEquals(200, adminToken(tokenBody("a").put("grants", grants)).status());
    grants.add(grant("one-more", "subscribe"));
    assertError(adminToken(tokenBody("a").put("grants", grants)), 400, "bad_request", "grants", "101");
  }

  @Test
  void channelMapLimit() {
    JsonObject channels = new JsonObject();
    for (int i = 0; i < Fields.MAX_CHANNELS; i++) channels.put("n" + i, "agent.{sub}.c" + i);
    assertEquals(201, auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("channels", channels)).status());
    channels.put("extra", "x");
    assertError(auth.post("/v1/keys", auth.adminKey, tokenBody("a").put("channels", channels)), 400, "bad_request", "channels", "101");
  }

  @Test
  void bodySizeLimitIs64KiB() {
    String json = tokenBody("a").encode();
    String atLimit = json + " ".repeat(AuthRoutes.MAX_BODY_BYTES - json.length());
    assertEquals(AuthRoutes.MAX_BODY_BYTES, atLimit.length());
    assertEquals(200, adminToken(new JsonObject(atLimit)).status());
    assertEquals(200, auth.post("/v1/tokens", auth.adminKey, atLimit).status());
    assertError(auth.post("/v1/tokens", auth.adminKey, atLimit + " "), 413, "too_large", "65536");
    assertError(auth.post("/v1/keys", null, "x".repeat(200_000)), 413, "too_large");
  }

  @Test
  void revocationBodiesAreValidated() {
    assertError(auth.post("/v1/revocations", auth.adminKey, new JsonObject()), 400, "bad_request", "subject or tokenId");
    assertError(auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("subject", "a").put("tokenId", "j")),
        400, "bad_request", "subject or tokenId");
    assertError(auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("tokenId", 5)), 400, "bad_request", "tokenId");
    assertError(auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("tokenId", "j").put("exp", "soon")),
        400, "bad_request", "exp");
    assertError(auth.post("/v1/revocations", auth.adminKey, new JsonObject().put("subject", "")), 400, "bad_request", "subject");
  }

  @Test
  void unknownRoutesAndMethodsAnswerJson() {
    assertError(auth.get("/v2/nothing"), 404, "not_found", "/v2/nothing");
    assertError(auth.get("/v1/keys"), 404, "not_found", "GET /v1/keys");
  }
}
