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
    /** Lower-cased username or address → the account holding it; read only for {@link Fresh} batches. */
    private final Map<String, String> byUsername = new HashMap<>();
    private final Map<String, String> byEmail = new HashMap<>();
    private boolean accounts;
    /** Parent id → child name → id, for the parents of the batch's new groups ({@link #loadChildren}). */
    private final Map<String, Map<String, String>> children = new HashMap<>();
    private boolean childrenStale;
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

    /**
     * Also reads which of {@code usernames} and {@code emails} (lower-cased) the realm's accounts hold,
     * so a batch of new people needs no {@code getUserByUsername} or {@code getUserByEmail} each. Only
     * for a realm without user storage providers: with LDAP federation those lookups also ask LDAP.
     */
    void loadAccounts(KeycloakSession session, String realmId, Collection<String> usernames, Collection<String> emails) {
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        chunks(usernames, chunk -> rows(em.createQuery("select u.username, u.id from UserEntity u"
                        + " where u.realmId = :realm and u.username in :names", Object[].class)
                .setParameter("realm", realmId).setParameter("names", chunk).getResultList(), byUsername));
        chunks(emails, chunk -> rows(em.createQuery("select u.email, u.id from UserEntity u"
                        + " where u.realmId = :realm and u.email in :emails", Object[].class)
                .setParameter("realm", realmId).setParameter("emails", chunk).getResultList(), byEmail));
        accounts = true;
    }

    /**
     * Also reads the children of {@code parentIds}, so a batch of new groups needs no
     * {@code getGroupByName} each to see whether a sibling of that name exists.
     */
    void loadChildren(KeycloakSession session, String realmId, Collection<String> parentIds) {
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        parentIds.forEach(id -> children.put(id, new HashMap<>()));
        chunks(parentIds, chunk -> {
            for (Object[] row : em.createQuery("select g.parentId, g.name, g.id from GroupEntity g"
                            + " where g.realm = :realm and g.parentId in :parents", Object[].class)
                    .setParameter("realm", realmId).setParameter("parents", chunk).getResultList()) {
                children.get((String) row[0]).put((String) row[1], (String) row[2]);
            }
        });
    }

    /** True when the children of this parent were read and no group was renamed or moved since. */
    boolean knowsChildrenOf(String parentId) {
        return !childrenStale && children.containsKey(parentId);
    }

    /** The id of the parent's child of that name, or null ({@link #knowsChildrenOf} first). */
    String child(String parentId, String name) {
        return children.get(parentId).get(name);
    }

    /** A group the batch made. */
    void madeChild(String parentId, String name, String id) {
        Map<String, String> known = children.get(parentId);
        if (known != null) {
            known.put(name, id);
        }
    }

    /** A group was renamed or moved: ask the database for children from now on. */
    void childrenMoved() {
        childrenStale = true;
    }

    private static void chunks(Collection<String> values, java.util.function.Consumer<List<String>> read) {
        List<String> all = new ArrayList<>(values);
        for (int from = 0; from < all.size(); from += CHUNK) {
            read.accept(all.subList(from, Math.min(all.size(), from + CHUNK)));
        }
    }

    /** True when {@link #loadAccounts} ran and the snapshot still holds. */
    boolean knowsAccounts() {
        return accounts && !stale;
    }

    /** The Keycloak id of the account with this (lower-cased) username, or null. */
    String named(String username) {
        return byUsername.get(username);
    }

    /** The Keycloak id of the account with this (lower-cased) address, or null. */
    String addressed(String email) {
        return byEmail.get(email);
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
