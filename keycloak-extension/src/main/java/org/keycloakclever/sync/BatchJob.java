package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.keycloak.connections.jpa.support.EntityManagers;
import org.keycloak.models.ClientModel;
import org.keycloak.models.FederatedIdentityModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionTaskWithResult;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;

/**
 * Applies the operations of one batch inside one transaction (the caller runs it through
 * {@code KeycloakModelUtils.runJobInTransactionWithResult}).
 *
 * <p>Every operation first resolves and checks everything it needs and throws a {@link Refusal}
 * before it writes; only then does it write. A Refusal becomes that item's error and the batch
 * goes on. Any other exception (Keycloak refusing a write) is raised as an {@link ItemFailure}
 * naming the item: the transaction is rolled back and the caller retries the batch without it.
 */
final class BatchJob implements KeycloakSessionTaskWithResult<Map<Integer, Outcome>> {

    static final String ROOT = "Clever";
    static final String ALIAS = "clever";
    static final String CLEVER_ID = "clever_id";
    static final String CLEVER_KEY = "clever_key";
    static final String REMOVED_AT = "clever_removed_at";

    /** An operation failed while writing: the transaction is unusable, retry without it. */
    static final class ItemFailure extends RuntimeException {
        final int index;

        ItemFailure(int index, RuntimeException cause) {
            super(cause);
            this.index = index;
        }
    }

    /**
     * Items between two {@code EntityManager.clear()}s. Keycloak's JPA model flushes several times
     * per person (addUser, joinGroup, grantRole, addFederatedIdentity) and every query auto-flushes;
     * each flush dirty-checks everything the persistence context holds, so without a clear a person
     * costs more the later they come in the batch (92 % of a 500-person batch was Hibernate flushing).
     * After a clear the entities are detached: nothing here keeps a user or group model across items
     * to write through it (users are kept by id and looked up again).
     */
    static final int CLEAR_EVERY = Integer.getInteger("clever-sync.clear-every", 1);

    /**
     * Runs the items in Keycloak's JPA batch mode ({@code EntityManagers.runInBatch}, as realm
     * creation does): addUser, joinGroup and grantRole then persist without flushing each row, and
     * queries do not flush first; the item's one flush at its end writes them together. Off by
     * default: with the per-item flush and clear it measured no faster (3,000 people, batches of
     * 500, 2 in flight: 1.57-1.59x REST off, 1.44-1.70x on), and its queries cannot see the item's
     * own unflushed rows. {@code -Dclever-sync.batch-mode=true} turns it on.
     */
    static final boolean BATCH_MODE = Boolean.parseBoolean(System.getProperty("clever-sync.batch-mode", "false"));

    /**
     * New accounts of a batch of {@code create_user}s written as rows, all at once ({@link Fresh}),
     * in realms without user storage providers. On by default; {@code -Dclever-sync.fresh-rows=false}
     * writes every account through the model API as before.
     */
    static final boolean FRESH_ROWS = Boolean.parseBoolean(System.getProperty("clever-sync.fresh-rows", "true"));

    private final String realmId;
    private final List<JsonNode> ops;
    private final Set<Integer> skip;
    /** New accounts may be written as rows ({@link Fresh}); false on the resource's retries. */
    private final boolean rows;

    private KeycloakSession session;
    private RealmModel realm;
    private boolean idpExists;
    private boolean writing;
    /** Clever id → Keycloak id of the people this batch wrote (ids, not models: see {@link #CLEAR_EVERY}). */
    private final Map<String, String> usersByRef = new HashMap<>();
    private final Set<String> createdIds = new HashSet<>();
    /** Clever id → Keycloak id of the links this batch added. */
    private final Map<String, String> linkedInBatch = new HashMap<>();
    private Known known;
    /** The batch's new accounts as rows, or null when they go through the model API. */
    private Fresh fresh;
    private final Timer timer = new Timer();
    private Groups groups;
    private final Set<String> usernames = new HashSet<>();
    private final Set<String> emails = new HashSet<>();

    BatchJob(String realmId, List<JsonNode> ops, Set<Integer> skip, boolean rows) {
        this.realmId = realmId;
        this.ops = ops;
        this.skip = skip;
        this.rows = rows;
    }

