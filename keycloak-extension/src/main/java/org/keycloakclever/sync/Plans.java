package org.keycloakclever.sync;

import jakarta.persistence.EntityManager;
import org.hibernate.Session;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;

/**
 * On PostgreSQL, plans every statement of the batch's transaction for the table sizes of now
 * ({@code SET LOCAL plan_cache_mode = force_custom_plan}).
 *
 * <p>Keycloak's statements are prepared on pooled connections, and after five runs PostgreSQL may
 * keep one generic plan for them, made from the statistics of the last ANALYZE. When that ANALYZE
 * saw the user tables (nearly) empty, a fresh install or a realm just deleted, the generic plans
 * scan whole tables: a batch's username, email, group-membership and role lookups then read every
 * row of USER_ENTITY and USER_GROUP_MEMBERSHIP once per person (108 million rows for 3,000 people
 * in one bench run), until autovacuum analyzes again. A custom plan costs a fraction of a
 * millisecond per statement and sees how big the tables are.
 */
final class Plans {

    private Plans() {
    }

    static void preferCustom(KeycloakSession session) {
        EntityManager em = session.getProvider(JpaConnectionProvider.class).getEntityManager();
        String product = em.unwrap(Session.class).doReturningWork(c -> c.getMetaData().getDatabaseProductName());
        if ("PostgreSQL".equalsIgnoreCase(product)) {
            em.createNativeQuery("SET LOCAL plan_cache_mode = force_custom_plan").executeUpdate();
        }
    }
}
