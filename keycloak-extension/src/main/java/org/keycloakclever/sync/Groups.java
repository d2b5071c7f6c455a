package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;

/**
 * A batch's group operations ({@code create_group}, {@code update_group}) and how its items find a
 * group: by id, by path ({@code /Clever/...}) or by key ({@code clever_key}), always inside the
 * {@code /Clever} tree ({@link #requireInTree}). Like {@link BatchJob}, every check comes before
 * {@code startWriting}; a {@link Refusal} before it is the item's error.
 *
 * <p>Siblings are looked up in {@link Known}'s snapshot of the batch's parents' children when it
 * has them (one query for the batch instead of a {@code getGroupByName} per group).
 */
final class Groups {

    private final KeycloakSession session;
    private final RealmModel realm;
    private final Known known;
    /** The batch's mark that the item has begun to write (a Refusal after it fails the transaction). */
    private final Runnable startWriting;
    private final Map<String, GroupModel> groupsByRef = new HashMap<>();
    private final Map<String, GroupModel> groupsByPath = new HashMap<>();
    private final Map<String, Boolean> inTree = new HashMap<>();

    Groups(KeycloakSession session, RealmModel realm, Known known, Runnable startWriting) {
        this.session = session;
        this.realm = realm;
        this.known = known;
        this.startWriting = startWriting;
    }

    /** {@code create_group}: a new group under its parent, or an unkeyed sibling of that name adopted. */
    Outcome create(int i, JsonNode op) {
        String ref = Checks.required(op, "ref", Checks.MAX_NAME);
        String name = Checks.groupName(Checks.required(op, "name", Checks.MAX_NAME));
        Map<String, List<String>> attributes = Checks.attributes(op, "attributes");
        attributes.put(BatchJob.CLEVER_KEY, List.of(ref));
        List<String> roles = Roles.of(op);
        GroupModel parent = parent(op);
        if (parent == null && !BatchJob.ROOT.equals(name)) {
            throw new Refusal("only /" + BatchJob.ROOT + " may be created at the top level; give parentId, parentPath or parentRef");
        }
        if (groupsByRef.containsKey(ref)) {
            throw new Refusal("ref " + ref + " appears twice in the batch");
        }
        GroupModel existing = child(parent, name);
        if (existing != null) {
            String key = existing.getFirstAttribute(BatchJob.CLEVER_KEY);
            if (key != null && !key.equals(ref)) {
                throw new Refusal("a sibling group is already named " + name + " (key " + key + ")");
            }
        }
        Outcome outcome = new Outcome(i, "create_group", ref);
        startWriting.run();
        GroupModel group = existing;
        boolean changed = false;
        if (group == null) {
            group = session.groups().createGroup(realm, name, parent);
            known.madeChild(parent == null ? null : parent.getId(), name, group.getId());
            outcome.status = Outcome.CREATED;
            inTree.put(group.getId(), true);
            changed = true;
        }
        changed |= replaceAttributes(group, attributes);
        changed |= Roles.grant(realm, group, roles);
        groupsByRef.put(ref, group);
        outcome.id = group.getId();
        return outcome.changed(changed);
    }

    /** {@code update_group}: name, attributes, roles, a move within the tree. */
    Outcome update(int i, JsonNode op) {
        String id = Checks.required(op, "id", Checks.MAX_NAME);
        String ref = Checks.optional(op, "ref", Checks.MAX_NAME);
        String name = op.has("name") ? Checks.groupName(Checks.required(op, "name", Checks.MAX_NAME)) : null;
        Map<String, List<String>> attributes = op.has("attributes") ? Checks.attributes(op, "attributes") : null;
        List<String> roles = Roles.of(op);
        GroupModel group = session.groups().getGroupById(realm, id);
        if (group == null) {
            throw new Refusal("no group " + id);
        }
        requireInTree(group);
        String key = group.getFirstAttribute(BatchJob.CLEVER_KEY);
        if (ref != null && key != null && !key.equals(ref)) {
            throw new Refusal("group " + id + " has key " + key + ", not " + ref);
        }
        if (ref != null && attributes != null) {
            attributes.put(BatchJob.CLEVER_KEY, List.of(ref));
        }
        GroupModel parent = parent(op);
        boolean moving = parent != null && !parent.getId().equals(group.getParentId());
        boolean renaming = name != null && !name.equals(group.getName());
        if ((moving || renaming) && group.getParentId() == null) {
            throw new Refusal("the /" + BatchJob.ROOT + " root is not renamed or moved");
        }
        if (moving) {
            for (GroupModel up = parent; up != null; up = up.getParent()) {
                if (up.getId().equals(group.getId())) {
                    throw new Refusal("a group cannot move below itself");
                }
            }
        }
        if (moving || renaming) {
            String target = renaming ? name : group.getName();
            GroupModel sibling = child(moving ? parent : group.getParent(), target);
            if (sibling != null && !sibling.getId().equals(group.getId())) {
                throw new Refusal("a sibling group is already named " + target);
            }
        }
        Outcome outcome = new Outcome(i, "update_group", ref);
        outcome.id = group.getId();
        startWriting.run();
        boolean changed = false;
        if (moving) {
            session.groups().moveGroup(realm, group, parent);
            changed = true;
        }
        if (renaming) {
            group.setName(name);
            changed = true;
        }
        if (moving || renaming) {
            groupsByPath.clear();
            known.childrenMoved();
        }
        if (attributes != null) {
            changed |= replaceAttributes(group, attributes);
        }
        changed |= Roles.grant(realm, group, roles);
        if (ref != null) {
            groupsByRef.put(ref, group);
        }
        return outcome.changed(changed);
    }

