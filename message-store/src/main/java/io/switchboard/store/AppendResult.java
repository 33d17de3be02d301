package io.switchboard.store;

import io.switchboard.common.Publication;

/**
 * What an append did.
 *
 * @param publication the stored publication (for a duplicate: id, offset, epoch and timestamp of the first one)
 * @param duplicate true when the idempotency key was seen within the window: nothing was stored, nothing must be
 *     fanned out
 */
public record AppendResult(Publication publication, boolean duplicate) {}
