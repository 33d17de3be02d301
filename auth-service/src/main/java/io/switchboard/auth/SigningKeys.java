package io.switchboard.auth;

import io.switchboard.common.ConfigException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.util.Base64;

/**
 * The ES256 key pair tokens are signed with, and its public half as a JWK. Configured (auth.privateKeyPem and
 * auth.publicKeyPem, both PEM text or file paths) or generated at start. A generated pair is kept in the Vert.x
 * instance's local map so every auth verticle instance of one JVM signs with the same key; separate JVMs generate
 * separate keys, so a multi-JVM deployment configures one pair for all.
 */
final class SigningKeys {
  static final String ALGORITHM = "ES256";
  private static final String CURVE = "secp256r1";
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private final String privatePem;
  private final String publicPem;
  private final ECPublicKey publicKey;
  private final String kid;
  private final boolean generated;

  private SigningKeys(String privatePem, String publicPem, ECPublicKey publicKey, String kid, boolean generated) {
    this.privatePem = privatePem;
    this.publicPem = publicPem;
    this.publicKey = publicKey;
    this.kid = kid;
    this.generated = generated;
  }

  /** Blocking (file reads, key generation, a test signature): run on a worker. */
  static SigningKeys load(Vertx vertx, AuthSettings s) {
    return load(vertx, s, null);
  }

  /**
   * Like {@link #load(Vertx, AuthSettings)}; {@code sharedPair} ({private, public} PEMs), when given, is the generated
   * pair every auth JVM of the deployment agreed on through Redis.
   */
  static SigningKeys load(Vertx vertx, AuthSettings s, JsonObject sharedPair) {
    boolean generate = s.privateKeyPem().isEmpty() && s.publicKeyPem().isEmpty();
    if (!generate && (s.privateKeyPem().isEmpty() || s.publicKeyPem().isEmpty())) {
      throw new ConfigException(s.privateKeyPem().isEmpty() ? "auth.privateKeyPem" : "auth.publicKeyPem",
          "is empty but its pair is set: give both PEMs, or neither to generate a key pair at start");
    }
    String privatePem;
    String publicPem;
    if (generate && sharedPair != null) {
      privatePem = sharedPair.getString("private");
      publicPem = sharedPair.getString("public");
    } else if (generate) {
      LocalMap<String, JsonObject> shared = vertx.sharedData().getLocalMap("switchboard.auth.signing");
      shared.putIfAbsent("generated", generatePems());
      JsonObject pair = shared.get("generated");
      privatePem = pair.getString("private");
      publicPem = pair.getString("public");
    } else {
      privatePem = Pem.text("auth.privateKeyPem", s.privateKeyPem());
      publicPem = Pem.text("auth.publicKeyPem", s.publicKeyPem());
    }
    ECPrivateKey priv = Pem.privateKey("auth.privateKeyPem", privatePem);
    ECPublicKey pub = Pem.publicKey("auth.publicKeyPem", publicPem);
    requireP256("auth.privateKeyPem", priv.getParams());
    requireP256("auth.publicKeyPem", pub.getParams());
    requirePair(priv, pub);
    String kid = s.keyId().isEmpty() ? thumbprint(pub) : s.keyId();
    return new SigningKeys(privatePem, publicPem, pub, kid, generate);
  }

  String kid() {
    return kid;
  }

  boolean generated() {
    return generated;
  }

  /** The public key as a JWK (RFC 7517/7518): what gateways verify with. */
  JsonObject jwk() {
    return coordinates(publicKey).put("kid", kid).put("alg", ALGORITHM).put("use", "sig");
  }

  /** {@code {keys:[jwk]}}: served at /.well-known/jwks.json and on the bus. */
  JsonObject jwks() {
    return new JsonObject().put("keys", new JsonArray().add(jwk()));
  }

  /** The signer of minted tokens (the kid goes into every token's header). */
  Es256Signer es256Signer() {
    return new Es256Signer(Pem.privateKey("auth.privateKeyPem", privatePem), kid);
  }

  /** A provider that signs (and verifies) with this pair; the kid goes into every token's header. */
  JWTAuth signer(Vertx vertx) {
    return JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(privatePem).setId(kid))
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm(ALGORITHM).setBuffer(publicPem).setId(kid)));
  }

  static JsonObject generatePems() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec(CURVE));
      KeyPair kp = g.generateKeyPair();
      // getEncoded() of JDK EC keys is PKCS#8 (private) and X.509 SPKI (public): the forms vertx-auth-jwt parses.
      return new JsonObject()
          .put("private", Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()))
          .put("public", Pem.encode("PUBLIC KEY", kp.getPublic().getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an EC P-256 key pair: " + e.getMessage(), e);
    }
  }

  private static void requireP256(String key, ECParameterSpec params) {
    try {
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(new ECGenParameterSpec(CURVE));
      ECParameterSpec want = p.getParameterSpec(ECParameterSpec.class);
      if (want.getOrder().equals(params.getOrder()) && want.getCurve().equals(params.getCurve())) return;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no " + CURVE + " support", e);
    }
    throw new ConfigException(key, "is an EC key on another curve: ES256 needs P-256 (secp256r1 / prime256v1)");
  }

  private static void requirePair(ECPrivateKey priv, ECPublicKey pub) {
    try {
      byte[] probe = "switchboard key pair check".getBytes(StandardCharsets.US_ASCII);
      Signature sign = Signature.getInstance("SHA256withECDSA");
      sign.initSign(priv);
      sign.update(probe);
      byte[] sig = sign.sign();
      Signature verify = Signature.getInstance("SHA256withECDSA");
      verify.initVerify(pub);
      verify.update(probe);
      if (verify.verify(sig)) return;
    } catch (GeneralSecurityException e) {
      throw new ConfigException("auth.privateKeyPem", "cannot sign with the key: " + e.getMessage());
    }
    throw new ConfigException("auth.publicKeyPem", "is not the public half of auth.privateKeyPem");
  }

  private static JsonObject coordinates(ECPublicKey key) {
    return new JsonObject()
        .put("kty", "EC")
        .put("crv", "P-256")
        .put("x", B64URL.encodeToString(unsigned32(key.getW().getAffineX())))
        .put("y", B64URL.encodeToString(unsigned32(key.getW().getAffineY())));
  }

  /** RFC 7638 thumbprint (SHA-256 of the canonical required members), first 16 chars: a stable short kid. */
  static String thumbprint(ECPublicKey key) {
    JsonObject c = coordinates(key);
    String canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + c.getString("x") + "\",\"y\":\"" + c.getString("y") + "\"}";
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
      return B64URL.encodeToString(digest).substring(0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A coordinate as exactly 32 big-endian bytes (BigInteger may add a sign byte or drop leading zeros). */
  private static byte[] unsigned32(BigInteger n) {
    byte[] raw = n.toByteArray();
    byte[] out = new byte[32];
    int len = Math.min(raw.length, 32);
    System.arraycopy(raw, raw.length - len, out, 32 - len, len);
    return out;
  }
}
