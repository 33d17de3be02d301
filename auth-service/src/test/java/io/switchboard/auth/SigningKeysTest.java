package io.switchboard.auth;

import io.switchboard.common.test.OnContext;

import static io.switchboard.auth.AuthHarness.grant;
import static io.switchboard.common.test.Await.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.Addresses;
import io.switchboard.common.test.Await;
import io.switchboard.common.test.Ports;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Signing keys (generated or configured), the JWKS over HTTP and the bus, and start-up checks. */
@ExtendWith(VertxExtension.class)
class SigningKeysTest {

  static KeyPair ecPair(String curve) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec(curve));
    return g.generateKeyPair();
  }

  static JsonObject pems(KeyPair pair) {
    return new JsonObject()
        .put("privateKeyPem", Pem.encode("PRIVATE KEY", pair.getPrivate().getEncoded()))
        .put("publicKeyPem", Pem.encode("PUBLIC KEY", pair.getPublic().getEncoded()));
  }

  private static JsonObject withAuth(JsonObject auth) {
    return new JsonObject().put("auth", auth);
  }

  private static JsonObject tokenBody() {
    return new JsonObject().put("subject", "u1").put("grants", new JsonArray().add(grant("task:*", "subscribe")));
  }

  /** Deployment must fail; returns the message. */
  private static String startFailure(Vertx vertx, JsonObject config) {
    JsonObject full = new JsonObject().put("adminKey", "k").put("auth", new JsonObject().put("port", Ports.free()))
        .mergeIn(config, true);
    return new OnContext(vertx).failure(() -> vertx.deployVerticle(new AuthVerticle(), new DeploymentOptions().setConfig(full))).getMessage();
  }

  @Test
  void generatedKeyIsServedAsJwksOnHttpAndBusAndPublishedAtStart(Vertx vertx) {
    Promise<JsonObject> changed = Promise.promise();
    new OnContext(vertx).await(() -> vertx.eventBus().<JsonObject>consumer(Addresses.AUTH_KEYS_CHANGED, m -> changed.tryComplete(m.body()))
        .completion());
    AuthHarness auth = AuthHarness.memory(vertx);

    JsonObject jwks = auth.get("/.well-known/jwks.json").json();
    JsonObject jwk = jwks.getJsonArray("keys").getJsonObject(0);
    assertEquals(1, jwks.getJsonArray("keys").size());
    assertEquals("EC", jwk.getString("kty"));
    assertEquals("P-256", jwk.getString("crv"));
    assertEquals("ES256", jwk.getString("alg"));
    assertEquals("sig", jwk.getString("use"));
    assertEquals(43, jwk.getString("x").length());
    assertEquals(43, jwk.getString("y").length());
    assertEquals(16, jwk.getString("kid").length());
    assertEquals(jwks, Await.result(changed.future()));
    assertEquals(jwks, auth.on.await(() -> vertx.eventBus().<JsonObject>request(Addresses.AUTH_KEYS, new JsonObject())).body());
  }

  @Test
  void aTokenVerifiesWithAProviderBuiltOnlyFromTheJwksAndAForeignOneDoesNot(Vertx vertx) throws Exception {
    AuthHarness auth = AuthHarness.memory(vertx);
    JWTAuth gateway = auth.verifierFromJwks();
    String token = auth.adminToken(tokenBody()).getString("token");
    assertEquals("u1", result(gateway.authenticate(new TokenCredentials(token))).principal().getString("sub"));

    JsonObject foreign = pems(ecPair("secp256r1"));
    String kid = auth.get("/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0).getString("kid");
    JWTAuth forger = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(foreign.getString("privateKeyPem")).setId(kid)));
    String forged = forger.generateToken(new JsonObject().put("sub", "u1"), new JWTOptions().setAlgorithm("ES256"));
    Await.failure(gateway.authenticate(new TokenCredentials(forged)));
  }

  @Test
  void configuredPemTextSignsTokensWithTheConfiguredKeyId(Vertx vertx) throws Exception {
    JsonObject pems = pems(ecPair("secp256r1"));
    AuthHarness auth = AuthHarness.start(vertx, withAuth(pems.copy().put("keyId", "k-2026")));
    JsonObject jwk = auth.get("/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0);
    assertEquals("k-2026", jwk.getString("kid"));
    String token = auth.adminToken(tokenBody()).getString("token");
    assertEquals("k-2026", AuthHarness.header(token).getString("kid"));
    JWTAuth withPublicPem = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("ES256").setBuffer(pems.getString("publicKeyPem"))));
    assertNotNull(result(withPublicPem.authenticate(new TokenCredentials(token))));
  }

  @Test
  void configuredPemFilesWorkAndTheKidIsAStableThumbprint(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject pems = pems(ecPair("secp256r1"));
    Path priv = Files.writeString(dir.resolve("private.pem"), pems.getString("privateKeyPem"));
    Path pub = Files.writeString(dir.resolve("public.pem"), pems.getString("publicKeyPem"));
    AuthHarness fromFiles = AuthHarness.start(vertx, withAuth(new JsonObject()
        .put("privateKeyPem", priv.toString()).put("publicKeyPem", pub.toString())));
    AuthHarness fromText = AuthHarness.start(vertx, withAuth(pems));
    JsonObject a = fromFiles.get("/.well-known/jwks.json").json();
    assertEquals(a, fromText.get("/.well-known/jwks.json").json());
    String token = fromFiles.adminToken(tokenBody()).getString("token");
    assertNotNull(result(fromText.verifierFromJwks().authenticate(new TokenCredentials(token))));
  }

  @Test
  void instancesInOneJvmShareTheGeneratedKey(Vertx vertx) {
    AuthHarness probe = AuthHarness.memory(vertx);
    JsonObject config = probe.config.copy();
    int port = Ports.free();
    config.getJsonObject("auth").put("port", port);
    probe.on.await(() -> vertx.deployVerticle(AuthVerticle.class, new DeploymentOptions().setInstances(2).setConfig(config)));
    Set<String> kids = new HashSet<>();
    for (int i = 0; i < 6; i++) {
      JsonObject jwks = probe.on.await(() -> vertx.createHttpClient().request(io.vertx.core.http.HttpMethod.GET, port, "127.0.0.1",
          "/.well-known/jwks.json").compose(r -> r.send()).compose(r -> r.body())).toJsonObject();
      kids.add(jwks.getJsonArray("keys").getJsonObject(0).getString("kid"));
    }
    assertEquals(Set.of(probe.get("/.well-known/jwks.json").json().getJsonArray("keys").getJsonObject(0).getString("kid")), kids);
  }

  @Test
  void startFailsClearlyOnBadKeyConfig(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonObject good = pems(ecPair("secp256r1"));
    JsonObject other = pems(ecPair("secp256r1"));
    assertMessage(startFailure(vertx, new JsonObject().put("adminKey", "")), "adminKey", "SWITCHBOARD_ADMIN_KEY");
    assertMessage(startFailure(vertx, withAuth(new JsonObject().put("privateKeyPem", good.getString("privateKeyPem")))),
        "auth.publicKeyPem", "give both");
    assertMessage(startFailure(vertx, withAuth(good.copy().put("publicKeyPem", other.getString("publicKeyPem")))),
        "auth.publicKeyPem", "not the public half");
    assertMessage(startFailure(vertx, withAuth(good.copy()
        .put("privateKeyPem", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))),
        "auth.privateKeyPem", "EC PRIVATE KEY", "pkcs8");
    assertMessage(startFailure(vertx, withAuth(pems(ecPair("secp384r1")))), "P-256");
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(1024);
    assertMessage(startFailure(vertx, withAuth(pems(rsa.generateKeyPair()))), "auth.privateKeyPem", "EC");
    assertMessage(startFailure(vertx, withAuth(good.copy().put("publicKeyPem", dir.resolve("missing.pem").toString()))),
        "auth.publicKeyPem", "missing.pem");
    assertMessage(startFailure(vertx, withAuth(new JsonObject().put("tokenTtlSeconds", 100).put("maxTokenTtlSeconds", 50))),
        "auth.tokenTtlSeconds", "maxTokenTtlSeconds");
    assertMessage(startFailure(vertx, new JsonObject().put("engine", "postgres")), "engine", "postgres");
  }

  @Test
  void keysOutsideItsSectionsDoNotStopTheService(Vertx vertx) {
    // The launcher may hand over keys of other services (or its own): the auth-service reads only what it needs.
    AuthHarness auth = AuthHarness.start(vertx, new JsonObject().put("services", "auth,gateway")
        .put("gateway", new JsonObject().put("port", 1)));
    assertEquals(3600, auth.adminToken(tokenBody()).getInteger("ttl"));
  }

  private static void assertMessage(String message, String... parts) {
    for (String p : parts) assertTrue(message.contains(p), "'" + p + "' not in: " + message);
  }
}
