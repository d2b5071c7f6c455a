package org.keycloakclever.sync;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.persistence.EntityManager;
import org.keycloak.common.util.Time;
import org.keycloak.models.GroupModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RequiredActionProviderModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.jpa.entities.FederatedIdentityEntity;
import org.keycloak.models.jpa.entities.UserAttributeEntity;
import org.keycloak.models.jpa.entities.UserEntity;
import org.keycloak.models.jpa.entities.UserGroupMembershipEntity;
import org.keycloak.models.jpa.entities.UserRequiredActionEntity;
import org.keycloak.models.jpa.entities.UserRoleMappingEntity;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.idm.MembershipType;

/**
 * The batch's new accounts as database rows, written together when every item has been checked.
 *
 * <p>Keycloak's model API makes several database round trips per new account that a checked,
 * brand-new account does not need: a flush in {@code addUser}, the {@code hasDirectRole} query
 * before the default role, one membership query per {@code joinGroup}, a flush per link, and the
 * user cache's invalidation reads. With the checks already done from {@link Known}'s snapshot
 * (the batch's links, {@code clever_id}s, usernames and addresses, read in a few queries), the
 * rows {@code JpaUserProvider.addUser} and the adapter's setters would write are persisted here
 * directly, grouped by table so Hibernate sends them in JDBC batches, and flushed once.
 *
 * <p>The rows are the ones Keycloak's JPA model writes for the same calls (checked against the
 * 26.5.6 and 26.7.3 entities and Liquibase changelogs): {@code USER_ENTITY} (username and address
 * lower-cased, the address constraint as {@code UserEntity.setEmail} makes it; from 26.6 on also
 * {@code LAST_MODIFIED_TIMESTAMP}, which {@code addUser} sets to the creation time),
 * {@code USER_ATTRIBUTE} (long values hashed by the entity itself), the realm's default role and
 * default groups (as {@code addUser}), the default required actions, the requested roles and groups
 * ({@code MembershipType.UNMANAGED}, as {@code joinGroup}), and the {@code clever} link.
 * Not fired: {@code RoleGrantedEvent}, {@code GroupMemberJoinEvent} and
 * {@code FederatedIdentityCreatedEvent}, whose only listeners in 26.5.6 and 26.7.3 are Workflows'
 * event providers (on by default from 26.6): so a realm with a workflow keeps the model path, which
 * fires them. A new account is in no cache, so there is nothing to invalidate.
 *
 * <p>Only for realms without user storage providers and without workflows: with LDAP federation,
 * {@code addUser} goes through {@code UserStorageManager} (sync registrations, imported usernames),
 * and the model path stays. A constraint a row breaks fails the flush, and with it the transaction: the resource then
 * applies the batch one item per transaction, so every item still gets its own answer.
 */
final class Fresh {

    private final String realmId;
    private final boolean duplicateEmails;
    private final List<String> defaultRoles = new ArrayList<>();
    private final List<String> defaultGroups = new ArrayList<>();
    private final List<String> defaultActions;

    private final List<UserEntity> users = new ArrayList<>();
    private final List<UserAttributeEntity> attributes = new ArrayList<>();
    private final List<UserRoleMappingEntity> roles = new ArrayList<>();
    private final List<UserGroupMembershipEntity> memberships = new ArrayList<>();
    private final List<UserRequiredActionEntity> actions = new ArrayList<>();
    private final List<FederatedIdentityEntity> links = new ArrayList<>();

    Fresh(RealmModel realm) {
        realmId = realm.getId();
        duplicateEmails = realm.isDuplicateEmailsAllowed();
        if (realm.getDefaultRole() != null) {
            defaultRoles.add(realm.getDefaultRole().getId());
        }
        realm.getDefaultGroupsStream().map(GroupModel::getId).forEach(defaultGroups::add);
        defaultActions = realm.getRequiredActionProvidersStream()
                .filter(RequiredActionProviderModel::isEnabled)
                .filter(RequiredActionProviderModel::isDefaultAction)
                .map(RequiredActionProviderModel::getAlias)
                .toList();
    }

    /** {@code org.keycloak.storage.UserStorageProvider}, the provider type of LDAP and Kerberos federation. */
    private static final String USER_STORAGE = "org.keycloak.storage.UserStorageProvider";

    /** {@code org.keycloak.models.workflow.WorkflowProvider}: a realm's workflows are components of this type (26.6+). */
    private static final String WORKFLOW = "org.keycloak.models.workflow.WorkflowProvider";

    /**
     * {@code UserEntity.setLastModifiedTimestamp}, from 26.6 on ({@code USER_ENTITY.LAST_MODIFIED_TIMESTAMP},
     * changeset 26.6.0-add-last-modified-timestamp-user); null on a Keycloak without it.
     */
    static final MethodHandle SET_LAST_MODIFIED = lastModifiedSetter();

