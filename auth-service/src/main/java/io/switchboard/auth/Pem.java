package io.switchboard.auth;

import io.switchboard.common.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM in and out for EC keys, in the two forms vertx-auth-jwt reads: PKCS#8 {@code PRIVATE KEY} and X.509 SPKI
 * {@code PUBLIC KEY}. Errors name the config key and say how to convert, since SEC1 {@code EC PRIVATE KEY} files
 * (openssl's default) are the usual mistake.
 */
final class Pem {
  private Pem() {}

  private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]*)-----END \\1-----");

  static String encode(String label, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  /** The config value as PEM text: the value itself when it looks like PEM, else the content of the file it names. */
  static String text(String key, String value) {
    if (value.startsWith("-----BEGIN")) return value;
    try {
      return Files.readString(Path.of(value), StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw new ConfigException(key, "is neither PEM text nor a readable PEM file: " + value + " (" + e.getMessage() + ")");
    }
  }

  static ECPrivateKey privateKey(String key, String pem) {
    byte[] der = der(key, pem, "PRIVATE KEY");
    try {
      if (KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der)) instanceof ECPrivateKey k) return k;
    } catch (GeneralSecurityException e) {
      throw new ConfigException(key, "is not an EC P-256 private key: " + e.getMessage());
    }
    throw new ConfigException(key, "is not an EC private key");
  }

  static ECPublicKey publicKey(String key, String pem) {
    byte[] der = der(key, pem, "PUBLIC KEY");
    try {
      if (KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der)) instanceof ECPublicKey k) return k;
    } catch (GeneralSecurityException e) {
      throw new ConfigException(key, "is not an EC P-256 public key: " + e.getMessage());
    }
    throw new ConfigException(key, "is not an EC public key");
  }

  private static byte[] der(String key, String pem, String label) {
    Matcher m = BLOCK.matcher(pem);
    if (!m.find()) throw new ConfigException(key, "holds no PEM block (-----BEGIN " + label + "----- ...)");
    if (!m.group(1).equals(label)) {
      throw new ConfigException(key, "holds a '" + m.group(1) + "' PEM block; need '" + label + "'"
          + (label.equals("PRIVATE KEY") ? " (PKCS#8: convert with openssl pkcs8 -topk8 -nocrypt -in key.pem)" : ""));
    }
    try {
      return Base64.getMimeDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, "has a PEM block that is not valid base64");
    }
  }
}
