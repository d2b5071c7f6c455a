package org.keycloakclever.sync;

/**
 * One operation cannot be applied (bad input, not the sync's account or group, a name taken).
 * Thrown only before the operation writes anything, so the batch's transaction stays usable.
 */
final class Refusal extends RuntimeException {

    Refusal(String message) {
        super(message, null, false, false);
    }
}
