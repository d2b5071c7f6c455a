package org.keycloakclever.sync;

import java.util.LinkedHashSet;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleMapperModel;
import org.keycloak.models.RoleModel;

/** The {@code clever-*} realm roles an operation asks for, and granting them to a user or group. */
final class Roles {

    private Roles() {
    }

    /** The op's {@code realmRoles}, each a valid {@code clever-*} name, each once. */
    static List<String> of(JsonNode op) {
        List<String> roles = Checks.strings(op.get("realmRoles"), "realmRoles", Checks.MAX_NAME);
        roles.forEach(Checks::roleName);
        return List.copyOf(new LinkedHashSet<>(roles));  // twice would be two rows in batch mode
    }

    /** Grants {@code clever-*} realm roles, creating a missing one. */
    static boolean grant(RealmModel realm, RoleMapperModel holder, List<String> roles) {
        boolean changed = false;
        for (String name : roles) {
            RoleModel role = realm.getRole(name);
            if (role == null) {
                role = realm.addRole(name);
                role.setDescription("Given by Clever");
            }
            if (!holder.hasDirectRole(role)) {
                holder.grantRole(role);
                changed = true;
            }
        }
        return changed;
    }
}
