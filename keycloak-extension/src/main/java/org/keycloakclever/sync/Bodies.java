package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;

/**
 * Binds a batch's body to {@link Ops} and checks its shape, field by field. A body that is not what
 * the wire format says (a field of the wrong type, a missing required field, an unknown field or
 * operation, an attribute the sync does not write, a role it does not grant) is a {@link Malformed}:
 * the whole request is answered 400 with the field's path and what is wrong, e.g.
 * {@code operations[3].attributes.clever_grade: must be a list of strings}, and nothing is written.
 *
 * <p>What a well-formed item says is checked later, item by item ({@link Values}): a name with a
 * control character or an address Keycloak would not take is that item's error, and the rest of the
 * batch goes on (real rosters have such records; the sidecar writes those people another way).
 */
final class Bodies {

    static final int MAX_BATCH = 1000;
    static final int MAX_ID = 255;
    static final int MAX_VALUES = 100;

    /** A request that does not have the wire format's shape; the message names the field. */
    static final class Malformed extends RuntimeException {
        Malformed(String message) {
            super(message, null, false, false);
        }
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .build();

    static {
        // "7" is not a number and 7 is not a string: each field takes exactly its JSON type.
        MAPPER.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        MAPPER.coercionConfigFor(LogicalType.Collection)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
        MAPPER.coercionConfigFor(LogicalType.Map)
                .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }

    private Bodies() {
    }

    /** The body's operations, typed and checked; throws {@link Malformed} naming the first bad field. */
    static List<Ops.Op> operations(JsonNode body) {
        JsonNode operations = body == null || !body.isObject() ? null : body.get("operations");
        if (operations == null || !operations.isArray()) {
            throw new Malformed("operations: is required, a list of operations");
        }
        if (operations.size() > MAX_BATCH) {
            throw new Malformed("operations: at most " + MAX_BATCH + " operations per batch");
        }
        body.fieldNames().forEachRemaining(name -> {
            if (!"operations".equals(name)) {
                throw new Malformed(name + ": unknown field");
            }
        });
        List<Ops.Op> ops = new ArrayList<>();
        for (int i = 0; i < operations.size(); i++) {
            String at = "operations[" + i + "]";
            Ops.Op op = bind(operations.get(i), at);
            Shapes.check(op, at);
            ops.add(op);
        }
        return ops;
    }

    private static Ops.Op bind(JsonNode node, String at) {
        if (!node.isObject()) {
            throw new Malformed(at + ": must be an object");
        }
        if (!node.path("op").isTextual()) {
            throw new Malformed(at + ".op: is required, one of " + CleverSyncResource.OPERATIONS);
        }
        try {
            return MAPPER.treeToValue(node, Ops.Op.class);
        } catch (InvalidTypeIdException exc) {
            throw new Malformed(at + ".op: unknown operation " + node.get("op").asText()
                    + " (one of " + CleverSyncResource.OPERATIONS + ")");
        } catch (UnrecognizedPropertyException exc) {
            throw new Malformed(path(at, exc) + ": unknown field of " + node.get("op").asText());
        } catch (JsonMappingException exc) {
            throw new Malformed(path(at, exc) + ": " + expected(exc));
        } catch (JsonProcessingException exc) {
            throw new Malformed(at + ": " + exc.getOriginalMessage());
        }
    }

