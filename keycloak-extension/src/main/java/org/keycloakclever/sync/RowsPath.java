package org.keycloakclever.sync;

import java.util.Map;
import java.util.TreeMap;

import org.keycloak.common.Version;
import org.keycloak.models.RealmModel;

/**
 * Whether new accounts are written as rows ({@link Fresh}) or through Keycloak's model API, and why.
 *
 * <p>{@link Fresh} writes Keycloak's own JPA rows, so it is only as right as the schema it was
 * checked against. It runs only on a Keycloak version listed in {@link #VERIFIED}; on any other
 * version every account goes through the model API (slower, the same accounts) and the extension
 * says so: at start in Keycloak's log, in the probe ({@code GET .../clever-sync}, {@code newAccounts})
 * and in every batch answer ({@code newAccounts}), which the sidecar puts in its run reports.
 *
 * <p><b>To verify a new Keycloak version</b>: compare the entities {@link Fresh} writes
 * ({@code UserEntity}, {@code UserAttributeEntity}, {@code UserRoleMappingEntity},
 * {@code UserGroupMembershipEntity}, {@code UserRequiredActionEntity}, {@code FederatedIdentityEntity};
 * {@code javap -p -c} of the new and the last verified {@code keycloak-model-jpa} jar) and the new
 * {@code META-INF/jpa-changelog-*.xml} files, and {@code JpaUserProvider.addUser} and
 * {@code UserAdapter}'s setters with what {@link Fresh#add} writes; adapt {@link Fresh} where they
 * differ; add the version below with whether its {@code USER_ENTITY} has
 * {@code LAST_MODIFIED_TIMESTAMP}; then run the extension's tests on it
 * ({@code tests/integration/test_keycloak_bulk.py} compares both write paths row for row and asserts
 * that the rows path ran; {@code KEYCLOAK_VERSION=<version> make test}).
 */
final class RowsPath {

    /**
     * Verified versions → whether {@code USER_ENTITY} has {@code LAST_MODIFIED_TIMESTAMP} there.
     * 26.5.6: session 6 (2026-12-01), Fresh written against it. 26.7.3: 2026-12-07, the six entities
     * compared with 26.5.6's (only {@code lastModifiedTimestamp} is new, changeset
     * 26.6.0-add-last-modified-timestamp-user), the 26.6.0 and 26.7.0 changelogs read.
     */
    static final Map<String, Boolean> VERIFIED = new TreeMap<>(Map.of("26.5.6", false, "26.7.3", true));

    /** {@code -Dclever-sync.fresh-rows=false}: every new account through the model API. */
    static final boolean WANTED = Boolean.parseBoolean(System.getProperty("clever-sync.fresh-rows", "true"));

    static final String ROWS = "rows";
    static final String MODEL = "model";

    /** The path and the reason in words, as the probe and the batch answers give them. */
    record Decision(String path, String reason) {
        boolean rows() {
            return ROWS.equals(path);
        }

        Map<String, Object> json() {
            return Map.of("path", path, "reason", reason, "keycloak", running());
        }
    }

    private static final Decision SERVER = decide(running(), WANTED, Fresh.SET_LAST_MODIFIED != null);

    private RowsPath() {
    }

    /** The running Keycloak's version ({@code org.keycloak.common.Version}, read from the server's jars). */
    static String running() {
        return Version.VERSION;
    }

    /** The decision for this server, whatever the realm. */
    static Decision server() {
        return SERVER;
    }

    /** The decision for a realm: the server's, unless the realm has user federation or a workflow. */
    static Decision forRealm(RealmModel realm) {
        if (!SERVER.rows()) {
            return SERVER;
        }
        String why = Fresh.notPossible(realm);
        return why == null ? SERVER : new Decision(MODEL, why);
    }

    static Decision decide(String version, boolean wanted, boolean hasLastModified) {
        if (!wanted) {
            return new Decision(MODEL, "the rows path is turned off (-Dclever-sync.fresh-rows=false)");
        }
        Boolean lastModified = VERIFIED.get(version);
        if (lastModified == null) {
            return new Decision(MODEL, "Keycloak " + version + " is not a version the rows path was verified on "
                    + VERIFIED.keySet() + "; new accounts go through Keycloak's model API (slower, the same accounts)");
        }
        if (lastModified != hasLastModified) {
            return new Decision(MODEL, "Keycloak " + version + "'s user entity is not the one verified"
                    + " (LAST_MODIFIED_TIMESTAMP " + (hasLastModified ? "present" : "missing") + ")");
        }
        return new Decision(ROWS, "Keycloak " + version + " is a version the rows path was verified on");
    }
}