    /** Makes the group's attributes exactly {@code attributes} (as the REST path's PUT does). */
    private static boolean replaceAttributes(GroupModel group, Map<String, List<String>> attributes) {
        boolean changed = false;
        for (String name : Set.copyOf(group.getAttributes().keySet())) {
            if (!attributes.containsKey(name) || attributes.get(name).isEmpty()) {
                group.removeAttribute(name);
                changed = true;
            }
        }
        for (Map.Entry<String, List<String>> entry : attributes.entrySet()) {
            List<String> have = group.getAttributeStream(entry.getKey()).collect(Collectors.toList());
            if (!entry.getValue().isEmpty() && !have.equals(entry.getValue())) {
                group.setAttribute(entry.getKey(), entry.getValue());
                changed = true;
            }
        }
        return changed;
    }

    // ------------------------------------------------------------------------------- lookup

    /** {@code groups}: ids or paths ("/Clever/..."), each inside the /Clever tree. */
    List<GroupModel> list(JsonNode op) {
        List<GroupModel> groups = new ArrayList<>();
        for (String idOrPath : Checks.strings(op.get("groups"), "groups", 4096)) {
            GroupModel group = idOrPath.startsWith("/") ? byPath(idOrPath) : session.groups().getGroupById(realm, idOrPath);
            if (group == null) {
                throw new Refusal("no group " + idOrPath);
            }
            requireInTree(group);
            groups.add(group);
        }
        return groups;
    }

    /** The group named by {@code <prefix>Id}, {@code <prefix>Path} or {@code <prefix>Ref}. */
    GroupModel group(JsonNode op, String prefix) {
        GroupModel group = lookup(op, prefix);
        if (group == null) {
            throw new Refusal(prefix + "Id, " + prefix + "Path or " + prefix + "Ref is required");
        }
        return group;
    }

    private GroupModel parent(JsonNode op) {
        return lookup(op, "parent");
    }

    private GroupModel lookup(JsonNode op, String prefix) {
        String id = Checks.optional(op, prefix + "Id", Checks.MAX_NAME);
        String path = Checks.optional(op, prefix + "Path", 4096);
        String ref = Checks.optional(op, prefix + "Ref", Checks.MAX_NAME);
        GroupModel group;
        if (id != null) {
            group = session.groups().getGroupById(realm, id);
        } else if (path != null) {
            group = byPath(path);
        } else if (ref != null) {
            group = groupsByRef.get(ref);
            if (group == null) {
                group = session.groups().searchGroupsByAttributes(realm, Map.of(BatchJob.CLEVER_KEY, ref), 0, 10)
                        .filter(this::isInTree).findFirst().orElse(null);
            }
        } else {
            return null;
        }
        if (group == null) {
            throw new Refusal("no group " + (id != null ? id : path != null ? path : "with key " + ref));
        }
        requireInTree(group);
        return group;
    }

    private GroupModel byPath(String path) {
        return groupsByPath.computeIfAbsent(path, p -> org.keycloak.models.utils.KeycloakModelUtils.findGroupByPath(session, realm, p));
    }

    private GroupModel child(GroupModel parent, String name) {
        if (parent != null && known.knowsChildrenOf(parent.getId())) {
            String id = known.child(parent.getId(), name);
            return id == null ? null : session.groups().getGroupById(realm, id);
        }
        if (parent == null) {
            return session.groups().getTopLevelGroupsStream(realm, name, true, 0, 10)
                    .filter(g -> g.getName().equals(name)).findFirst().orElse(null);
        }
        return session.groups().getGroupByName(realm, parent, name);
    }

    private void requireInTree(GroupModel group) {
        if (!isInTree(group)) {
            throw new Refusal("group " + group.getId() + " is outside /" + BatchJob.ROOT);
        }
    }

    private boolean isInTree(GroupModel group) {
        Boolean known = inTree.get(group.getId());
        if (known != null) {
            return known;
        }
        GroupModel parent = group.getParent();
        boolean result = parent == null
                ? BatchJob.ROOT.equals(group.getName()) && group.getType() == GroupModel.Type.REALM
                : isInTree(parent);
        inTree.put(group.getId(), result);
        return result;
    }
}
