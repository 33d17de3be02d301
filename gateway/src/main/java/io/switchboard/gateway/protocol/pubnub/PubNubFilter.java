package io.switchboard.gateway.protocol.pubnub;

import io.switchboard.common.Publication;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A subscribe {@code filter-expr}: PubNub's filter language over a publication's {@code meta} (and {@code data}),
 * evaluated per subscriber before a message is delivered ({@link PubNubDialect#variant}). Parsed once per subscribe
 * request; evaluation allocates nothing but the lowered strings of a {@code LIKE}.
 *
 * <p>The subset: comparisons {@code ==}, {@code !=}, {@code <}, {@code <=}, {@code >}, {@code >=} (ordering on
 * numbers only), {@code LIKE} (case-insensitive, {@code *} matches any run of characters) and {@code CONTAINS}
 * (substring); {@code &&}, {@code ||}, {@code !} and parentheses; string literals in single or double quotes and
 * number literals. Operands: {@code uuid} (the publisher: the publication's source id, which is what PubNub
 * clients see as the message's publisher), {@code meta.a.b} / {@code meta["a"]}, {@code data.a} (the payload's
 * fields), and a bare name, which is a field of {@code meta} (PubNub's older form, {@code language == "en"}).
 * A field that is absent (or of another type than the literal) makes its comparison false — {@code !=} included.
 * Anything else (arithmetic such as {@code %} sampling, {@code IN}, functions) is refused with the position where
 * parsing stopped. Filters apply to messages and signals only: presence events always pass.
 */
final class PubNubFilter {
  /** Longest expression accepted (characters). */
  static final int MAX_LENGTH = 1024;
  /** Deepest nesting of parentheses and negations. */
  static final int MAX_DEPTH = 32;

  /** A refused expression, naming why and where. */
  static final class Invalid extends RuntimeException {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  private sealed interface Node permits And, Or, Not, Compare {}

  private record And(Node l, Node r) implements Node {}

  private record Or(Node l, Node r) implements Node {}

  private record Not(Node n) implements Node {}

  /** {@code path op literal} (a literal on the left is swapped to the right with the operator mirrored). */
  private record Compare(Operand left, String op, Operand right) implements Node {}

  /** A literal (String or Double) or a field path: {@code root} uuid / meta / data, then keys. */
  private record Operand(Object literal, String root, List<String> keys) {
    boolean isLiteral() {
      return root == null;
    }
  }

  private final Node root;
  private final String text;

  private PubNubFilter(Node root, String text) {
    this.root = root;
    this.text = text;
  }

  String text() {
    return text;
  }

  /** Parses an expression; {@link Invalid} naming what is wrong. */
  static PubNubFilter parse(String expr) {
    if (expr.length() > MAX_LENGTH) throw new Invalid("filter-expr is longer than " + MAX_LENGTH + " characters");
    Parser p = new Parser(expr);
    Node n = p.or(0);
    p.skip();
    if (p.i < expr.length()) throw p.error("unexpected '" + expr.charAt(p.i) + "'");
    return new PubNubFilter(n, expr);
  }

  /** Whether a message passes. */
  boolean matches(Publication p) {
    return eval(root, p);
  }

  private static boolean eval(Node n, Publication p) {
    if (n instanceof And a) return eval(a.l, p) && eval(a.r, p);
    if (n instanceof Or o) return eval(o.l, p) || eval(o.r, p);
    if (n instanceof Not x) return !eval(x.n, p);
    Compare c = (Compare) n;
    Object v = value(c.left, p);
    Object lit = c.right.literal;
    if (v == null) return false;
    switch (c.op) {
      case "==", "!=" -> {
        boolean eq;
        if (lit instanceof Double d && v instanceof Number num) eq = num.doubleValue() == d;
        else if (lit instanceof String s && v instanceof String vs) eq = vs.equals(s);
        else if (lit instanceof Double d && v instanceof String vs) eq = vs.equals(numberText(d)); // "5" == 5
        else if (lit instanceof String s && v instanceof Number num) eq = numberText(num.doubleValue()).equals(s);
        else if (lit instanceof String s && v instanceof Boolean b) eq = b.toString().equals(s);
        else return false;
        return c.op.equals("==") == eq;
      }
      case "<", "<=", ">", ">=" -> {
        if (!(lit instanceof Double d)) return false;
        double x;
        if (v instanceof Number num) x = num.doubleValue();
        else if (v instanceof String vs) {
          try {
            x = Double.parseDouble(vs);
          } catch (NumberFormatException e) {
            return false;
          }
        } else return false;
        return switch (c.op) {
          case "<" -> x < d;
          case "<=" -> x <= d;
          case ">" -> x > d;
          default -> x >= d;
        };
      }
      case "LIKE" -> {
        return v instanceof String vs && like(vs.toLowerCase(Locale.ROOT), ((String) lit).toLowerCase(Locale.ROOT));
      }
      default -> { // CONTAINS
        if (v instanceof String vs) return vs.contains(String.valueOf(lit instanceof Double d ? numberText(d) : lit));
        if (v instanceof JsonArray a) {
          for (Object o : a) if (o != null && (o.equals(lit) || o instanceof Number num && lit instanceof Double d && num.doubleValue() == d)) return true;
        }
        return false;
      }
    }
  }

  private static String numberText(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
  }

  /** {@code *} matches any run of characters (glob, iterative with backtracking to the last star). */
  static boolean like(String s, String pattern) {
    int si = 0;
    int pi = 0;
    int star = -1;
    int mark = 0;
    while (si < s.length()) {
      if (pi < pattern.length() && pattern.charAt(pi) == '*') {
        star = pi++;
        mark = si;
      } else if (pi < pattern.length() && pattern.charAt(pi) == s.charAt(si)) {
        pi++;
        si++;
      } else if (star >= 0) {
        pi = star + 1;
        si = ++mark;
      } else {
        return false;
      }
    }
    while (pi < pattern.length() && pattern.charAt(pi) == '*') pi++;
    return pi == pattern.length();
  }

  private static Object value(Operand o, Publication p) {
    Object cur;
    switch (o.root) {
      case "uuid" -> {
        return p.sourceId();
      }
      case "meta" -> cur = p.meta();
      default -> cur = p.data();
    }
    for (String k : o.keys) {
      if (!(cur instanceof JsonObject j)) return null;
      cur = j.getValue(k);
    }
    return cur instanceof JsonObject ? null : cur;
  }

  // --- parsing -------------------------------------------------------------------------------------

  private static final class Parser {
    final String s;
    int i;

    Parser(String s) {
      this.s = s;
    }

    Invalid error(String why) {
      return new Invalid("filter-expr: " + why + " at position " + i + " (supported: ==, !=, <, <=, >, >=, LIKE, CONTAINS, &&, ||, !, "
          + "parentheses, 'strings', numbers, uuid, meta.field, data.field)");
    }

    void skip() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
    }

    boolean eat(String token) {
      skip();
      if (s.startsWith(token, i)) {
        i += token.length();
        return true;
      }
      return false;
    }

    Node or(int depth) {
      Node l = and(depth);
      while (eat("||")) l = new Or(l, and(depth));
      return l;
    }

    Node and(int depth) {
      Node l = unary(depth);
      while (eat("&&")) l = new And(l, unary(depth));
      return l;
    }

    Node unary(int depth) {
      if (depth >= MAX_DEPTH) throw error("nested deeper than " + MAX_DEPTH);
      skip();
      if (i < s.length() && s.charAt(i) == '!' && !s.startsWith("!=", i)) {
        i++;
        return new Not(unary(depth + 1));
      }
      if (eat("(")) {
        Node n = or(depth + 1);
        if (!eat(")")) throw error("expected ')'");
        return n;
      }
      return comparison();
    }

    Node comparison() {
      Operand l = operand();
      String op = operator();
      Operand r = operand();
      if (l.isLiteral() == r.isLiteral()) throw error("a comparison needs one field and one literal");
      if (l.isLiteral()) {
        Operand t = l;
        l = r;
        r = t;
        op = switch (op) {
          case "<" -> ">";
          case ">" -> "<";
          case "<=" -> ">=";
          case ">=" -> "<=";
          case "LIKE", "CONTAINS" -> throw error(op + " needs the field on its left");
          default -> op;
        };
      }
      if ((op.equals("LIKE")) && !(r.literal instanceof String)) throw error("LIKE needs a string pattern");
      if (op.length() <= 2 && op.matches("[<>]=?") && !(r.literal instanceof Double)) throw error(op + " compares numbers only");
      return new Compare(l, op, r);
    }

    String operator() {
      skip();
      for (String op : new String[] {"==", "!=", "<=", ">=", "<", ">"}) {
        if (s.startsWith(op, i)) {
          i += op.length();
          return op;
        }
      }
      for (String op : new String[] {"LIKE", "CONTAINS"}) {
        if (s.regionMatches(true, i, op, 0, op.length()) && (i + op.length() >= s.length() || !Character.isLetterOrDigit(s.charAt(i + op.length())))) {
          i += op.length();
          return op;
        }
      }
      throw error(i < s.length() ? "unsupported operator" : "expected an operator");
    }

    Operand operand() {
      skip();
      if (i >= s.length()) throw error("expected a field or a literal");
      char c = s.charAt(i);
      if (c == '\'' || c == '"') return new Operand(string(), null, null);
      if (c == '-' || Character.isDigit(c)) return new Operand(number(), null, null);
      if (!isIdentStart(c)) throw error("unexpected '" + c + "'");
      String name = ident();
      String root;
      List<String> keys = new ArrayList<>();
      if (name.equals("uuid")) {
        return new Operand(null, "uuid", List.of());
      } else if (name.equals("meta") || name.equals("data")) {
        root = name;
      } else {
        root = "meta"; // a bare name is a field of meta
        keys.add(name);
      }
      while (i < s.length()) {
        if (s.charAt(i) == '.') {
          i++;
          if (i >= s.length() || !isIdentStart(s.charAt(i))) throw error("expected a field name after '.'");
          keys.add(ident());
        } else if (s.charAt(i) == '[') {
          i++;
          skip();
          if (i >= s.length() || s.charAt(i) != '"' && s.charAt(i) != '\'') throw error("expected a quoted key in [ ]");
          keys.add(string());
          skip();
          if (i >= s.length() || s.charAt(i) != ']') throw error("expected ']'");
          i++;
        } else {
          break;
        }
      }
      if (keys.isEmpty()) throw error("'" + root + "' must name a field (" + root + ".field)");
      return new Operand(null, root, List.copyOf(keys));
    }

    static boolean isIdentStart(char c) {
      return Character.isLetter(c) || c == '_' || c == '$';
    }

    String ident() {
      int start = i;
      while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '$')) i++;
      return s.substring(start, i);
    }

    String string() {
      char q = s.charAt(i++);
      StringBuilder b = new StringBuilder();
      while (i < s.length() && s.charAt(i) != q) {
        char c = s.charAt(i++);
        if (c == '\\' && i < s.length()) c = s.charAt(i++);
        b.append(c);
      }
      if (i >= s.length()) throw error("unterminated string");
      i++;
      return b.toString();
    }

    Double number() {
      int start = i;
      if (s.charAt(i) == '-') i++;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) i++;
      try {
        return Double.parseDouble(s.substring(start, i));
      } catch (NumberFormatException e) {
        i = start;
        throw error("bad number");
      }
    }
  }
}
