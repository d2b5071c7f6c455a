package org.keycloakclever.sync;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;

import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.keycloak.broker.provider.AbstractIdentityProviderMapper;
import org.keycloak.broker.provider.BrokeredIdentityContext;
import org.keycloak.broker.provider.IdpLinkAction;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.FederatedIdentityModel;
import org.keycloak.models.IdentityProviderMapperModel;
import org.keycloak.models.IdentityProviderSyncMode;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.services.ErrorPageException;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The Clever identity provider's guard: Keycloak itself keeps the ownership rule ({@link Ownership})
 * at sign-in. The sidecar's {@code broker register} puts one on the {@code clever} provider.
 *
 * <ul>
 *   <li><b>No self-service link.</b> Keycloak calls every mapper's {@code preprocessFederatedIdentity}
 *   before it decides between a login and account linking ({@code IdentityBrokerService.authenticated}).
 *   A link in progress (the Account REST API's linked-accounts URI and the legacy
 *   {@code /broker/clever/link} endpoint set the {@code LINKING_IDENTITY_PROVIDER} note, the
 *   {@code idp_link} required action {@code kc_action_linking_identity_provider}) is refused with an
 *   error page, unless the district opted out ({@code allowSelfLinking}); a link made through the
 *   opt-out never carries the ownership mark, so the sync never trusts it.</li>
 *   <li><b>Logins write nothing.</b> A provider in sync mode FORCE copies names and rewrites the
 *   link's userName (the ownership mark) at every login, which READ_ONLY directory accounts refuse and
 *   which would end every ownership: refused until it is IMPORT again.</li>
 *   <li><b>No linking to existing accounts at first login.</b> A first login (nobody linked to that
 *   Clever id) is refused when the provider's first-broker-login flow holds a step that links an
 *   existing account or lets the person edit the profile ({@link #LINKING_STEPS}).</li>
 *   <li><b>Ownership for accounts made at first login.</b> {@code importNewUser} runs only for an
 *   account the first-broker-login flow created (Create Unknown Users) right after Keycloak linked it:
 *   the link gets the ownership mark in the same transaction.</li>
 * </ul>
 */
public final class OwnershipGuardMapper extends AbstractIdentityProviderMapper {

    public static final String PROVIDER_ID = "clever-ownership-guard";
    static final String ALLOW_SELF_LINKING = "allowSelfLinking";
    /** IdentityBrokerService.LINKING_IDENTITY_PROVIDER: set while an account is being linked. */
    static final String LINKING_NOTE = "LINKING_IDENTITY_PROVIDER";
    /** First-broker-login authenticators that link an existing account or let the person edit the profile. */
    static final Set<String> LINKING_STEPS = Set.of(
            "idp-confirm-link", "idp-email-verification", "idp-username-password-form", "idp-auto-link",
            "idp-confirm-override-link", "idp-review-profile", "idp-detect-existing-broker-user");
    static final String SELF_LINK_REFUSED = "Clever accounts are linked by your district's IT team, not here."
            + " Nothing was linked. Please ask your school's IT team.";
    static final String MISCONFIGURED = "Sign-in with Clever is switched off until your district's IT team"
            + " repairs its settings (run `keycloak-clever broker register`).";
    private static final Logger LOG = Logger.getLogger(OwnershipGuardMapper.class);

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String[] getCompatibleProviders() {
        return new String[] {ANY_PROVIDER};
    }

    @Override
    public String getDisplayCategory() {
        return "Clever";
    }

    @Override
    public String getDisplayType() {
        return "Clever ownership guard";
    }

    @Override
    public String getHelpText() {
        return "Keeps Clever links the district's: refuses self-service linking, logins that would write to"
                + " accounts, and first-login flows that link existing accounts; marks accounts made at first"
                + " login as owned. Managed by keycloak-clever (broker register).";
    }

    @Override
    public boolean supportsSyncMode(IdentityProviderSyncMode syncMode) {
        return true;
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        ProviderConfigProperty allow = new ProviderConfigProperty(ALLOW_SELF_LINKING, "Allow self-service linking",
                "The district's opt-out: users may link Clever to their own account. Such links are never owned.",
                ProviderConfigProperty.BOOLEAN_TYPE, "false");
        return List.of(allow);
    }

    @Override
    public void preprocessFederatedIdentity(KeycloakSession session, RealmModel realm, IdentityProviderMapperModel mapper,
            BrokeredIdentityContext context) {
        AuthenticationSessionModel auth = context.getAuthenticationSession();
        if (linking(auth) && !Boolean.parseBoolean(mapper.getConfig().get(ALLOW_SELF_LINKING))) {
            LOG.infof("clever-sync: refused self-service linking of Clever id %s in realm %s", context.getId(), realm.getName());
            throw new ErrorPageException(session, auth, Response.Status.FORBIDDEN, SELF_LINK_REFUSED);
        }
        if (context.getIdpConfig().getSyncMode() == IdentityProviderSyncMode.FORCE) {
            LOG.warnf("clever-sync: refused a login: the %s provider of realm %s is in sync mode FORCE",
                    context.getIdpConfig().getAlias(), realm.getName());
            throw new ErrorPageException(session, auth, Response.Status.FORBIDDEN, MISCONFIGURED);
        }
        String step = linkingStep(realm, context.getIdpConfig().getFirstBrokerLoginFlowId());
        if (step != null && firstLogin(session, realm, context)) {
            LOG.warnf("clever-sync: refused a first login: the first-broker-login flow of %s in realm %s has step %s",
                    context.getIdpConfig().getAlias(), realm.getName(), step);
            throw new ErrorPageException(session, auth, Response.Status.FORBIDDEN, MISCONFIGURED);
        }
    }

    @Override
    public void importNewUser(KeycloakSession session, RealmModel realm, UserModel user, IdentityProviderMapperModel mapper,
            BrokeredIdentityContext context) {
        String alias = context.getIdpConfig().getAlias();
        FederatedIdentityModel link = session.users().getFederatedIdentity(realm, user, alias);
        if (Ownership.ALIAS.equals(alias) && link != null && link.getUserId().equals(context.getId())
                && Ownership.ownerOf(link).isEmpty()) {
            FederatedIdentityModel owned = Ownership.ownedLink(link.getUserId());
            session.users().updateFederatedIdentity(realm, user, new FederatedIdentityModel(
                    owned.getIdentityProvider(), owned.getUserId(), owned.getUserName(), link.getToken()));
        }
    }

    private static boolean linking(AuthenticationSessionModel auth) {
        return auth != null && (auth.getAuthNote(LINKING_NOTE) != null
                || Boolean.parseBoolean(auth.getAuthNote(IdpLinkAction.KC_ACTION_LINKING_IDENTITY_PROVIDER)));
    }

    private static boolean firstLogin(KeycloakSession session, RealmModel realm, BrokeredIdentityContext context) {
        FederatedIdentityModel wanted = new FederatedIdentityModel(context.getIdpConfig().getAlias(), context.getId(), null);
        return session.users().getUserByFederatedIdentity(realm, wanted) == null;
    }

    /** The first step of the flow (subflows included) that links or edits, or null. */
    static String linkingStep(RealmModel realm, String flowId) {
        if (flowId == null) {
            return null;
        }
        Deque<String> flows = new ArrayDeque<>(List.of(flowId));
        while (!flows.isEmpty()) {
            for (AuthenticationExecutionModel step : realm.getAuthenticationExecutionsStream(flows.pop()).toList()) {
                if (step.getRequirement() == AuthenticationExecutionModel.Requirement.DISABLED) {
                    continue;
                }
                if (step.isAuthenticatorFlow()) {
                    flows.push(step.getFlowId());
                } else if (LINKING_STEPS.contains(step.getAuthenticator())) {
                    return step.getAuthenticator();
                }
            }
        }
        return null;
    }
}
