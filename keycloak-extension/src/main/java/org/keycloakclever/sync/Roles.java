package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleMapperModel;
import org.keycloak.models.RoleModel;

/**
 * The realm roles the extension may grant, and granting them.
 *
 * <p>Only the fixed Clever roles ({@link #GRANTABLE}), never {@code clever-admin} (it opens the
 * admin page) nor any composite role (it could carry anything). The extension creates no roles:
 * {@code keycloak-clever setup} / {@code broker register} make them once, through Keycloak's admin
 * API, with whatever permission that takes ({@code manage-realm}); a caller of the extension needs
 * only {@code manage-users}, and must not be able to mint or hand out more than that. A person gets
 * only the roles of their own Clever roles ({@code clever_role}, {@code clever_roles}): a student
 * {@code clever-student}, never {@code clever-teacher}. A group under {@code /Clever} may carry any
 * of the fixed roles (the sync's role groups: Students, Teachers, ...).
 */
final class Roles {

    /** Clever role ({@code clever_role} value) → the realm role it gives. */
    static final Map<String, String> OF_CLEVER_ROLE = Map.of(
            "student", "clever-student",
            "teacher", "clever-teacher",
            "staff", "clever-staff",
            "district_admin", "clever-district-admin",
            "contact", "clever-contact");

    static final Set<String> GRANTABLE = Set.copyOf(OF_CLEVER_ROLE.values());

    private Roles() {
    }

    /** The names asked for, each one of {@link #GRANTABLE}, each once. */
    static List<String> names(Collection<String> asked, String field) {
        for (String name : asked) {
            if (!GRANTABLE.contains(name)) {
                throw new Refusal(field + ": " + name + " is not a role the sync grants (only "
                        + new TreeSet<>(GRANTABLE) + ")");
            }
        }
        return List.copyOf(new LinkedHashSet<>(asked));  // twice would be two rows in batch mode
    }

    /** The realm roles of a person whose Clever roles are {@code cleverRoles}: each asked one must be theirs. */
    static List<String> forPerson(List<String> asked, Collection<String> cleverRoles) {
        Set<String> theirs = new TreeSet<>();
        cleverRoles.forEach(role -> {
            String realmRole = OF_CLEVER_ROLE.get(role.toLowerCase(Locale.ROOT).replace(' ', '_'));
            if (realmRole != null) {
                theirs.add(realmRole);
            }
        });
        for (String name : asked) {
            if (!theirs.contains(name)) {
                throw new Refusal("realmRoles: " + name + " is not the role of this person's Clever role "
                        + (theirs.isEmpty() ? "(the person has no clever_role)" : theirs.toString()));
            }
        }
        return asked;
    }

    /** The roles by name; each must exist and not be composite. Checked before anything is written. */
    static List<RoleModel> resolve(RealmModel realm, List<String> names) {
        List<RoleModel> roles = new ArrayList<>();
        for (String name : names) {
            RoleModel role = realm.getRole(name);
            if (role == null) {
                throw new Refusal("realm role " + name + " does not exist; keycloak-clever setup makes it");
            }
            if (role.isComposite()) {
                throw new Refusal("realm role " + name + " is composite; the sync grants no composite role");
            }
            roles.add(role);
        }
        return roles;
    }

    /** Grants the roles the holder does not hold directly yet; returns those. */
    static List<RoleModel> grant(RoleMapperModel holder, List<RoleModel> roles) {
        List<RoleModel> granted = new ArrayList<>();
        for (RoleModel role : roles) {
            if (!holder.hasDirectRole(role)) {
                holder.grantRole(role);
                granted.add(role);
            }
        }
        return granted;
    }
}
