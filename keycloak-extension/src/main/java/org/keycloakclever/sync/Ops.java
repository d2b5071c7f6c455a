package org.keycloakclever.sync;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;

/**
 * The batch's request body, typed: {@code {"operations": [op, ...]}}, each op one of the records
 * below, chosen by its {@code "op"} field. {@link Bodies} binds and checks them; the field names
 * are the wire format of {@code keycloak-extension/README.md}.
 */
final class Ops {

    private Ops() {
    }

    /** One operation of a batch. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "op")
    @JsonSubTypes({
        @JsonSubTypes.Type(CreateUser.class), @JsonSubTypes.Type(UpdateUser.class),
        @JsonSubTypes.Type(DisableUser.class), @JsonSubTypes.Type(AddMember.class),
        @JsonSubTypes.Type(RemoveMember.class), @JsonSubTypes.Type(CreateGroup.class),
        @JsonSubTypes.Type(UpdateGroup.class)})
    sealed interface Op permits CreateUser, UpdateUser, DisableUser, Member, CreateGroup, UpdateGroup {
        /** The wire name ({@code "create_user"}, ...). */
        String kind();

        /** The Clever id or group key the op is about, or null. */
        String ref();

        /** The Keycloak id the op names, or null. */
        default String id() {
            return null;
        }
    }

    /** {@code "link": true} (the op's ref) or {@code {"alias": "clever", "userId": ..., "userName": ...}}. */
    record Link(String alias, String userId, String userName, boolean toRef) {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Link of(boolean linked) {
            return linked ? new Link(null, null, null, true) : null;
        }

        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        static Link of(@JsonProperty("alias") String alias, @JsonProperty("userId") String userId,
                       @JsonProperty("userName") String userName) {
            return new Link(alias, userId, userName, false);
        }
    }

    @JsonTypeName("create_user")
    record CreateUser(String ref, String username, String firstName, String lastName, String email,
                      Boolean enabled, Map<String, List<String>> attributes, List<String> realmRoles,
                      List<String> groups, Link link) implements Op {
        public String kind() {
            return "create_user";
        }
    }

    /** {@code update_user}'s {@code fields}. */
    record Fields(String firstName, String lastName, String email, Boolean enabled) {
    }

    @JsonTypeName("update_user")
    record UpdateUser(String id, String ref, Fields fields, Map<String, List<String>> attributes,
                      List<String> realmRoles, List<String> groups, Link link, Boolean adopt) implements Op {
        public String kind() {
            return "update_user";
        }
    }

    @JsonTypeName("disable_user")
    record DisableUser(String id, String ref, String removedAt) implements Op {
        public String kind() {
            return "disable_user";
        }
    }

    /** {@code add_member} / {@code remove_member}: a user by id or Clever id, a group by id, path or key. */
    sealed interface Member extends Op permits AddMember, RemoveMember {
        String userId();

        String userRef();

        String groupId();

        String groupPath();

        String groupRef();

        default String ref() {
            return userRef();
        }

        default String id() {
            return userId();
        }
    }

    @JsonTypeName("add_member")
    record AddMember(String userId, String userRef, String groupId, String groupPath, String groupRef) implements Member {
        public String kind() {
            return "add_member";
        }
    }

    @JsonTypeName("remove_member")
    record RemoveMember(String userId, String userRef, String groupId, String groupPath, String groupRef)
            implements Member {
        public String kind() {
            return "remove_member";
        }
    }

    @JsonTypeName("create_group")
    record CreateGroup(String ref, String name, String parentId, String parentPath, String parentRef,
                       Map<String, List<String>> attributes, List<String> realmRoles) implements Op {
        public String kind() {
            return "create_group";
        }
    }

    @JsonTypeName("update_group")
    record UpdateGroup(String id, String ref, String name, String parentId, String parentPath, String parentRef,
                       Map<String, List<String>> attributes, List<String> realmRoles) implements Op {
        public String kind() {
            return "update_group";
        }
    }

    /** The request body. */
    record Batch(List<Op> operations) {
    }
}
