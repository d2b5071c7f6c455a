package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.representations.idm.FederatedIdentityRepresentation;
import org.keycloak.representations.idm.GroupRepresentation;
import org.keycloak.representations.idm.RoleRepresentation;
import org.keycloak.representations.idm.UserRepresentation;
import org.keycloak.services.resources.admin.AdminEventBuilder;

/**
 * The admin events of a batch's writes, as Keycloak's own admin REST resources record them for the
 * same change: the same resource types, operation types, resource paths, representations and
 * details (checked against {@code UsersResource.createUser}, {@code UserResource.updateUser},
 * {@code .addFederatedIdentity}, {@code .joinGroup}, {@code .removeMembership},
 * {@code GroupsResource.addTopLevelGroup}, {@code GroupResource.addChild}, {@code .updateGroup} and
 * {@code RoleMapperResource.addRealmRoleMappings} of 26.7.3). So the realm's admin events (when it
 * stores them, with representations when it stores those) and every event listener, Workflows'
 * included, see a batch as they would see the sidecar's REST calls.
 *
 * <p>The events go through the request's {@link AdminEventBuilder}, cloned into the batch's own
 * session: stored in the batch's transaction, so a batch that rolls back leaves none behind.
 */
final class Audit {

    private final AdminEventBuilder events;
    private final Map<String, GroupRepresentation> membershipReps = new HashMap<>();

    Audit(AdminEventBuilder request, KeycloakSession session) {
        this.events = request.clone(session);
    }

    /** {@code POST /users}: CREATE USER {@code users/{id}}, the representation the REST call would send. */
    void userCreated(String userId, UserRepresentation rep) {
        send(ResourceType.USER, OperationType.CREATE, rep, "users", userId);
    }

    /** {@code PUT /users/{id}}: UPDATE USER {@code users/{id}}. */
    void userUpdated(String userId, UserRepresentation rep) {
        send(ResourceType.USER, OperationType.UPDATE, rep, "users", userId);
    }

    /** {@code POST /users/{id}/federated-identity/{alias}}: CREATE USER on that path. */
    void linked(String userId, String alias, String cleverId, String userName) {
        FederatedIdentityRepresentation rep = new FederatedIdentityRepresentation();
        rep.setIdentityProvider(alias);
        rep.setUserId(cleverId);
        rep.setUserName(userName);
        send(ResourceType.USER, OperationType.CREATE, rep, "users", userId, "federated-identity", alias);
    }

    /** {@code PUT} or {@code DELETE /users/{id}/groups/{groupId}}: GROUP_MEMBERSHIP, with username and email. */
    void membership(UserModel user, GroupModel group, boolean joined) {
        GroupRepresentation rep = membershipReps.computeIfAbsent(group.getId(),
                id -> ModelToRepresentation.toRepresentation(group, true));
        start(ResourceType.GROUP_MEMBERSHIP, joined ? OperationType.CREATE : OperationType.DELETE, rep,
                "users", user.getId(), "groups", group.getId());
        events.detail(UserModel.USERNAME, user.getUsername()).detail(UserModel.EMAIL, user.getEmail()).success();
    }

    /** {@code POST /{users|groups}/{id}/role-mappings/realm}: CREATE REALM_ROLE_MAPPING, the roles granted. */
    void rolesGranted(String holder, String holderId, List<RoleModel> roles) {
        if (roles.isEmpty()) {
            return;
        }
        List<RoleRepresentation> reps = new ArrayList<>();
        roles.forEach(role -> reps.add(ModelToRepresentation.toRepresentation(role)));
        send(ResourceType.REALM_ROLE_MAPPING, OperationType.CREATE, reps, holder, holderId, "role-mappings", "realm");
    }

    /**
     * A new group: {@code POST /groups} is CREATE GROUP {@code groups/{id}}; {@code POST
     * /groups/{parent}/children} is CREATE GROUP {@code groups/{parent}/children} (Keycloak's path
     * for a child names the parent only).
     */
    void groupCreated(GroupModel group, Map<String, List<String>> attributes) {
        GroupRepresentation rep = new GroupRepresentation();
        rep.setId(group.getId());
        rep.setName(group.getName());
        rep.setAttributes(attributes);
        if (group.getParentId() == null) {
            send(ResourceType.GROUP, OperationType.CREATE, rep, "groups", group.getId());
        } else {
            send(ResourceType.GROUP, OperationType.CREATE, rep, "groups", group.getParentId(), "children");
        }
    }

    /** {@code PUT /groups/{id}}: UPDATE GROUP {@code groups/{id}}. */
    void groupUpdated(GroupModel group, Map<String, List<String>> attributes) {
        GroupRepresentation rep = new GroupRepresentation();
        rep.setId(group.getId());
        rep.setName(group.getName());
        rep.setAttributes(attributes);
        send(ResourceType.GROUP, OperationType.UPDATE, rep, "groups", group.getId());
    }

    /** A group moved under another parent ({@code POST /groups/{parent}/children} with its id): UPDATE GROUP. */
    void groupMoved(GroupModel group) {
        GroupRepresentation rep = new GroupRepresentation();
        rep.setId(group.getId());
        rep.setName(group.getName());
        send(ResourceType.GROUP, OperationType.UPDATE, rep, "groups", group.getParentId(), "children");
    }

    private void send(ResourceType type, OperationType operation, Object rep, String... path) {
        start(type, operation, rep, path);
        events.success();
    }

    /** The builder is reused: what the previous event set (details, representation) is cleared. */
    private void start(ResourceType type, OperationType operation, Object rep, String... path) {
        events.getEvent().setDetails(null);
        events.getEvent().setRepresentation(null);
        events.resource(type).operation(operation).resourcePath(path).representation(rep);
    }
}
