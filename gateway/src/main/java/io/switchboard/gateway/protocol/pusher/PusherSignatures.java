package io.switchboard.gateway.protocol.pusher;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pusher's HMAC-SHA256 signatures: channel and user authorization, HTTP API requests, webhooks. Every comparison is
 * constant-time.
 */
public final class PusherSignatures {
  private PusherSignatures() {}

  public static String hmacHex(String secret, String message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  public static boolean equal(String a, String b) {
    if (a == null || b == null) return false;
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  /** {@code key:hex(HMAC(secret, socketId:channel[:channelData]))}. */
  public static String channelAuth(String key, String secret, String socketId, String channel, String channelData) {
    String msg = socketId + ":" + channel + (channelData == null ? "" : ":" + channelData);
    return key + ":" + hmacHex(secret, msg);
  }

  /** {@code key:hex(HMAC(secret, socketId::user::userData))}. */
  public static String userAuth(String key, String secret, String socketId, String userData) {
    return key + ":" + hmacHex(secret, socketId + "::user::" + userData);
  }

  /**
   * The HTTP API signature: HMAC over {@code METHOD\npath\nsorted query} where the query is every parameter but
   * {@code auth_signature}, keys lower-cased and sorted, {@code k=v} joined by {@code &}, values not escaped.
   */
  public static String requestSignature(String secret, String method, String path, Map<String, String> params) {
    TreeMap<String, String> sorted = new TreeMap<>();
    params.forEach((k, v) -> {
      if (!k.equalsIgnoreCase("auth_signature")) sorted.put(k.toLowerCase(java.util.Locale.ROOT), v);
    });
    StringBuilder q = new StringBuilder();
    sorted.forEach((k, v) -> {
      if (q.length() > 0) q.append('&');
      q.append(k).append('=').append(v);
    });
    return hmacHex(secret, method.toUpperCase(java.util.Locale.ROOT) + "\n" + path + "\n" + q);
  }

  public static String md5Hex(byte[] body) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("MD5 unavailable", e);
    }
  }
}
