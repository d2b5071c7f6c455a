package org.keycloakclever.sync;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import org.keycloak.representations.userprofile.config.UPAttribute;
import org.keycloak.representations.userprofile.config.UPAttributePermissions;
import org.keycloak.representations.userprofile.config.UPConfig;

/**
 * The pure part of {@link StateResource}: page bounds, the group tree under the root, attribute
 * rows folded into maps, and which user attributes an admin reads through the admin REST API (the
 * User Profile's rule). No I/O: the unit tests drive it with plain rows.
 */
final class StateRows {

    /** Keycloak's parent id of a top-level group ({@code GroupEntity.TOP_PARENT_ID}). */
    static final String TOP = " ";
    /** The four attributes a user representation carries as fields, never in {@code attributes}. */
    static final Set<String> ROOT_ATTRIBUTES = Set.of("username", "email", "firstName", "lastName");

    private StateRows() {
    }

    /** One page: rows {@code from} (at least 0), at most {@code size} (1 to {@code limit}, {@code fallback} when absent). */
    record Page(int from, int size) {

        static Page of(Integer first, Integer max, int fallback, int limit) {
            int from = first == null ? 0 : Math.max(0, first);
            int size = max == null ? fallback : Math.max(1, Math.min(limit, max));
            return new Page(from, size);
        }

        /** The page's rows out of {@code rows} (all rows, or the query's {@code size + 1} from {@code from}: see {@code offset}). */
        <T> List<T> slice(List<T> rows, boolean offset) {
            int start = offset ? 0 : Math.min(from, rows.size());
            return rows.subList(start, Math.min(rows.size(), start + size));
        }

        /** The answer: {@code rows} under {@code key}, and {@code next}, the next page's query parameters, unless null. */
        Map<String, Object> answerAfter(String key, List<?> rows, Map<String, Object> next) {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put(key, rows);
            if (next != null) {
                answer.put("next", next);
            }
            return answer;
        }

        /** The answer: {@code rows} under {@code key}, and {@code next} when {@code more}. */
        Map<String, Object> answer(String key, List<?> rows, boolean more) {
            Map<String, Object> answer = new LinkedHashMap<>();
            answer.put(key, rows);
            if (more) {
                answer.put("next", from + size);
            }
            return answer;
        }
    }

    /** Where a page of memberships starts: after this group's membership of this user (keyset paging). */
    record MemberKey(String groupId, String userId) {

        /** The key of the query parameters; null unless both are given (the first page). */
        static MemberKey of(String groupId, String userId) {
            if (groupId == null || groupId.isEmpty() || userId == null || userId.isEmpty()) {
                return null;
            }
            return new MemberKey(groupId, userId);
        }
    }

    /**
     * What {@code POST state/scope} is asked: account ids and group ids, each list without repeats
     * in the order given. {@link #of} takes exactly {@code {"users": [...], "groups": [...]}} (either
     * may be left out) of ids, at most {@link #MAX_IDS} together; anything else is a
     * {@link Bodies.Malformed} naming the field.
     */
    record Scope(List<String> users, List<String> groups) {

        static final int MAX_IDS = 20000;
        /** Ids bound to one query ({@code in (...)}): well under PostgreSQL's 32,767 parameters. */
        static final int CHUNK = 1000;

        static Scope of(JsonNode body) {
            if (body == null || !body.isObject()) {
                throw new Bodies.Malformed("the body: must be an object {\"users\": [ids], \"groups\": [ids]}");
            }
            body.fieldNames().forEachRemaining(name -> {
                if (!"users".equals(name) && !"groups".equals(name)) {
                    throw new Bodies.Malformed(name + ": unknown field");
                }
            });
            Scope scope = new Scope(ids(body, "users"), ids(body, "groups"));
            if (scope.users().size() + scope.groups().size() > MAX_IDS) {
                throw new Bodies.Malformed("users, groups: at most " + MAX_IDS + " ids together");
            }
            return scope;
        }

        /** {@code ids} in lists of at most {@link #CHUNK}. */
        static List<List<String>> chunks(List<String> ids) {
            List<List<String>> chunks = new ArrayList<>();
            for (int from = 0; from < ids.size(); from += CHUNK) {
                chunks.add(ids.subList(from, Math.min(ids.size(), from + CHUNK)));
            }
            return chunks;
        }

