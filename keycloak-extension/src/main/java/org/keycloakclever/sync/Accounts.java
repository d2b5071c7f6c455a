package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.keycloak.models.GroupModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.representations.idm.FederatedIdentityRepresentation;
import org.keycloak.representations.idm.UserRepresentation;

/** Writes to one account through the model API, and the representations its admin events carry. */
final class Accounts {

    private Accounts() {
    }

    /** True when the attributes carry no {@code clever_id} but the op's own (the snapshot stays true). */
    static boolean ownIdOnly(Map<String, List<String>> attributes, String ref) {
        List<String> ids = attributes.get(BatchJob.CLEVER_ID);
        return ids == null || ids.equals(List.of(ref));
    }

    static Map<String, List<String>> nonEmpty(Map<String, List<String>> attributes) {
        Map<String, List<String>> result = new LinkedHashMap<>();
        attributes.forEach((name, values) -> {
            if (!values.isEmpty()) {
                result.put(name, values);
            }
        });
        return result;
    }

    /** The representation {@code POST /users} would carry for this new account. */
    static UserRepresentation created(String username, boolean enabled, BatchJob.Wanted wanted, String email,
                                              boolean linked) {
        UserRepresentation rep = new UserRepresentation();
        rep.setUsername(username);
        rep.setEnabled(enabled);
        rep.setFirstName(wanted.first());
        rep.setLastName(wanted.last());
        rep.setEmail(email);
        rep.setAttributes(nonEmpty(wanted.attributes()));
        if (!wanted.groups().isEmpty()) {
            rep.setGroups(wanted.groups().stream().map(KeycloakModelUtils::buildGroupPath).sorted().toList());
        }
        if (linked) {
            FederatedIdentityRepresentation link = new FederatedIdentityRepresentation();
            link.setIdentityProvider(BatchJob.ALIAS);
            link.setUserId(wanted.linkUserId());
            link.setUserName(wanted.linkUserName());
            rep.setFederatedIdentities(List.of(link));
        }
        return rep;
    }

    /** The representation {@code PUT /users/{id}} would carry: the account's fields and the attributes written. */
    static UserRepresentation updated(UserModel user, Map<String, List<String>> attributes, String email) {
        UserRepresentation rep = new UserRepresentation();
        rep.setId(user.getId());
        rep.setUsername(user.getUsername());
        rep.setEnabled(user.isEnabled());
        rep.setFirstName(user.getFirstName());
        rep.setLastName(user.getLastName());
        rep.setEmail(email != null ? email : user.getEmail());
        rep.setAttributes(attributes);
        return rep;
    }

    static boolean setNames(UserModel user, String first, String last, String email) {
        boolean changed = false;
        if (first != null && !first.equals(user.getFirstName())) {
            user.setFirstName(first);
            changed = true;
        }
        if (last != null && !last.equals(user.getLastName())) {
            user.setLastName(last);
            changed = true;
        }
        if (email != null) {
            user.setEmail(email);
            changed = true;
        }
        return changed;
    }

    /**
     * Whether an attribute holds the wanted values in any order: Keycloak keeps a multi-valued
     * attribute as a multiset (its {@code setAttribute} does nothing when only the order differs,
     * and the values are read back in the database's order), as the sidecar compares them
     * ({@code plugin/sync/plan.py} {@code same_values}).
     */
    static boolean sameValues(List<String> have, List<String> wanted) {
        return have.stream().sorted().toList().equals(wanted.stream().sorted().toList());
    }

    /** Sets the named attributes (an empty list removes one); others are left alone. */
    static boolean mergeAttributes(UserModel user, Map<String, List<String>> attributes) {
        boolean changed = false;
        for (Map.Entry<String, List<String>> entry : attributes.entrySet()) {
            List<String> have = user.getAttributeStream(entry.getKey()).collect(Collectors.toList());
            if (sameValues(have, entry.getValue())) {
                continue;
            }
            if (entry.getValue().isEmpty()) {
                user.removeAttribute(entry.getKey());
            } else {
                user.setAttribute(entry.getKey(), entry.getValue());
            }
            changed = true;
        }
        return changed;
    }

    /**
     * Joins the groups the user is not in yet; returns those. A fresh user is in the realm's default
     * groups only (addUser put them there, unflushed in batch mode, so a query would not see them).
     */
    static List<GroupModel> join(UserModel user, List<GroupModel> groups, boolean fresh, RealmModel realm) {
        List<GroupModel> joined = new ArrayList<>();
        if (groups.isEmpty()) {
            return joined;
        }
        Set<String> have = (fresh ? realm.getDefaultGroupsStream() : user.getGroupsStream())
                .map(GroupModel::getId).collect(Collectors.toSet());
        for (GroupModel group : groups) {
            if (have.add(group.getId())) {
                user.joinGroup(group);
                joined.add(group);
            }
        }
        return joined;
    }
}
