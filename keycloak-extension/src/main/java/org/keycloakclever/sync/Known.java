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
 * Which accounts the database already holds for the Clever ids of one batch, read in one query
 * when the batch starts: the {@code clever} links of those ids, and which of them are owned
 * ({@link Ownership}). A new person (no link) needs no query of their own.
 *
 * <p>A snapshot: {@link BatchJob} keeps what its own items write (people by ref, links added) in
 * its own maps. The {@code clever_id} attribute is data, never looked up here: it does not say whose
 * an account is.
 */
final class Known {

    private static final int CHUNK = 500;

    /** Clever id → the account its {@code clever} link is on, owned or not. */
    private final Map<String, String> byLink = new HashMap<>();
    /** Clever id → the account its owned link is on. */
    private final Map<String, String> byOwnedLink = new HashMap<>();
    /** Lower-cased username or address → the account holding it; read only for {@link Fresh} batches. */
    private final Map<String, String> byUsername = new HashMap<>();
    private final Map<String, String> byEmail = new HashMap<>();
    private boolean accounts;
    /** Parent id → child name → id, for the parents of the batch's new groups ({@link #loadChildren}). */
    private final Map<String, Map<String, String>> children = new HashMap<>();
    private boolean childrenStale;

    static Known load(KeycloakSession session, String realmId, Collection<String> cleverIds) {
        Known known = new Known();
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        List<String> ids = new ArrayList<>(cleverIds);
        for (int from = 0; from < ids.size(); from += CHUNK) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + CHUNK));
            List<Object[]> links = em.createQuery("select f.userId, f.user.id, f.userName from FederatedIdentityEntity f"
                            + " where f.realmId = :realm and f.identityProvider = :alias and f.userId in :ids", Object[].class)
                    .setParameter("realm", realmId).setParameter("alias", Ownership.ALIAS).setParameter("ids", chunk)
                    .getResultList();
            for (Object[] link : links) {
                String cleverId = (String) link[0];
                known.byLink.putIfAbsent(cleverId, (String) link[1]);
                if (!Ownership.ownerOf(Ownership.ALIAS, cleverId, (String) link[2]).isEmpty()) {
                    known.byOwnedLink.putIfAbsent(cleverId, (String) link[1]);
                }
            }
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
        return accounts;
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

    /** The Keycloak id of the account linked to this Clever id (owned or not), or null. */
    String linked(String cleverId) {
        return byLink.get(cleverId);
    }

    /** The Keycloak id of the account this Clever id owns (its owned link), or null. */
    String owned(String cleverId) {
        return byOwnedLink.get(cleverId);
    }
}
