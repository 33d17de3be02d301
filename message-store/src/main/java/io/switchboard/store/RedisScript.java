package io.switchboard.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A Lua script shipped as a resource next to this class, with its SHA-1 for EVALSHA. */
record RedisScript(String name, String source, String sha) {
  static final RedisScript APPEND = load("append.lua");
  static final RedisScript READ = load("read.lua");
  static final RedisScript ACK = load("ack.lua");
  static final RedisScript PENDING = load("pending.lua");
  static final RedisScript HEADS = load("heads.lua");

  static final RedisScript[] ALL = {APPEND, READ, ACK, PENDING, HEADS};

  static RedisScript load(String name) {
    try (InputStream in = RedisScript.class.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException("missing script resource " + name);
      String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      byte[] digest = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
      return new RedisScript(name, source, HexFormat.of().formatHex(digest));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
