package org.keycloakclever.sync;

import java.util.List;
import java.util.Map;

import org.keycloak.utils.EmailValidationUtil;

/**
 * What a well-formed item says, checked where Keycloak's User Profile would have checked it and the
 * model API does not: lengths, control characters, email syntax, group names. A failure is that
 * item's error, naming the field ({@code firstName: longer than 255 characters}); the rest of the
 * batch goes on. Names Keycloak's default User Profile refuses but real SIS data has ({@code #},
 * {@code =}, {@code ;}, {@code \}) are accepted: the sync must never drop a person.
 */
final class Values {

    static final int MAX_NAME = 255;
    static final int MAX_VALUE = 2048;
    static final int MAX_PATH = 4096;

    private Values() {
    }

    /** Null, or a string of at most {@code max} characters without control characters. */
    static String text(String field, String value, int max) {
        if (value == null) {
            return null;
        }
        if (value.length() > max) {
            throw new Refusal(field + ": longer than " + max + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                throw new Refusal(field + ": contains a control character");
            }
        }
        return value;
    }

    static String name(String field, String value) {
        return text(field, value, MAX_NAME);
    }

    static String username(String value) {
        name("username", value);
        if (!value.equals(value.strip())) {
            throw new Refusal("username: starts or ends with a space");
        }
        return value;
    }

    /** Null for none; a syntactically valid address (Keycloak's own check). */
    static String email(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        name("email", value);
        if (!EmailValidationUtil.isValidEmail(value)) {
            throw new Refusal("email: not a valid address");
        }
        return value;
    }

    static String groupName(String value) {
        name("name", value);
        if (value.contains("/")) {
            throw new Refusal("name: contains '/'");
        }
        if (!value.equals(value.strip())) {
            throw new Refusal("name: starts or ends with a space");
        }
        return value;
    }

    /** The attributes with each value checked; an absent map is an empty one. */
    static Map<String, List<String>> attributes(Map<String, List<String>> attributes) {
        if (attributes == null) {
            return new java.util.LinkedHashMap<>();
        }
        attributes.forEach((key, values) -> values.forEach(v -> text("attributes." + key, v, MAX_VALUE)));
        return new java.util.LinkedHashMap<>(attributes);
    }

    static List<String> list(List<String> values) {
        return values == null ? List.of() : values;
    }
}
