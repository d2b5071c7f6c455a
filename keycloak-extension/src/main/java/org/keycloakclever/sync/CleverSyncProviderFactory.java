package org.keycloakclever.sync;

import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.services.resources.admin.AdminEventBuilder;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProvider;
import org.keycloak.services.resources.admin.ext.AdminRealmResourceProviderFactory;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/**
 * Registers {@code /admin/realms/{realm}/clever-sync}. Keycloak's admin layer checks the bearer
 * token and the realm before {@link #getResource} is called; the resource checks manage-users.
 */
public final class CleverSyncProviderFactory implements AdminRealmResourceProviderFactory, AdminRealmResourceProvider {

    public static final String ID = "clever-sync";
    private static final Logger LOG = Logger.getLogger(CleverSyncProviderFactory.class);

    @Override
    public AdminRealmResourceProvider create(KeycloakSession session) {
        return this;
    }

    @Override
    public Object getResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth,
                              AdminEventBuilder adminEvent) {
        return new CleverSyncResource(session, realm, auth, adminEvent);
    }

    @Override
    public void init(Config.Scope config) {
    }

    /** Says once, at start, which path new accounts take on this Keycloak and why ({@link RowsPath}). */
    @Override
    public void postInit(KeycloakSessionFactory factory) {
        RowsPath.Decision decision = RowsPath.server();
        if (decision.rows()) {
            LOG.infof("clever-sync %s: new accounts as rows; %s", version(), decision.reason());
        } else {
            LOG.warnf("clever-sync %s: new accounts through the model API; %s", version(), decision.reason());
        }
    }

    static String version() {
        String version = CleverSyncProviderFactory.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return ID;
    }
}