    @Override
    public Map<Integer, Outcome> run(KeycloakSession s) {
        session = s;
        realm = s.realms().getRealm(realmId);
        s.getContext().setRealm(realm);
        Plans.preferCustom(s);
        idpExists = s.identityProviders().getByAlias(ALIAS) != null;
        long started = System.nanoTime();
        known = Known.load(s, realmId, cleverIds());
        known.loadChildren(s, realmId, parentIds());
        groups = new Groups(s, realm, known, this::startWriting);
        if (rows && !BATCH_MODE && onlyCreates() && Fresh.possible(realm)) {
            fresh = new Fresh(realm);
            known.loadAccounts(s, realmId, lowered("username"), lowered("email"));
        }
        timer.known = System.nanoTime() - started;
        Map<Integer, Outcome> outcomes = new LinkedHashMap<>();
        if (BATCH_MODE) {
            EntityManagers.runInBatch(s, () -> applyAll(outcomes), false);
        } else {
            applyAll(outcomes);
        }
        if (fresh != null && !fresh.isEmpty()) {
            // A row that breaks a constraint fails here, and the whole transaction with it: the
            // resource then applies the batch one item per transaction.
            timer.item();
            timer.flushing();
            fresh.write(s.getProvider(org.keycloak.connections.jpa.JpaConnectionProvider.class).getEntityManager());
            timer.done();
        }
        timer.log(outcomes.size());
        return outcomes;
    }

    /**
     * Only {@code create_user}s: then nothing later in the batch reads back an account
     * {@link Fresh} has not written yet (an update or membership of an account made earlier in the
     * same batch would look it up in the database).
     */
    private boolean onlyCreates() {
        for (int i = 0; i < ops.size(); i++) {
            if (!skip.contains(i) && !"create_user".equals(ops.get(i).path("op").asText(""))) {
                return false;
            }
        }
        return true;
    }

