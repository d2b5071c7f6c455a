package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import org.keycloak.utils.EmailValidationUtil;

/**
 * What Keycloak's User Profile would have refused and the model API does not check: lengths,
 * control characters, email syntax, the names of attributes the sync may write.
 */
final class Checks {

    static final int MAX_NAME = 255;
    static final int MAX_VALUE = 2048;
    static final int MAX_VALUES = 100;

    private Checks() {
    }

    /** A required string field, checked. */
    static String required(JsonNode op, String field, int max) {
        String value = optional(op, field, max);
        if (value == null || value.isEmpty()) {
            throw new Refusal(field + " is required");
        }
        return value;
    }

    /** An optional string field (null when absent or JSON null), checked. */
    static String optional(JsonNode op, String field, int max) {
        JsonNode node = op.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isTextual()) {
            throw new Refusal(field + " must be a string");
        }
        return text(field, node.asText(), max);
    }

    /** A string of at most {@code max} characters without control characters. */
    static String text(String what, String value, int max) {
        if (value.length() > max) {
            throw new Refusal(what + " is longer than " + max + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                throw new Refusal(what + " contains a control character");
            }
        }
        return value;
    }

    static String username(String value) {
        if (!value.equals(value.strip())) {
            throw new Refusal("username starts or ends with a space");
        }
        return value;
    }

    static String email(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (!EmailValidationUtil.isValidEmail(value)) {
            throw new Refusal("email is not a valid address");
        }
        return value;
    }

    static String groupName(String value) {
        if (value.contains("/")) {
            throw new Refusal("group name contains '/'");
        }
        if (!value.equals(value.strip())) {
            throw new Refusal("group name starts or ends with a space");
        }
        return value;
    }

    /**
     * {@code {"clever_x": ["v", ...], ...}}: only {@code clever_*} names (the sync never writes
     * anything else); an empty list means "remove".
     */
    static Map<String, List<String>> attributes(JsonNode op, String field) {
        JsonNode node = op.get(field);
        Map<String, List<String>> result = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            return result;
        }
        if (!node.isObject()) {
            throw new Refusal(field + " must be an object of lists");
        }
        Iterator<Map.Entry<String, JsonNode>> entries = node.fields();
        while (entries.hasNext()) {
            Map.Entry<String, JsonNode> entry = entries.next();
            String name = entry.getKey();
            if (!name.matches("clever_[a-z0-9_]{1,120}")) {
                throw new Refusal("attribute " + name + " is not a clever_* attribute");
            }
            result.put(name, strings(entry.getValue(), "attribute " + name, MAX_VALUE));
        }
        return result;
    }

    /** A list of strings (a lone string counts as a list of one). */
    static List<String> strings(JsonNode node, String what, int max) {
        List<String> values = new ArrayList<>();
        if (node == null || node.isNull()) {
            return values;
        }
        if (node.isTextual()) {
            values.add(text(what, node.asText(), max));
            return values;
        }
        if (!node.isArray()) {
            throw new Refusal(what + " must be a list of strings");
        }
        if (node.size() > MAX_VALUES) {
            throw new Refusal(what + " has more than " + MAX_VALUES + " values");
        }
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                throw new Refusal(what + " must be a list of strings");
            }
            values.add(text(what, item.asText(), max));
        }
        return values;
    }

    static Boolean bool(JsonNode op, String field) {
        JsonNode node = op.get(field);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isBoolean()) {
            throw new Refusal(field + " must be true or false");
        }
        return node.asBoolean();
    }

    /** A realm role the sync may grant: {@code clever-*} only (no way to hand out admin roles). */
    static String roleName(String value) {
        if (!value.matches("clever-[a-z0-9-]{1,100}")) {
            throw new Refusal("realm role " + value + " is not a clever-* role");
        }
        return value;
    }
}
