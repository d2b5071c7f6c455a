package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.keycloak.connections.jpa.support.EntityManagers;
import org.keycloak.models.ClientModel;
import org.keycloak.models.FederatedIdentityModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionTaskWithResult;
import org.keycloak.models.RealmModel;
import org.keycloak.models.RoleModel;
import org.keycloak.models.UserModel;
import org.keycloak.representations.idm.UserRepresentation;
import org.keycloak.services.resources.admin.AdminEventBuilder;

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

    private final String realmId;
    private final List<Ops.Op> ops;
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
    /** How many new accounts this job wrote as rows ({@link Fresh}); 0 when it took the model path. */
    int rowsWritten;

    /** The request's admin events, cloned into the batch's session ({@link Audit}). */
    private final AdminEventBuilder requestEvents;
    private Audit audit;

    BatchJob(String realmId, List<Ops.Op> ops, Set<Integer> skip, boolean rows, AdminEventBuilder requestEvents) {
        this.realmId = realmId;
        this.ops = ops;
        this.skip = skip;
        this.rows = rows;
        this.requestEvents = requestEvents;
    }

    @Override
    public Map<Integer, Outcome> run(KeycloakSession s) {
        session = s;
        realm = s.realms().getRealm(realmId);
        s.getContext().setRealm(realm);
        Plans.preferCustom(s);
        idpExists = s.identityProviders().getByAlias(ALIAS) != null;
        audit = new Audit(requestEvents, s);
        long started = System.nanoTime();
        known = Known.load(s, realmId, cleverIds());
        known.loadChildren(s, realmId, parentIds());
        groups = new Groups(s, realm, known, this::startWriting, audit);
        if (rows && !BATCH_MODE && onlyCreates() && RowsPath.forRealm(realm).rows()) {
            fresh = new Fresh(realm);
            known.loadAccounts(s, realmId, lowered(Ops.CreateUser::username), lowered(Ops.CreateUser::email));
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
            rowsWritten = fresh.size();
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
            if (!skip.contains(i) && !(ops.get(i) instanceof Ops.CreateUser)) {
                return false;
            }
        }
        return true;
    }

    /** The {@code parentId}s of the batch's new groups, for {@link Known#loadChildren}. */
    private Set<String> parentIds() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            if (!skip.contains(i) && ops.get(i) instanceof Ops.CreateGroup group && group.parentId() != null) {
                ids.add(group.parentId());
            }
        }
        return ids;
    }

    /** The batch's new people's values of a field, lower-cased, for {@link Known#loadAccounts}. */
    private Set<String> lowered(java.util.function.Function<Ops.CreateUser, String> field) {
        Set<String> values = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            String value = ops.get(i) instanceof Ops.CreateUser user ? field.apply(user) : null;
            if (!skip.contains(i) && value != null && !value.isEmpty() && value.length() <= Values.MAX_NAME) {
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
            Ops.Op op = ops.get(i);
            writing = false;
            timer.item();
            try {
                outcomes.put(i, apply(i, op));
                timer.flushing();
                // The item's writes reach the database now, so a constraint they break is this
                // item's failure (not the commit's), and the next item's queries see them.
                EntityManagers.flush(session, ++done % CLEAR_EVERY == 0);
                timer.done();
            } catch (Refusal refusal) {
                if (writing) {
                    throw new ItemFailure(i, refusal);
                }
                outcomes.put(i, Outcome.error(i, op.kind(), op.ref(), op.id(), refusal.getMessage()));
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
            Ops.Op op = ops.get(i);
            if (!skip.contains(i) && !(op instanceof Ops.CreateGroup || op instanceof Ops.UpdateGroup) && op.ref() != null) {
                ids.add(op.ref());
            }
        }
        return ids;
    }

    private Outcome apply(int i, Ops.Op op) {
        if (op instanceof Ops.CreateUser create) {
            return createUser(i, create);
        } else if (op instanceof Ops.UpdateUser update) {
            return updateUser(i, update);
        } else if (op instanceof Ops.DisableUser disable) {
            return disableUser(i, disable);
        } else if (op instanceof Ops.Member member) {
            return membership(i, member, member instanceof Ops.AddMember);
        } else if (op instanceof Ops.CreateGroup group) {
            return groups.create(i, group);
        }
        return groups.update(i, (Ops.UpdateGroup) op);
    }

    // ------------------------------------------------------------------------------- users

    private Outcome createUser(int i, Ops.CreateUser op) {
        String ref = op.ref();
        String username = Values.username(op.username()).toLowerCase(Locale.ROOT);
        Wanted wanted = wanted(op.firstName(), op.lastName(), op.email(), op.enabled(), op.attributes(),
                op.realmRoles(), op.groups(), op.link(), ref, username);
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
            ProfileCheck.check(session, username, wanted.first(), wanted.last(), email,
                    Accounts.nonEmpty(wanted.attributes()));
        }
        List<RoleModel> roles = personRoles(wanted, existing);
        if (existing == null && fresh != null && Accounts.ownIdOnly(wanted.attributes(), ref)) {
            startWriting();
            String id = fresh.add(username, wanted.first(), wanted.last(), email, enabled == null || enabled,
                    Accounts.nonEmpty(wanted.attributes()), roles, wanted.groups(),
                    linkNeeded ? wanted.linkUserId() : null, wanted.linkUserName());
            createdIds.add(id);
            usersByRef.put(ref, id);
            usernames.add(username);
            if (linkNeeded) {
                linkedInBatch.put(wanted.linkUserId(), id);
            }
            audit.userCreated(id, Accounts.created(username, enabled == null || enabled, wanted, email, linkNeeded));
            audit.rolesGranted("users", id, roles);
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
        changed |= write(user, wanted, email, existing == null, linkNeeded, roles, changed && existing != null);
        usersByRef.put(ref, user.getId());
        usernames.add(username);
        outcome.id = user.getId();
        return outcome.changed(changed);
    }

    private Outcome updateUser(int i, Ops.UpdateUser op) {
        String ref = op.ref();
        Ops.Fields fields = op.fields() == null ? new Ops.Fields(null, null, null, null) : op.fields();
        UserModel user = session.users().getUserById(realm, op.id());
        if (user == null) {
            throw new Refusal("no user " + op.id());
        }
        Wanted wanted = wanted(fields.firstName(), fields.lastName(), fields.email(), fields.enabled(),
                op.attributes(), op.realmRoles(), op.groups(), op.link(), ref, user.getUsername());
        String linkUserId = wanted.linkUserId();
        Boolean enabled = wanted.enabled();
        if (Boolean.TRUE.equals(op.adopt())) {
            guardAdoptable(user, ref, linkUserId);
        } else {
            guardOwned(user, ref, false);
        }
        Outcome outcome = new Outcome(i, "update_user", ref);
        outcome.id = user.getId();
        String email = claimEmail(wanted.email(), user, outcome);
        boolean linkNeeded = linkUserId != null && checkLink(user, linkUserId);
        List<RoleModel> roles = personRoles(wanted, user);
        startWriting();
        boolean changed = false;
        if (enabled != null && user.isEnabled() != enabled) {
            user.setEnabled(enabled);
            changed = true;
        }
        changed |= write(user, wanted, email, false, linkNeeded, roles, changed);
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

    /**
     * The realm roles asked for this person, each the role of one of their Clever roles (the op's
     * {@code clever_role}/{@code clever_roles}, else the account's), existing and not composite.
     */
    private List<RoleModel> personRoles(Wanted wanted, UserModel user) {
        if (wanted.roles().isEmpty()) {
            return List.of();
        }
        List<String> cleverRoles = new ArrayList<>();
        for (String name : List.of("clever_role", "clever_roles")) {
            List<String> asked = wanted.attributes().get(name);
            if (asked != null) {
                cleverRoles.addAll(asked);
            } else if (user != null) {
                user.getAttributeStream(name).forEach(cleverRoles::add);
            }
        }
        return Roles.resolve(realm, Roles.forPerson(wanted.roles(), cleverRoles));
    }

    /** What a create_user or update_user asks of one account, read and checked before any write. */
    record Wanted(
            String first,
            String last,
            String email,
            Boolean enabled,
            Map<String, List<String>> attributes,
            List<String> roles,
            List<GroupModel> groups,
            String linkUserId,
            String linkUserName) {}

    /** The op's values, checked ({@link Values}); a bad one is this item's error. */
    private Wanted wanted(String first, String last, String email, Boolean enabled,
                          Map<String, List<String>> attributes, List<String> roles, List<String> groupRefs,
                          Ops.Link link, String ref, String defaultLinkName) {
        String linkUserId = link == null ? null : link.toRef() ? ref : link.userId();
        // Every link the extension writes is an owned link: its userName is the ownership mark
        // (``Ownership``), whatever the op says.
        String linkUserName = linkUserId == null ? null : Ownership.MARK + linkUserId;
        return new Wanted(
                Values.name("firstName", first),
                Values.name("lastName", last),
                Values.email(email),
                enabled,
                Values.attributes(attributes),
                Roles.names(Values.list(roles), "realmRoles"),
                groups.list(Values.list(groupRefs)),
                linkUserId,
                Values.name("link.userName", linkUserName));
    }

    /**
     * The writes create_user and update_user share (names, attributes, roles, groups, the link),
     * and their admin events: a new account's one CREATE (as {@code POST /users} with its groups and
     * link), an existing one's UPDATE, link and memberships, and the role grants.
     */
    private boolean write(
            UserModel user, Wanted wanted, String email, boolean created, boolean linkNeeded,
            List<RoleModel> roles, boolean updated) {
        boolean fields = Accounts.setNames(user, wanted.first(), wanted.last(), email);
        fields |= Accounts.mergeAttributes(user, wanted.attributes());
        List<RoleModel> granted = Roles.grant(user, roles);
        List<GroupModel> joined = Accounts.join(user, wanted.groups(), created, realm);
        if (linkNeeded) {
            addLink(user, wanted.linkUserId());
        }
        if (created) {
            audit.userCreated(user.getId(), Accounts.created(user.getUsername(), user.isEnabled(), wanted, email, linkNeeded));
        } else {
            if (fields || updated) {
                audit.userUpdated(user.getId(), Accounts.updated(user, wanted.attributes(), email));
            }
            if (linkNeeded) {
                audit.linked(user.getId(), ALIAS, wanted.linkUserId(), wanted.linkUserName());
            }
            joined.forEach(group -> audit.membership(user, group, true));
        }
        audit.rolesGranted("users", user.getId(), granted);
        return fields || !granted.isEmpty() || !joined.isEmpty() || linkNeeded;
    }

    private Outcome disableUser(int i, Ops.DisableUser op) {
        String ref = op.ref();
        String removedAt = Values.name("removedAt", op.removedAt());
        UserModel user = session.users().getUserById(realm, op.id());
        if (user == null) {
            throw new Refusal("no user " + op.id());
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
        UserRepresentation rep = Accounts.updated(user, Map.of(REMOVED_AT, List.of(removedAt)), null);
        audit.userUpdated(user.getId(), rep);
        return outcome.changed(true);
    }

    private Outcome membership(int i, Ops.Member op, boolean add) {
        String ref = op.userRef();
        UserModel user = op.userId() != null ? session.users().getUserById(realm, op.userId()) : findByRef(ref);
        if (user == null) {
            throw new Refusal("no such user");
        }
        guardOwned(user, ref, true);
        GroupModel group = groups.group(op.groupId(), op.groupPath(), op.groupRef(), "group");
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
        audit.membership(user, group, add);
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
}