    /** The {@code parentId}s of the batch's new groups, for {@link Known#loadChildren}. */
    private Set<String> parentIds() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            JsonNode op = ops.get(i);
            String id = op.path("parentId").asText("");
            if (!skip.contains(i) && "create_group".equals(op.path("op").asText("")) && !id.isEmpty()
                    && id.length() <= Checks.MAX_NAME) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** The batch's values of {@code field}, lower-cased, for {@link Known#loadAccounts}. */
    private Set<String> lowered(String field) {
        Set<String> values = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            String value = ops.get(i).path(field).asText("");
            if (!skip.contains(i) && !value.isEmpty() && value.length() <= Checks.MAX_NAME) {
                values.add(value.toLowerCase(Locale.ROOT));
            }
        }
        return values;
    }

    private void applyAll(Map<Integer, Outcome> outcomes) {
        int done = 0;
        for (int i = 0; i < ops.size(); i++) {
            if (skip.contains(i)) {
                continue;
            }
            JsonNode op = ops.get(i);
            String kind = op.path("op").asText("");
            String ref = op.path("ref").isTextual() ? op.get("ref").asText() : null;
            writing = false;
            timer.item();
            try {
                outcomes.put(i, apply(i, kind, op));
                timer.flushing();
                // The item's writes reach the database now, so a constraint they break is this
                // item's failure (not the commit's), and the next item's queries see them.
                EntityManagers.flush(session, ++done % CLEAR_EVERY == 0);
                timer.done();
            } catch (Refusal refusal) {
                if (writing) {
                    throw new ItemFailure(i, refusal);
                }
                String id = op.path("id").isTextual() ? op.get("id").asText() : null;
                outcomes.put(i, Outcome.error(i, kind, ref, id, refusal.getMessage()));
            } catch (RuntimeException exc) {
                throw new ItemFailure(i, exc);
            }
        }
    }

    private void startWriting() {
        writing = true;
        timer.writing();
    }

    /** The Clever ids the batch's people are named by ({@code ref}, {@code userRef}). */
    private Set<String> cleverIds() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            JsonNode op = ops.get(i);
            if (skip.contains(i) || op.path("op").asText("").endsWith("_group")) {
                continue;
            }
            for (String field : List.of("ref", "userRef")) {
                String id = op.path(field).asText("");
                if (!id.isEmpty() && id.length() <= Checks.MAX_NAME) {
                    ids.add(id);
                }
            }
        }
        return ids;
    }

    private Outcome apply(int i, String kind, JsonNode op) {
        switch (kind) {
            case "create_user":
                return createUser(i, op);
            case "update_user":
                return updateUser(i, op);
            case "disable_user":
                return disableUser(i, op);
            case "add_member":
                return membership(i, op, true);
            case "remove_member":
                return membership(i, op, false);
            case "create_group":
                return groups.create(i, op);
            case "update_group":
                return groups.update(i, op);
            default:
                throw new Refusal("unknown op " + kind);
        }
    }

    // ------------------------------------------------------------------------------- users

    private Outcome createUser(int i, JsonNode op) {
        String ref = Checks.required(op, "ref", Checks.MAX_NAME);
        String username = Checks.username(Checks.required(op, "username", Checks.MAX_NAME)).toLowerCase(Locale.ROOT);
        Wanted wanted = wanted(op, op, ref);
        String email = wanted.email();
        Boolean enabled = wanted.enabled();
        if (usersByRef.containsKey(ref)) {
            throw new Refusal("ref " + ref + " appears twice in the batch");
        }
        UserModel existing = findByRef(ref);
        if (existing == null) {
            UserModel byName = userNamed(username);
            if (byName != null) {
                if (!owns(byName, ref, false)) {
                    throw new Refusal("username " + username + " is taken by an account the sync does not own");
                }
                existing = byName;
            } else if (usernames.contains(username)) {
                throw new Refusal("username " + username + " appears twice in the batch");
            }
        }
        if (existing != null) {
            guardOwned(existing, ref, false);
        }
        Outcome outcome = new Outcome(i, "create_user", ref);
        if (existing != null && existing.getEmail() != null && !existing.getEmail().isEmpty()) {
            email = null;  // Clever's addresses are unverified: they fill an empty one, never replace one
        }
        email = claimEmail(email, existing, outcome);
        boolean linkNeeded = wanted.linkUserId() != null && checkLink(existing, wanted.linkUserId());
        if (existing == null) {
            ProfileCheck.check(session, username, wanted.first(), wanted.last(), email, nonEmpty(wanted.attributes()));
        }
        List<RoleModel> roles = existing == null && fresh != null ? existingRoles(wanted.roles()) : null;
        if (roles != null && ownIdOnly(wanted.attributes(), ref)) {
            startWriting();
            String id = fresh.add(username, wanted.first(), wanted.last(), email, enabled == null || enabled,
                    nonEmpty(wanted.attributes()), roles, wanted.groups(),
                    linkNeeded ? wanted.linkUserId() : null, Ownership.MARK + wanted.linkUserId());
            createdIds.add(id);
            usersByRef.put(ref, id);
            usernames.add(username);
            if (linkNeeded) {
                linkedInBatch.put(wanted.linkUserId(), id);
            }
            outcome.status = Outcome.CREATED;
            outcome.id = id;
            return outcome.changed(true);
        }
        startWriting();
        UserModel user = existing;
        boolean changed = false;
        if (user == null) {
            user = session.users().addUser(realm, username);
            createdIds.add(user.getId());
            outcome.status = Outcome.CREATED;
            user.setEnabled(enabled == null || enabled);
            changed = true;
        } else if (enabled != null && user.isEnabled() != enabled) {
            user.setEnabled(enabled);
            changed = true;
        }
        changed |= write(user, wanted, email, existing == null, linkNeeded);
        usersByRef.put(ref, user.getId());
        usernames.add(username);
        outcome.id = user.getId();
        return outcome.changed(changed);
    }

    private Outcome updateUser(int i, JsonNode op) {
        String id = Checks.required(op, "id", Checks.MAX_NAME);
        String ref = Checks.optional(op, "ref", Checks.MAX_NAME);
        Wanted wanted = wanted(op, op.path("fields"), ref);
        String linkUserId = wanted.linkUserId();
        Boolean enabled = wanted.enabled();
        boolean adopt = Boolean.TRUE.equals(Checks.bool(op, "adopt"));
        UserModel user = session.users().getUserById(realm, id);
        if (user == null) {
            throw new Refusal("no user " + id);
        }
        if (adopt) {
            guardAdoptable(user, ref, linkUserId);
        } else {
            guardOwned(user, ref, false);
        }
        Outcome outcome = new Outcome(i, "update_user", ref);
        outcome.id = user.getId();
        String email = claimEmail(wanted.email(), user, outcome);
        boolean linkNeeded = linkUserId != null && checkLink(user, linkUserId);
        startWriting();
        boolean changed = false;
        if (enabled != null && user.isEnabled() != enabled) {
            user.setEnabled(enabled);
            changed = true;
        }
        changed |= write(user, wanted, email, false, linkNeeded);
        if (ref != null) {
            usersByRef.put(ref, user.getId());
        }
        return outcome.changed(changed);
    }

    /** The account with this (lower-cased) username: from the snapshot when it has them. */
    private UserModel userNamed(String username) {
        if (fresh == null || !known.knowsAccounts()) {
            return session.users().getUserByUsername(realm, username);
        }
        String id = known.named(username);
        return id == null ? null : session.users().getUserById(realm, id);
    }

    /** The realm roles named, or null when one does not exist yet (the model path creates it). */
    private List<RoleModel> existingRoles(List<String> names) {
        List<RoleModel> roles = new ArrayList<>();
        for (String name : names) {
            RoleModel role = realm.getRole(name);
            if (role == null) {
                return null;
            }
            roles.add(role);
        }
        return roles;
    }

    /** True when the attributes carry no {@code clever_id} but the op's own (the snapshot stays true). */
    private static boolean ownIdOnly(Map<String, List<String>> attributes, String ref) {
        List<String> ids = attributes.get(CLEVER_ID);
        return ids == null || ids.equals(List.of(ref));
    }

    private static Map<String, List<String>> nonEmpty(Map<String, List<String>> attributes) {
        Map<String, List<String>> result = new LinkedHashMap<>();
        attributes.forEach((name, values) -> {
            if (!values.isEmpty()) {
                result.put(name, values);
            }
        });
        return result;
    }

    /** What a create_user or update_user asks of one account, read and checked before any write. */
    private record Wanted(
            String first,
            String last,
            String email,
            Boolean enabled,
            Map<String, List<String>> attributes,
            List<String> roles,
            List<GroupModel> groups,
            String linkUserId) {}

    /** {@code fields}: where the names, email and enabled are (the op itself, or update_user's "fields"). */
    private Wanted wanted(JsonNode op, JsonNode fields, String ref) {
        return new Wanted(
                Checks.optional(fields, "firstName", Checks.MAX_NAME),
                Checks.optional(fields, "lastName", Checks.MAX_NAME),
                Checks.email(Checks.optional(fields, "email", Checks.MAX_NAME)),
                Checks.bool(fields, "enabled"),
                Checks.attributes(op, "attributes"),
                Roles.of(op),
                groups.list(op),
                link(op, ref));
    }

    /** The writes create_user and update_user share: names, attributes, roles, groups, the link. */
    private boolean write(UserModel user, Wanted wanted, String email, boolean fresh, boolean linkNeeded) {
        boolean changed = setNames(user, wanted.first(), wanted.last(), email);
        changed |= mergeAttributes(user, wanted.attributes());
        changed |= Roles.grant(realm, user, wanted.roles());
        changed |= join(user, wanted.groups(), fresh);
        if (linkNeeded) {
            addLink(user, wanted.linkUserId());
            changed = true;
        }
        return changed;
    }

    private Outcome disableUser(int i, JsonNode op) {
        String id = Checks.required(op, "id", Checks.MAX_NAME);
        String ref = Checks.optional(op, "ref", Checks.MAX_NAME);
        String removedAt = Checks.required(op, "removedAt", Checks.MAX_NAME);
        UserModel user = session.users().getUserById(realm, id);
        if (user == null) {
            throw new Refusal("no user " + id);
        }
        guardOwned(user, ref, false);
        Outcome outcome = new Outcome(i, "disable_user", ref);
        outcome.id = user.getId();
        if (!user.isEnabled() && user.getFirstAttribute(REMOVED_AT) != null) {
            return outcome.changed(false);  // a replay: the first disable's date stays
        }
        startWriting();
        user.setEnabled(false);
        user.setSingleAttribute(REMOVED_AT, removedAt);
        return outcome.changed(true);
    }

    private Outcome membership(int i, JsonNode op, boolean add) {
        String ref = Checks.optional(op, "userRef", Checks.MAX_NAME);
        String userId = Checks.optional(op, "userId", Checks.MAX_NAME);
        UserModel user = userId != null ? session.users().getUserById(realm, userId)
                : ref != null ? findByRef(ref) : null;
        if (user == null) {
            throw new Refusal(userId == null && ref == null ? "userId or userRef is required" : "no such user");
        }
        guardOwned(user, ref, true);
        GroupModel group = groups.group(op, "group");
        Outcome outcome = new Outcome(i, add ? "add_member" : "remove_member", ref);
        outcome.id = user.getId();
        boolean member = user.getGroupsStream().anyMatch(g -> g.getId().equals(group.getId()));
        if (member == add) {
            return outcome.changed(false);
        }
        startWriting();
        if (add) {
            user.joinGroup(group);
        } else {
            user.leaveGroup(group);
        }
        return outcome.changed(true);
    }

    // ------------------------------------------------------------------------------- ownership

    /** The account a Clever person owns: made in this batch, or carrying their owned link ({@link Ownership}). */
    private UserModel findByRef(String ref) {
        String id = usersByRef.get(ref);
        if (id == null && idpExists) {
            id = known.owned(ref);
        }
        return id == null ? null : session.users().getUserById(realm, id);
    }

    /**
     * Owned: made by this batch, or carrying the owned link of the operation's Clever id
     * ({@code anyLink}: of any Clever id, for memberships without a ref). The {@code clever_id}
     * attribute is data and proves nothing.
     */
    private boolean owns(UserModel user, String ref, boolean anyLink) {
        if (createdIds.contains(user.getId())) {
            return true;
        }
        String owner = Ownership.ownerOf(session.users().getFederatedIdentity(realm, user, ALIAS));
        return !owner.isEmpty() && (anyLink || owner.equals(ref));
    }

    private void guardOwned(UserModel user, String ref, boolean anyLink) {
        guardIdentity(user, ref);
        if (!owns(user, ref, anyLink)) {
            throw new Refusal("user " + user.getId() + " is not an account the sync owns");
        }
    }

    /** Refuses an account linked to another Clever id, and service accounts (the {@code clever_id} attribute is data). */
    private void guardIdentity(UserModel user, String ref) {
        if (user.getServiceAccountClientLink() != null) {
            throw new Refusal("user " + user.getId() + " is a service account");
        }
        FederatedIdentityModel link = session.users().getFederatedIdentity(realm, user, ALIAS);
        if (ref != null && link != null && !link.getUserId().equals(ref)) {
            throw new Refusal("user " + user.getId() + " is linked to another Clever id");
        }
    }

    /**
     * {@code adopt}: an account the sidecar's safe matching chose, named by Keycloak id, taken over
     * with the link to {@code ref}. Never a service account or an administrator.
     */
    private void guardAdoptable(UserModel user, String ref, String linkUserId) {
        if (ref == null || linkUserId == null) {
            throw new Refusal("adopt needs ref and link");
        }
        guardIdentity(user, ref);
        ClientModel management = realm.getClientByClientId("realm-management");
        if (management != null && management.getRolesStream().anyMatch(user::hasRole)) {
            throw new Refusal("user " + user.getId() + " holds realm-management roles; the sync does not adopt administrators");
        }
        RoleModel admin = realm.getRole("admin");
        if (admin != null && user.hasRole(admin)) {
            throw new Refusal("user " + user.getId() + " holds the admin role; the sync does not adopt administrators");
        }
    }

    /** The link's Clever id (must be the op's ref), or null when the op asks for no link. */
    private String link(JsonNode op, String ref) {
        JsonNode link = op.get("link");
        if (link == null || link.isNull() || link.isBoolean() && !link.asBoolean()) {
            return null;
        }
        if (link.isBoolean()) {  // "link": true is the link to the op's ref
            if (ref == null) {
                throw new Refusal("link needs ref");
            }
            return ref;
        }
        String alias = Checks.optional(link, "alias", Checks.MAX_NAME);
        if (alias != null && !ALIAS.equals(alias)) {
            throw new Refusal("only the " + ALIAS + " identity provider is linked");
        }
        String userId = Checks.required(link, "userId", Checks.MAX_NAME);
        Checks.optional(link, "userName", Checks.MAX_NAME);
        if (!userId.equals(ref)) {
            throw new Refusal("link.userId must be the op's ref");
        }
        return userId;
    }

    /** True when the link must be added; refuses one that points elsewhere or is taken. */
    private boolean checkLink(UserModel user, String cleverId) {
        if (!idpExists) {
            throw new Refusal("the realm has no " + ALIAS + " identity provider to link to");
        }
        if (user != null) {
            FederatedIdentityModel have = session.users().getFederatedIdentity(realm, user, ALIAS);
            if (have != null) {
                if (!have.getUserId().equals(cleverId)) {
                    throw new Refusal("user " + user.getId() + " is linked to another Clever id");
                }
                if (Ownership.ownerOf(have).isEmpty()) {
                    throw new Refusal("user " + user.getId() + " has a clever link the sync did not make");
                }
                return false;
            }
        }
        String other = linkedTo(cleverId);
        if (other != null && (user == null || !other.equals(user.getId()))) {
            throw new Refusal("Clever id " + cleverId + " is linked to another account");
        }
        return true;
    }

    /** The Keycloak id of the account linked to this Clever id, or null. */
    private String linkedTo(String cleverId) {
        String id = linkedInBatch.get(cleverId);
        return id != null ? id : known.linked(cleverId);
    }

    /** The owned link: the link and the ownership record in one write ({@link Ownership}). */
    private void addLink(UserModel user, String cleverId) {
        session.users().addFederatedIdentity(realm, user, Ownership.ownedLink(cleverId));
        linkedInBatch.put(cleverId, user.getId());
    }

    // ------------------------------------------------------------------------------- writes

    /** The address to write, or null: taken by another account (the outcome says so) or none. */
    private String claimEmail(String email, UserModel self, Outcome outcome) {
        if (email == null) {
            return null;
        }
        String lower = email.toLowerCase(Locale.ROOT);
        if (self != null && lower.equals(self.getEmail())) {
            return null;
        }
        if (!realm.isDuplicateEmailsAllowed()) {
            String other = emailHolder(email, lower);
            if (emails.contains(lower) || other != null && (self == null || !other.equals(self.getId()))) {
                outcome.emailRefused = true;
                return null;
            }
        }
        emails.add(lower);
        return email;
    }

    /** The id of the account holding this address: from the snapshot when it has them. */
    private String emailHolder(String email, String lower) {
        if (fresh != null && known.knowsAccounts()) {
            return known.addressed(lower);
        }
        UserModel other = session.users().getUserByEmail(realm, email);
        return other == null ? null : other.getId();
    }

    private static boolean setNames(UserModel user, String first, String last, String email) {
        boolean changed = false;
        if (first != null && !first.equals(user.getFirstName())) {
            user.setFirstName(first);
            changed = true;
        }
        if (last != null && !last.equals(user.getLastName())) {
            user.setLastName(last);
            changed = true;
        }
        if (email != null) {
            user.setEmail(email);
            changed = true;
        }
        return changed;
    }

    /** Sets the named attributes (an empty list removes one); others are left alone. */
    private static boolean mergeAttributes(UserModel user, Map<String, List<String>> attributes) {
        boolean changed = false;
        for (Map.Entry<String, List<String>> entry : attributes.entrySet()) {
            List<String> have = user.getAttributeStream(entry.getKey()).collect(Collectors.toList());
            if (have.equals(entry.getValue())) {
                continue;
            }
            if (entry.getValue().isEmpty()) {
                user.removeAttribute(entry.getKey());
            } else {
                user.setAttribute(entry.getKey(), entry.getValue());
            }
            changed = true;
        }
        return changed;
    }

    /**
     * Joins the groups the user is not in yet. A fresh user is in the realm's default groups only
     * (addUser put them there, unflushed in batch mode, so a query would not see them).
     */
    private boolean join(UserModel user, List<GroupModel> groups, boolean fresh) {
        if (groups.isEmpty()) {
            return false;
        }
        Set<String> have = (fresh ? realm.getDefaultGroupsStream() : user.getGroupsStream())
                .map(GroupModel::getId).collect(Collectors.toSet());
        boolean changed = false;
        for (GroupModel group : groups) {
            if (have.add(group.getId())) {
                user.joinGroup(group);
                changed = true;
            }
        }
        return changed;
    }
}
