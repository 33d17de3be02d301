package io.switchboard.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OptionsTest {
  @Test
  void readsValuesListsAndFlags() {
    Options o = new Options(new String[] {"run", "fanout", "--rate", "100,200", "--presence", "--subscribers=5000",
        "--server-env", "A=1", "--server-env", "B=2"}, 2);
    assertEquals(List.of(100.0, 200.0), o.numbers("rate", "1"));
    assertTrue(o.flag("presence"));
    assertEquals(5000, o.integer("subscribers", 1));
    assertEquals(List.of("A=1", "B=2"), o.list("server-env"));
  }

  @Test
  void unknownKnobsAndOutOfRangeValuesAreErrorsNamingTheKnob() {
    Options o = new Options(new String[] {"--subscriber", "10", "--workers", "0"}, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.allowOnly(Set.of("subscribers", "workers"), "run fanout"));
    assertTrue(e.getMessage().contains("--subscriber"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> o.bounded("workers", 2, 1, 64));
    assertTrue(e.getMessage().contains("--workers"), e.getMessage());
  }

  @Test
  void targetsAreLoopbackOnly() {
    Options.requireLoopback("127.0.0.1", "--target-ws");
    Options.requireLoopback("localhost", "--target-ws");
    assertThrows(IllegalArgumentException.class, () -> Options.requireLoopback("10.0.0.5", "--target-ws"));
  }

  @Test
  void aScenarioRefusesMoreConnectionsThanOneServerProcessCanHold() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Main.execute(new String[] {"run", "idle", "--server", "raw", "--connections", "50000"}));
    assertTrue(e.getMessage().contains("--connections"), e.getMessage());
  }
}
