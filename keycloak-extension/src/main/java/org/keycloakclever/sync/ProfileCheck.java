package org.keycloakclever.sync;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.keycloak.models.KeycloakSession;
import org.keycloak.models.UserModel;
import org.keycloak.userprofile.UserProfileContext;
import org.keycloak.userprofile.UserProfileProvider;
import org.keycloak.userprofile.ValidationException;

/**
 * A new account checked against the realm's User Profile before it is written, as the admin REST
 * API's {@code POST users} checks it: the model API (and {@link Fresh}'s rows) would take a username,
 * a name or an address the realm's rules refuse (a district's own username length, say). A refused
 * account is this item's error; the sidecar then writes it through REST, which answers in the same
 * words, so both paths end alike.
 */
final class ProfileCheck {

    private ProfileCheck() {}

    static void check(KeycloakSession session, String username, String first, String last, String email,
            Map<String, List<String>> attributes) {
        Map<String, Object> values = new HashMap<>(attributes);
        values.put(UserModel.USERNAME, username);
        put(values, UserModel.FIRST_NAME, first);
        put(values, UserModel.LAST_NAME, last);
        put(values, UserModel.EMAIL, email);
        try {
            session.getProvider(UserProfileProvider.class).create(UserProfileContext.USER_API, values).validate();
        } catch (ValidationException exc) {
            ValidationException.Error error = exc.getErrors().get(0);
            throw new Refusal("the realm's user profile refuses " + error.getAttribute() + ": " + error.getMessage()
                    + " " + Arrays.toString(error.getMessageParameters()));
        }
    }

    private static void put(Map<String, Object> values, String name, String value) {
        if (value != null && !value.isEmpty()) {
            values.put(name, value);
        }
    }
}
