package io.switchboard.gateway;

import io.switchboard.common.ErrorCode;
import io.switchboard.common.SafeJson;
import io.switchboard.common.ServiceError;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * ES256 (ECDSA P-256 / SHA-256) JWT signature verification — the per-connect cost of the gateway.
 *
 * <p>Uses Conscrypt (BoringSSL) when its native library loads: about 10,000 verifications per second per core here,
 * against about 300 for the JDK 17 provider, which alone would cap connects at a few hundred per second. Falls back
 * to the JDK provider (same results, slower) where Conscrypt has no native build.
 *
 * <p>Thread-safe: keys are immutable and shared; {@link Signature} objects are per thread.
 */
final class Es256 {
  private static final System.Logger LOG = System.getLogger(Es256.class.getName());
  static final Provider PROVIDER = loadProvider();
  private static final ThreadLocal<Signature> SIGNATURE = ThreadLocal.withInitial(Es256::newSignature);
  private static final Base64.Decoder B64URL = Base64.getUrlDecoder();

  /** Public keys by kid. */
  private final Map<String, PublicKey> keys = new ConcurrentHashMap<>();
  /**
   * Parsed JOSE headers by their base64url text: every token of one signing key has the same header, so it is
   * decoded and parsed once per key rather than once per connect. Bounded: headers that do not verify are never
   * kept, and at most {@link #HEADER_CACHE} are.
   */
  private final Map<String, JsonObject> headers = new ConcurrentHashMap<>();
  private static final int HEADER_CACHE = 64;

  private static Provider loadProvider() {
    try {
      Provider p = (Provider) Class.forName("org.conscrypt.OpenSSLProvider").getConstructor().newInstance();
      Signature.getInstance("SHA256withECDSA", p);
      return p;
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.WARNING, "gateway: Conscrypt unavailable (" + t + "); ES256 tokens are verified "
          + "with the JDK provider, which is much slower per connect");
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

  /** Adds a public JWK ({@code kty EC, crv P-256, x, y, kid}); other key types are ignored. */
  void addJwk(JsonObject jwk) throws GeneralSecurityException {
    if (!"EC".equals(jwk.getString("kty")) || !"P-256".equals(jwk.getString("crv"))) return;
    AlgorithmParameters params = AlgorithmParameters.getInstance("EC");
    params.init(new ECGenParameterSpec("secp256r1"));
    ECParameterSpec spec = params.getParameterSpec(ECParameterSpec.class);
    ECPoint point = new ECPoint(new BigInteger(1, B64URL.decode(jwk.getString("x"))), new BigInteger(1, B64URL.decode(jwk.getString("y"))));
    PublicKey jdkKey = KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, spec));
    PublicKey key = PROVIDER == null ? jdkKey
        : KeyFactory.getInstance("EC", PROVIDER).generatePublic(new X509EncodedKeySpec(jdkKey.getEncoded()));
    keys.put(jwk.getString("kid", ""), key);
  }

  boolean hasKeys() {
    return !keys.isEmpty();
  }

  /**
   * Verifies a compact JWS and returns its claims.
   *
   * @throws ServiceError unauthorized, naming what is wrong with the token
   */
  JsonObject verify(String token) {
    int dot1 = token.indexOf('.');
    int dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 || token.indexOf('.', dot2 + 1) >= 0) throw invalid("not a JWT (header.payload.signature)");
    JsonObject header;
    byte[] payload;
    byte[] signature;
    String headerText = token.substring(0, dot1);
    JsonObject known = headers.get(headerText);
    try {
      header = known != null ? known : SafeJson.parseObject(Buffer.buffer(B64URL.decode(headerText)));
      payload = B64URL.decode(token.substring(dot1 + 1, dot2));
      signature = B64URL.decode(token.substring(dot2 + 1));
    } catch (RuntimeException e) {
      throw invalid("malformed JWT (" + e.getMessage() + ")");
    }
    if (!"ES256".equals(header.getString("alg"))) throw invalid("algorithm must be ES256, not " + header.getValue("alg"));
    PublicKey key = keys.get(header.getString("kid", ""));
    if (key == null && header.getString("kid") == null && keys.size() == 1) key = keys.values().iterator().next();
    if (key == null) throw invalid("unknown signing key " + header.getString("kid"));
    if (signature.length != 64) throw invalid("ES256 signature must be 64 bytes");
    try {
      Signature s = SIGNATURE.get();
      s.initVerify(key);
      s.update(token.substring(0, dot2).getBytes(StandardCharsets.US_ASCII));
      if (!s.verify(der(signature))) throw invalid("bad signature");
    } catch (GeneralSecurityException e) {
      throw invalid("bad signature (" + e.getMessage() + ")");
    }
    if (known == null && headers.size() < HEADER_CACHE) headers.put(headerText, header); // read only: never handed out
    // the claims are parsed only once they are known to be ours (and, like any input, depth-bounded)
    try {
      return SafeJson.parseObject(Buffer.buffer(payload));
    } catch (RuntimeException e) {
      throw invalid("malformed claims (" + e.getMessage() + ")");
    }
  }

  /** JOSE signatures are r‖s (32 bytes each); JCA wants an ASN.1 DER SEQUENCE of two INTEGERs. */
  static byte[] der(byte[] rs) {
    byte[] r = integer(rs, 0);
    byte[] s = integer(rs, 32);
    byte[] out = new byte[2 + 2 + r.length + 2 + s.length];
    int i = 0;
    out[i++] = 0x30;
    out[i++] = (byte) (out.length - 2);
    out[i++] = 0x02;
    out[i++] = (byte) r.length;
    System.arraycopy(r, 0, out, i, r.length);
    i += r.length;
    out[i++] = 0x02;
    out[i++] = (byte) s.length;
    System.arraycopy(s, 0, out, i, s.length);
    return out;
  }

  /** A 32-byte unsigned big-endian number as a minimal DER INTEGER body. */
  private static byte[] integer(byte[] rs, int from) {
    int start = from;
    while (start < from + 31 && rs[start] == 0) start++;
    boolean pad = (rs[start] & 0x80) != 0;
    byte[] out = new byte[from + 32 - start + (pad ? 1 : 0)];
    System.arraycopy(rs, start, out, pad ? 1 : 0, from + 32 - start);
    return out;
  }

  private static ServiceError invalid(String why) {
    return new ServiceError(ErrorCode.UNAUTHORIZED, "invalid token: " + why);
  }
}
