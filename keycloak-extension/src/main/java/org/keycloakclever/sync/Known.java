package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.persistence.EntityManager;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;

/**
 * Which accounts the database already holds for the Clever ids of one batch, read in two queries
 * when the batch starts: the {@code clever} links and the {@code clever_id} attributes.
 *
 * <p>Without it every person costs a link lookup and an attribute search
 * ({@code searchForUserByUserAttributeStream}), and the attribute search is the slow one: on
 * PostgreSQL it took 88 % of a 500-person batch's time waiting on the database, more the more
 * people the realm held. A new person (neither map knows their id) needs neither query.
 *
 * <p>A snapshot: {@link BatchJob} keeps what its own items write (people by ref, links added) in
 * its own maps, and stops trusting the snapshot ({@link #stale}) when an item writes a
 * {@code clever_id} other than its ref or removes one.
 */
final class Known {

    private static final int CHUNK = 500;

    private final Map<String, String> byLink = new HashMap<>();
    private final Map<String, String> byCleverId = new HashMap<>();
    private boolean stale;

    static Known load(KeycloakSession session, String realmId, Collection<String> cleverIds) {
        Known known = new Known();
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        List<String> ids = new ArrayList<>(cleverIds);
        for (int from = 0; from < ids.size(); from += CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + CHUNK));
            rows(em.createQuery("select f.userId, f.user.id from FederatedIdentityEntity f"
                            + " where f.realmId = :realm and f.identityProvider = :alias and f.userId in :ids", Object[].class)
                    .setParameter("realm", realmId).setParameter("alias", BatchJob.ALIAS).setParameter("ids", chunk)
                    .getResultList(), known.byLink);
            rows(em.createQuery("select a.value, a.user.id from UserAttributeEntity a"
                            + " where a.name = :name and a.value in :ids and a.user.realmId = :realm"
                            + " order by a.user.createdTimestamp", Object[].class)
                    .setParameter("realm", realmId).setParameter("name", BatchJob.CLEVER_ID).setParameter("ids", chunk)
                    .getResultList(), known.byCleverId);
        }
        return known;
    }

    private static void rows(List<Object[]> rows, Map<String, String> into) {
        for (Object[] row : rows) {
            into.putIfAbsent((String) row[0], (String) row[1]);
        }
    }

    /** False: ask the database instead (the snapshot may be out of date). */
    boolean usable() {
        return !stale;
    }

    void stale() {
        stale = true;
    }

    /** The Keycloak id of the account linked to this Clever id, or null. */
    String linked(String cleverId) {
        return byLink.get(cleverId);
    }

    /** The Keycloak id of an account carrying this {@code clever_id}, or null. */
    String carrying(String cleverId) {
        return byCleverId.get(cleverId);
    }
}
