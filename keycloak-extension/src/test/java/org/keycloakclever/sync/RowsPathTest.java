package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Which Keycloak versions get the rows path ({@link RowsPath#decide}), without a server. */
class RowsPathTest {

    @Test
    void onlyVerifiedVersionsWithTheVerifiedEntityTakeTheRowsPath() {
        assertEquals(RowsPath.ROWS, RowsPath.decide("26.7.3", true, true).path());
        assertEquals(RowsPath.ROWS, RowsPath.decide("26.5.6", true, false).path());
        RowsPath.Decision unknown = RowsPath.decide("26.8.0", true, true);
        assertEquals(RowsPath.MODEL, unknown.path());
        assertTrue(unknown.reason().contains("not a version the rows path was verified on"), unknown.reason());
        assertEquals(RowsPath.MODEL, RowsPath.decide("26.7.3", true, false).path());
        assertEquals(RowsPath.MODEL, RowsPath.decide("26.7.3", false, true).path());
    }
}
