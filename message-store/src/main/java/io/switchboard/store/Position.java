package io.switchboard.store;

/** A position in a channel's history: the offset of the last stored publication (0 = none) and its epoch. */
public record Position(long offset, String epoch) {}