        private static List<String> ids(JsonNode body, String field) {
            JsonNode list = body.get(field);
            if (list == null) {
                return List.of();
            }
            if (!list.isArray()) {
                throw new Bodies.Malformed(field + ": must be a list of ids");
            }
            Set<String> ids = new LinkedHashSet<>();
            for (int i = 0; i < list.size(); i++) {
                JsonNode id = list.get(i);
                if (!id.isTextual() || id.asText().isEmpty() || id.asText().length() > Bodies.MAX_ID) {
                    throw new Bodies.Malformed(field + "[" + i + "]: must be an id (a string of 1 to "
                            + Bodies.MAX_ID + " characters)");
                }
                ids.add(id.asText());
            }
            return new ArrayList<>(ids);
        }
    }

    /** A group as its row reads: id, parent id ({@link #TOP} at the top), name. */
    record Group(String id, String parentId, String name) {
    }

    /**
     * The groups of the tree under the top-level group {@code rootName}, root first, then a level at
     * a time (each level in the order given); empty when there is no such group.
     */
    static List<Group> tree(List<Group> groups, String rootName) {
        Map<String, List<Group>> children = new LinkedHashMap<>();
        Group root = null;
        for (Group group : groups) {
            String parent = group.parentId() == null ? TOP : group.parentId();
            if (TOP.equals(parent) && group.name().equals(rootName) && root == null) {
                root = group;
            }
            children.computeIfAbsent(parent, k -> new ArrayList<>()).add(group);
        }
        List<Group> tree = new ArrayList<>();
        if (root == null) {
            return tree;
        }
        Deque<Group> frontier = new ArrayDeque<>(List.of(root));
        Set<String> seen = new HashSet<>();
        while (!frontier.isEmpty()) {
            Group group = frontier.removeFirst();
            if (!seen.add(group.id())) {
                continue;
            }
            tree.add(group);
            frontier.addAll(children.getOrDefault(group.id(), List.of()));
        }
        return tree;
    }

    /** Rows {@code [ownerId, name, value]} folded into owner id -> name -> values, in row order. */
    static Map<String, Map<String, List<String>>> attributes(List<Object[]> rows, Set<String> owners) {
        Map<String, Map<String, List<String>>> by = new LinkedHashMap<>();
        for (Object[] row : rows) {
            String owner = (String) row[0];
            if (owners != null && !owners.contains(owner)) {
                continue;
            }
            // Users' rows carry a fourth column, the long value (a value over 255 characters).
            Object stored = row[2] != null || row.length < 4 ? row[2] : row[3];
            String value = stored == null ? "" : (String) stored;
            by.computeIfAbsent(owner, k -> new LinkedHashMap<>())
                    .computeIfAbsent((String) row[1], k -> new ArrayList<>()).add(value);
        }
        return by;
    }

    /**
     * Which stored attributes of a local account the admin REST API shows (its representation is
     * the User Profile's, {@code UserProfileContext.USER_API}): declared ones an admin may view or
     * edit, and every other one when the realm's unmanaged-attribute policy lets admins see them
     * (ENABLED, ADMIN_VIEW, ADMIN_EDIT). Never the four that are fields of the representation.
     */
    record Readable(Set<String> declared, Set<String> hidden, boolean unmanaged) {

        static Readable of(UPConfig config) {
            Set<String> declared = new HashSet<>();
            Set<String> hidden = new HashSet<>();
            if (config != null && config.getAttributes() != null) {
                for (UPAttribute attribute : config.getAttributes()) {
                    (adminReads(attribute.getPermissions()) ? declared : hidden).add(attribute.getName());
                }
            }
            return new Readable(declared, hidden, config != null && config.getUnmanagedAttributePolicy() != null);
        }

        boolean test(String name) {
            if (ROOT_ATTRIBUTES.contains(name) || hidden.contains(name)) {
                return false;
            }
            return declared.contains(name) || unmanaged;
        }

        /** The readable part of {@code attributes}, in their order. */
        Map<String, List<String>> filter(Map<String, List<String>> attributes) {
            Map<String, List<String>> readable = new LinkedHashMap<>();
            if (attributes != null) {
                attributes.forEach((name, values) -> {
                    if (test(name)) {
                        readable.put(name, values);
                    }
                });
            }
            return readable;
        }

        private static boolean adminReads(UPAttributePermissions permissions) {
            if (permissions == null) {
                return true;
            }
            return contains(permissions.getView(), "admin") || contains(permissions.getEdit(), "admin");
        }

        private static boolean contains(Set<String> roles, String role) {
            return roles != null && roles.contains(role);
        }
    }
}