    private static MethodHandle lastModifiedSetter() {
        try {
            return MethodHandles.publicLookup().findVirtual(UserEntity.class, "setLastModifiedTimestamp",
                    MethodType.methodType(void.class, Long.class));
        } catch (NoSuchMethodException | IllegalAccessException absent) {
            return null;
        }
    }

    /**
     * Null when new accounts of this realm may be written as rows, else why not: it has a user
     * storage provider, or a workflow (whose triggers listen for the events the rows do not fire).
     */
    static String notPossible(RealmModel realm) {
        if (realm.getComponentsStream(realm.getId(), USER_STORAGE).findAny().isPresent()) {
            return "the realm has user federation (LDAP or Kerberos): new accounts go through its storage provider";
        }
        if (realm.getComponentsStream(realm.getId(), WORKFLOW).findAny().isPresent()) {
            return "the realm has a workflow, whose triggers need the model API's events";
        }
        return null;
    }

    /** A new account; returns its id. {@code email}: checked free (or null); {@code linkUserId}: null for no link. */
    String add(String username, String first, String last, String email, boolean enabled,
               Map<String, List<String>> wantedAttributes, List<RoleModel> wantedRoles, List<GroupModel> wantedGroups,
               String linkUserId, String linkUserName) {
        UserEntity user = new UserEntity();
        String id = KeycloakModelUtils.generateId();
        user.setId(id);
        long now = Time.currentTimeMillis();
        user.setCreatedTimestamp(now);
        lastModified(user, now);
        user.setUsername(username.toLowerCase(Locale.ROOT));
        user.setRealmId(realmId);
        user.setEnabled(enabled);
        user.setFirstName(first);
        user.setLastName(last);
        String lower = email == null || email.isBlank() ? null : email.toLowerCase(Locale.ROOT);
        user.setEmail(lower, duplicateEmails);
        users.add(user);
        for (Map.Entry<String, List<String>> entry : wantedAttributes.entrySet()) {
            for (String value : entry.getValue()) {
                UserAttributeEntity attribute = new UserAttributeEntity();
                attribute.setId(KeycloakModelUtils.generateId());
                attribute.setName(entry.getKey());
                attribute.setValue(value);
                attribute.setUser(user);
                attributes.add(attribute);
            }
        }
        Map<String, Boolean> roleIds = new LinkedHashMap<>();
        defaultRoles.forEach(r -> roleIds.put(r, true));
        wantedRoles.forEach(r -> roleIds.put(r.getId(), true));
        for (String roleId : roleIds.keySet()) {
            UserRoleMappingEntity mapping = new UserRoleMappingEntity();
            mapping.setUser(user);
            mapping.setRoleId(roleId);
            roles.add(mapping);
        }
        Map<String, Boolean> groupIds = new LinkedHashMap<>();
        defaultGroups.forEach(g -> groupIds.put(g, true));
        wantedGroups.forEach(g -> groupIds.put(g.getId(), true));
        for (String groupId : groupIds.keySet()) {
            UserGroupMembershipEntity membership = new UserGroupMembershipEntity();
            membership.setUser(user);
            membership.setGroupId(groupId);
            membership.setMembershipType(MembershipType.UNMANAGED);
            memberships.add(membership);
        }
        for (String alias : defaultActions) {
            UserRequiredActionEntity action = new UserRequiredActionEntity();
            action.setUser(user);
            action.setAction(alias);
            actions.add(action);
        }
        if (linkUserId != null) {
            FederatedIdentityEntity link = new FederatedIdentityEntity();
            link.setUser(user);
            link.setRealmId(realmId);
            link.setIdentityProvider(BatchJob.ALIAS);
            link.setUserId(linkUserId);
            link.setUserName(linkUserName);
            links.add(link);
        }
        return id;
    }

    private static void lastModified(UserEntity user, long now) {
        if (SET_LAST_MODIFIED == null) {
            return;
        }
        try {
            SET_LAST_MODIFIED.invokeExact(user, (Long) now);
        } catch (Throwable exc) {
            throw new IllegalStateException("UserEntity.setLastModifiedTimestamp failed", exc);
        }
    }

    int size() {
        return users.size();
    }

    boolean isEmpty() {
        return users.isEmpty();
    }

    /** Persists the rows table by table (JDBC batches) and flushes once. */
    void write(EntityManager em) {
        users.forEach(em::persist);
        attributes.forEach(em::persist);
        roles.forEach(em::persist);
        memberships.forEach(em::persist);
        actions.forEach(em::persist);
        links.forEach(em::persist);
        em.flush();
        em.clear();
    }
}
