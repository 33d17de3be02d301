package io.switchboard.auth;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

/**
 * Signs ES256 (ECDSA P-256 / SHA-256) compact JWTs — the per-token cost of the auth service.
 *
 * <p>Uses Conscrypt (BoringSSL) when its native library loads: about 30x the JDK 17 provider's P-256 rate, which
 * would cap minting at a few hundred tokens per second per core. Falls back to the JDK provider (same tokens,
 * slower). Thread-safe: {@link Signature} objects are per thread.
 */
final class Es256Signer {
  private static final System.Logger LOG = System.getLogger(Es256Signer.class.getName());
  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
  static final Provider PROVIDER = loadProvider();
  private static final ThreadLocal<Signature> SIGNATURE = ThreadLocal.withInitial(Es256Signer::newSignature);

  private final PrivateKey key;
  private final String header;

  Es256Signer(ECPrivateKey jdkKey, String kid) {
    PrivateKey k = jdkKey;
    if (PROVIDER != null) {
      try {
        k = KeyFactory.getInstance("EC", PROVIDER).generatePrivate(new PKCS8EncodedKeySpec(jdkKey.getEncoded()));
      } catch (GeneralSecurityException e) {
        k = jdkKey;
      }
    }
    this.key = k;
    this.header = b64(new JsonObject().put("alg", SigningKeys.ALGORITHM).put("typ", "JWT").put("kid", kid).encode());
  }

  private static Provider loadProvider() {
    try {
      Provider p = (Provider) Class.forName("org.conscrypt.OpenSSLProvider").getConstructor().newInstance();
      Signature.getInstance("SHA256withECDSA", p);
      return p;
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.WARNING, "auth: Conscrypt unavailable (" + t + "); signing tokens with the JDK provider");
      return null;
    }
  }

  private static Signature newSignature() {
    try {
      return PROVIDER != null ? Signature.getInstance("SHA256withECDSA", PROVIDER) : Signature.getInstance("SHA256withECDSA");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("no SHA256withECDSA", e);
    }
  }

  /** header.payload.signature, the signature in JOSE form (r‖s, 64 bytes). */
  String sign(JsonObject claims) {
    String signingInput = header + "." + b64(claims.encode());
    try {
      Signature s = SIGNATURE.get();
      s.initSign(key);
      s.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      return signingInput + "." + B64URL.encodeToString(jose(s.sign()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }

  private static String b64(String json) {
    return B64URL.encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  /** ASN.1 DER SEQUENCE{INTEGER r, INTEGER s} → r‖s, each left-padded to 32 bytes. */
  static byte[] jose(byte[] der) {
    int i = 2;
    if ((der[1] & 0x80) != 0) i += der[1] & 0x7f; // long-form length (never for P-256, but valid DER)
    byte[] out = new byte[64];
    for (int part = 0; part < 2; part++) {
      if (der[i++] != 0x02) throw new IllegalArgumentException("not a DER ECDSA signature");
      int len = der[i++];
      int start = i;
      int n = len;
      while (n > 32 && der[start] == 0) {
        start++;
        n--;
      }
      System.arraycopy(der, start, out, part * 32 + 32 - n, n);
      i += len;
    }
    return out;
  }
}