    /** {@code operations[3].attributes.clever_grade}: the field a mapping error is in (a list's index left out). */
    private static String path(String at, JsonMappingException exc) {
        StringBuilder path = new StringBuilder(at);
        List<JsonMappingException.Reference> refs = exc.getPath();
        for (int n = 0; n < refs.size(); n++) {
            JsonMappingException.Reference ref = refs.get(n);
            if (ref.getFieldName() != null) {
                path.append('.').append(ref.getFieldName());
            } else if (n < refs.size() - 1) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** What the field must be, from the type Jackson was reading it as. */
    private static String expected(JsonMappingException exc) {
        List<JsonMappingException.Reference> refs = exc.getPath();
        String field = refs.isEmpty() ? "" : String.valueOf(refs.get(refs.size() - 1).getFieldName());
        boolean inList = !refs.isEmpty() && refs.get(refs.size() - 1).getFieldName() == null;
        if (inList || field.equals("groups") || field.equals("realmRoles") || isInAttributes(refs)) {
            return "must be a list of strings";
        }
        switch (field) {
            case "attributes":
                return "must be an object of lists of strings";
            case "link":
                return "must be true, false or {\"alias\", \"userId\", \"userName\"}";
            case "fields":
                return "must be an object";
            case "enabled":
            case "adopt":
                return "must be true or false";
            default:
                return "must be a string";
        }
    }

    private static boolean isInAttributes(List<JsonMappingException.Reference> refs) {
        return refs.size() >= 2 && "attributes".equals(refs.get(refs.size() - 2).getFieldName());
    }

    /** The shape rules binding cannot say: required fields, names the sync writes, list sizes. */
    static final class Shapes {

        private Shapes() {
        }

        static void check(Ops.Op op, String at) {
            if (op instanceof Ops.CreateUser u) {
                required(u.ref(), at + ".ref");
                required(u.username(), at + ".username");
                attributes(u.attributes(), at + ".attributes");
                roles(u.realmRoles(), at + ".realmRoles");
                list(u.groups(), at + ".groups");
                link(u.link(), u.ref(), at + ".link");
            } else if (op instanceof Ops.UpdateUser u) {
                required(u.id(), at + ".id");
                optional(u.ref(), at + ".ref");
                attributes(u.attributes(), at + ".attributes");
                roles(u.realmRoles(), at + ".realmRoles");
                list(u.groups(), at + ".groups");
                link(u.link(), u.ref(), at + ".link");
            } else if (op instanceof Ops.DisableUser d) {
                required(d.id(), at + ".id");
                optional(d.ref(), at + ".ref");
                required(d.removedAt(), at + ".removedAt");
            } else if (op instanceof Ops.Member m) {
                if (m.userId() == null && m.userRef() == null) {
                    throw new Malformed(at + ".userId: userId or userRef is required");
                }
                optional(m.userId(), at + ".userId");
                optional(m.userRef(), at + ".userRef");
                if (m.groupId() == null && m.groupPath() == null && m.groupRef() == null) {
                    throw new Malformed(at + ".groupId: groupId, groupPath or groupRef is required");
                }
            } else if (op instanceof Ops.CreateGroup g) {
                required(g.ref(), at + ".ref");
                required(g.name(), at + ".name");
                attributes(g.attributes(), at + ".attributes");
                roles(g.realmRoles(), at + ".realmRoles");
            } else if (op instanceof Ops.UpdateGroup g) {
                required(g.id(), at + ".id");
                optional(g.ref(), at + ".ref");
                if (g.name() != null) {
                    required(g.name(), at + ".name");
                }
                attributes(g.attributes(), at + ".attributes");
                roles(g.realmRoles(), at + ".realmRoles");
            }
        }

        private static void required(String value, String at) {
            if (value == null || value.isEmpty()) {
                throw new Malformed(at + ": is required");
            }
            optional(value, at);
        }

        private static void optional(String value, String at) {
            if (value != null && value.length() > MAX_ID) {
                throw new Malformed(at + ": longer than " + MAX_ID + " characters");
            }
        }

        private static void list(List<String> values, String at) {
            if (values != null && values.size() > MAX_VALUES) {
                throw new Malformed(at + ": more than " + MAX_VALUES + " values");
            }
            if (values != null && values.contains(null)) {
                throw new Malformed(at + ": must be a list of strings");
            }
        }

        /** Only {@code clever_*} attributes: the sync never writes anything else. */
        private static void attributes(Map<String, List<String>> attributes, String at) {
            if (attributes == null) {
                return;
            }
            for (Map.Entry<String, List<String>> entry : attributes.entrySet()) {
                if (!entry.getKey().matches("clever_[a-z0-9_]{1,120}")) {
                    throw new Malformed(at + "." + entry.getKey() + ": not a clever_* attribute");
                }
                if (entry.getValue() == null) {
                    throw new Malformed(at + "." + entry.getKey() + ": must be a list of strings");
                }
                list(entry.getValue(), at + "." + entry.getKey());
            }
        }

        private static void roles(List<String> roles, String at) {
            list(roles, at);
            if (roles != null) {
                for (int n = 0; n < roles.size(); n++) {
                    if (!Roles.GRANTABLE.contains(roles.get(n))) {
                        throw new Malformed(at + "[" + n + "]: " + roles.get(n) + " is not a role the sync grants (only "
                                + new java.util.TreeSet<>(Roles.GRANTABLE) + ")");
                    }
                }
            }
        }

        private static void link(Ops.Link link, String ref, String at) {
            if (link == null || link.toRef()) {
                if (link != null && ref == null) {
                    throw new Malformed(at + ": true needs the op's ref");
                }
                return;
            }
            if (link.alias() != null && !BatchJob.ALIAS.equals(link.alias())) {
                throw new Malformed(at + ".alias: only the " + BatchJob.ALIAS + " identity provider is linked");
            }
            required(link.userId(), at + ".userId");
            optional(link.userName(), at + ".userName");
            if (!link.userId().equals(ref)) {
                throw new Malformed(at + ".userId: must be the op's ref");
            }
        }
    }
}
