package io.switchboard.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.ServiceError;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ES256 verification against tokens signed by the JDK's own ECDSA (the auth-service signs the same way). */
class Es256Test {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static KeyPair keys;
  private static Es256 verifier;

  @BeforeAll
  static void keys() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    keys = g.generateKeyPair();
    ECPublicKey pub = (ECPublicKey) keys.getPublic();
    verifier = new Es256();
    verifier.addJwk(new JsonObject().put("kty", "EC").put("crv", "P-256").put("kid", "k1").put("alg", "ES256")
        .put("x", B64.encodeToString(fixed(pub.getW().getAffineX().toByteArray())))
        .put("y", B64.encodeToString(fixed(pub.getW().getAffineY().toByteArray()))));
  }

  private static byte[] fixed(byte[] big) {
    byte[] out = new byte[32];
    int n = Math.min(32, big.length);
    System.arraycopy(big, big.length - n, out, 32 - n, n);
    return out;
  }

  private static String token(JsonObject header, JsonObject claims) throws Exception {
    String signingInput = B64.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
    s.initSign(keys.getPrivate());
    s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
    return signingInput + "." + B64.encodeToString(s.sign());
  }

  private static JsonObject es256(String kid) {
    return new JsonObject().put("alg", "ES256").put("typ", "JWT").put("kid", kid);
  }

  @Test
  void verifiesManySignaturesWhateverTheirDerPadding() throws Exception {
    // r and s with the high bit set need a DER sign byte, leading zeros are dropped: 300 random signatures hit both
    for (int i = 0; i < 300; i++) {
      JsonObject claims = verifier.verify(token(es256("k1"), new JsonObject().put("sub", "u" + i)));
      assertEquals("u" + i, claims.getString("sub"));
    }
    assertNotNull(Es256.PROVIDER, "Conscrypt loads on this machine (else verification falls back to the slow JDK provider)");
  }

  private static void refused(String token, String why) {
    ServiceError e = assertThrows(ServiceError.class, () -> verifier.verify(token));
    assertEquals(ErrorCode.UNAUTHORIZED, e.code());
    assertTrue(e.getMessage().contains(why), e.getMessage());
  }

  @Test
  void refusesTamperedForeignAndMalformedTokens() throws Exception {
    String good = token(es256("k1"), new JsonObject().put("sub", "alice"));
    String[] parts = good.split("\\.");
    String forged = parts[0] + "." + B64.encodeToString(new JsonObject().put("sub", "root").encode().getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
    refused(forged, "bad signature");
    refused(token(es256("other"), new JsonObject().put("sub", "alice")), "unknown signing key");
    refused(token(new JsonObject().put("alg", "HS256").put("kid", "k1"), new JsonObject()), "must be ES256");
    refused(parts[0] + "." + parts[1] + ".", "64 bytes");
    refused("not-a-jwt", "not a JWT");
    refused("a.b.c.d", "not a JWT");
    refused("%%%.%%%.%%%", "malformed");
    byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
    sig[10] ^= 1;
    refused(parts[0] + "." + parts[1] + "." + B64.encodeToString(sig), "bad signature");
    assertTrue(Arrays.equals(Es256.der(new byte[64]), new byte[] {0x30, 6, 2, 1, 0, 2, 1, 0}));
  }
}
