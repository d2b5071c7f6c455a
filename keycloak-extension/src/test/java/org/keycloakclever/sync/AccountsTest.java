package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** How an account's or a group's attribute values are compared before a write. */
class AccountsTest {

    @Test
    void valuesAreTheSameInAnyOrderAsKeycloakStoresThem() {
        assertTrue(Accounts.sameValues(List.of("s1", "s3"), List.of("s3", "s1")));
        assertTrue(Accounts.sameValues(List.of(), List.of()));
        assertFalse(Accounts.sameValues(List.of("s1"), List.of("s1", "s3")));
        assertFalse(Accounts.sameValues(List.of("s1", "s1"), List.of("s1")));
        assertFalse(Accounts.sameValues(List.of("s1"), List.of("S1")));
    }
}
