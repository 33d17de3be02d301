package io.switchboard.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** Tokens signed by {@link Es256Signer} (Conscrypt here) verify with the JDK's own ES256, whatever r and s look like. */
class Es256SignerTest {
  @Test
  void signaturesVerifyWithTheJdkInJoseForm() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair kp = g.generateKeyPair();
    Es256Signer signer = new Es256Signer((ECPrivateKey) kp.getPrivate(), "k1");
    assertNotNull(Es256Signer.PROVIDER, "Conscrypt loads on this machine");
    for (int i = 0; i < 300; i++) {
      String token = signer.sign(new JsonObject().put("sub", "u" + i));
      String[] parts = token.split("\\.");
      JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
      assertEquals("ES256", header.getString("alg"));
      assertEquals("k1", header.getString("kid"));
      byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
      assertEquals(64, sig.length);
      Signature v = Signature.getInstance("SHA256withECDSAinP1363Format");
      v.initVerify(kp.getPublic());
      v.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      assertTrue(v.verify(sig), "signature " + i + " verifies");
    }
  }
}
