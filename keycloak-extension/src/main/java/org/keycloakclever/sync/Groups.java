package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;

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
    private final Audit audit;

    Groups(KeycloakSession session, RealmModel realm, Known known, Runnable startWriting, Audit audit) {
        this.session = session;
        this.realm = realm;
        this.known = known;
        this.startWriting = startWriting;
        this.audit = audit;
    }

    /** {@code create_group}: a new group under its parent, or an unkeyed sibling of that name adopted. */
    Outcome create(int i, Ops.CreateGroup op) {
        String ref = op.ref();
        String name = Values.groupName(op.name());
        Map<String, List<String>> attributes = Values.attributes(op.attributes());
        attributes.put(BatchJob.CLEVER_KEY, List.of(ref));
        List<RoleModel> roles = Roles.resolve(realm, Roles.names(Values.list(op.realmRoles()), "realmRoles"));
        GroupModel parent = lookup(op.parentId(), op.parentPath(), op.parentRef(), "parent");
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
            replaceAttributes(group, attributes);
            audit.groupCreated(group, attributes);
        } else if (replaceAttributes(group, attributes)) {
            audit.groupUpdated(group, attributes);
            changed = true;
        }
        List<RoleModel> granted = Roles.grant(group, roles);
        audit.rolesGranted("groups", group.getId(), granted);
        changed |= !granted.isEmpty();
        groupsByRef.put(ref, group);
        outcome.id = group.getId();
        return outcome.changed(changed);
    }

    /** {@code update_group}: name, attributes, roles, a move within the tree. */
    Outcome update(int i, Ops.UpdateGroup op) {
        String id = op.id();
        String ref = op.ref();
        String name = op.name() == null ? null : Values.groupName(op.name());
        Map<String, List<String>> attributes = op.attributes() == null ? null : Values.attributes(op.attributes());
        List<RoleModel> roles = Roles.resolve(realm, Roles.names(Values.list(op.realmRoles()), "realmRoles"));
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
        GroupModel parent = lookup(op.parentId(), op.parentPath(), op.parentRef(), "parent");
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
            audit.groupMoved(group);
            changed = true;
        }
        boolean fields = false;
        if (renaming) {
            group.setName(name);
            fields = true;
        }
        if (moving || renaming) {
            groupsByPath.clear();
            known.childrenMoved();
        }
        if (attributes != null) {
            fields |= replaceAttributes(group, attributes);
        }
        if (fields) {
            audit.groupUpdated(group, group.getAttributes());
        }
        List<RoleModel> granted = Roles.grant(group, roles);
        audit.rolesGranted("groups", group.getId(), granted);
        changed |= fields || !granted.isEmpty();
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
            if (!entry.getValue().isEmpty() && !Accounts.sameValues(have, entry.getValue())) {
                group.setAttribute(entry.getKey(), entry.getValue());
                changed = true;
            }
        }
        return changed;
    }

    // ------------------------------------------------------------------------------- lookup

    /** {@code groups}: ids or paths ("/Clever/..."), each inside the /Clever tree. */
    List<GroupModel> list(List<String> idsOrPaths) {
        List<GroupModel> groups = new ArrayList<>();
        for (String idOrPath : idsOrPaths) {
            Values.text("groups", idOrPath, Values.MAX_PATH);
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
    GroupModel group(String id, String path, String ref, String prefix) {
        GroupModel group = lookup(id, path, ref, prefix);
        if (group == null) {
            throw new Refusal(prefix + "Id, " + prefix + "Path or " + prefix + "Ref is required");
        }
        return group;
    }

    private GroupModel lookup(String id, String path, String ref, String prefix) {
        Values.text(prefix + "Path", path, Values.MAX_PATH);
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
