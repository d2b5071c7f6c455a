package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.persistence.EntityManager;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/**
 * {@code GET /admin/realms/{realm}/clever-sync/links?first=0&max=5000}: every {@code clever} link of
 * the realm as compact rows {@code [keycloakId, userId, userName]}, in Keycloak-id order, a page at
 * a time ({@code max} at most {@link #MAX_PAGE}); {@code "next"} is the {@code first} of the next
 * page, absent on the last one.
 *
 * <p>What the sidecar reads to know who owns which account ({@link Ownership}, read by the
 * sidecar's own rule): one query a page, where the admin REST API needs one call per linked
 * account (its user listing does not show links). Needs view-users in the realm.
 */
public final class LinksResource {

    static final int MAX_PAGE = 10000;

    private final KeycloakSession session;
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;

    LinksResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth) {
        this.session = session;
        this.realm = realm;
        this.auth = auth;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> links(@QueryParam("first") Integer first, @QueryParam("max") Integer max) {
        auth.users().requireView();
        int from = first == null ? 0 : Math.max(0, first);
        int size = max == null ? 1000 : Math.max(1, Math.min(MAX_PAGE, max));
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        List<Object[]> rows = em.createQuery("select f.user.id, f.userId, f.userName from FederatedIdentityEntity f"
                        + " where f.realmId = :realm and f.identityProvider = :alias order by f.user.id", Object[].class)
                .setParameter("realm", realm.getId()).setParameter("alias", Ownership.ALIAS)
                .setFirstResult(from).setMaxResults(size + 1).getResultList();
        List<List<String>> links = new ArrayList<>();
        for (Object[] row : rows.subList(0, Math.min(size, rows.size()))) {
            links.add(List.of((String) row[0], (String) row[1], row[2] == null ? "" : (String) row[2]));
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("links", links);
        if (rows.size() > size) {
            answer.put("next", from + size);
        }
        return answer;
    }
}
