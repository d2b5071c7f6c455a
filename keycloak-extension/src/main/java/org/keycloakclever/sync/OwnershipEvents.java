package org.keycloakclever.sync;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.events.Details;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.events.admin.OperationType;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.ModelException;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.storage.ReadOnlyException;

/**
 * Keycloak's own events, read for the ownership rule ({@link Ownership}); a global listener, so every
 * realm has it without configuration.
 *
 * <ul>
 *   <li><b>A user's own unlink of an owned link is refused.</b> The Account REST API's
 *   {@code DELETE /account/linked-accounts/clever} fires {@code REMOVE_FEDERATED_IDENTITY} inside the
 *   request's transaction, whose detail {@code identity_provider_identity} is the removed link's
 *   userName: the ownership mark means the link was the district's, and the transaction is rolled
 *   back (Keycloak still answers 204: the Account Console never shows Clever, so only a hand-made
 *   API call meets this). A link the user made through the district's opt-out owns nothing and may
 *   be removed.</li>
 *   <li><b>An admin's unlink ends ownership, with the Clever data.</b> An admin API
 *   {@code DELETE users/{id}/federated-identity/clever} (the console's Unlink, the sidecar's page)
 *   removes the account's {@code clever_*} attributes in the same transaction where Keycloak lets it
 *   (a READ_ONLY directory account never had any). The person then waits on the sidecar's page.</li>
 * </ul>
 */
public final class OwnershipEvents implements EventListenerProvider {

    public static final String ID = "clever-ownership";
    static final Pattern UNLINK = Pattern.compile("users/([^/]+)/federated-identity/" + Ownership.ALIAS);
    private static final Logger LOG = Logger.getLogger(OwnershipEvents.class);

    private final KeycloakSession session;

    OwnershipEvents(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public void onEvent(Event event) {
        if (event.getType() != EventType.REMOVE_FEDERATED_IDENTITY) {
            return;
        }
        Map<String, String> details = event.getDetails() == null ? Map.of() : event.getDetails();
        String removed = details.getOrDefault(Details.IDENTITY_PROVIDER_USERNAME, "");
        if (Ownership.ALIAS.equals(details.get(Details.IDENTITY_PROVIDER)) && removed.startsWith(Ownership.MARK)) {
            LOG.warnf("clever-sync: refused user %s's own unlink of a Clever link the district owns (realm %s)",
                    event.getUserId(), event.getRealmId());
            session.getTransactionManager().setRollbackOnly();
        }
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        if (event.getOperationType() != OperationType.DELETE || event.getResourcePath() == null) {
            return;
        }
        Matcher unlink = UNLINK.matcher(event.getResourcePath());
        if (!unlink.matches()) {
            return;
        }
        RealmModel realm = session.realms().getRealm(event.getRealmId());
        UserModel user = realm == null ? null : session.users().getUserById(realm, unlink.group(1));
        if (user == null) {
            return;
        }
        List<String> clever = user.getAttributes().keySet().stream().filter(name -> name.startsWith("clever_")).toList();
        try {
            clever.forEach(user::removeAttribute);
        } catch (ReadOnlyException | ModelException exc) {
            LOG.debugf("clever-sync: the Clever attributes of %s stay (%s)", user.getId(), exc.getMessage());
        }
    }

    @Override
    public void close() {}

    /** The factory: global, so no realm has to list it among its event listeners. */
    public static final class Factory implements EventListenerProviderFactory {

        @Override
        public EventListenerProvider create(KeycloakSession session) {
            return new OwnershipEvents(session);
        }

        @Override
        public boolean isGlobal() {
            return true;
        }

        @Override
        public void init(Config.Scope config) {}

        @Override
        public void postInit(KeycloakSessionFactory factory) {}

        @Override
        public void close() {}

        @Override
        public String getId() {
            return ID;
        }
    }
}
