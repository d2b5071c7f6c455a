package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.persistence.EntityManager;
import jakarta.persistence.TypedQuery;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.representations.idm.UserRepresentation;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;
import org.keycloak.userprofile.UserProfileProvider;

/**
 * {@code GET /admin/realms/{realm}/clever-sync/state/...}: what the sidecar's full read needs of the
 * realm, as compact rows from a few queries a page, where the admin REST API needs a listing per
 * group and a User Profile per account. Read only; whose account is whose stays the sidecar's
 * rule ({@code model/ownership.py}, from {@link LinksResource}'s rows).
 *
 * <ul>
 * <li>{@code users?max=2000} (then {@code &after=<the last username>}): every account but service
 * accounts (as {@code GET users} lists them), by username, rows {@code [id, username, firstName, lastName, email, enabled,
 * federationLink, {attributes}]}; the attributes an admin reads through the admin REST API
 * ({@link StateRows.Readable}). An account of a user storage provider (LDAP) is read through the
 * model, exactly as {@code GET users} reads it (its provider validates it and may put the
 * directory's values in front), and left out when its provider no longer has it. Two queries a
 * page for the others. Needs view-users.</li>
 * <li>{@code groups?root=Clever&first=0&max=5000}: the tree under the top-level group
 * {@code root}, root first then a level at a time, rows {@code [id, name, parentId,
 * {attributes}]} (the root's parentId is null). Two queries a page. Needs view of groups.</li>
 * <li>{@code POST scope?root=Clever} with {@code {"users": [ids], "groups": [ids]}} (at most
 * {@value StateRows.Scope#MAX_IDS} ids together): an incremental run's part of the realm, where
 * the rows above are the whole of it. {@code members}: the memberships, in the tree, of the given
 * accounts and of the given groups (every member); {@code users}: the rows of the given accounts
 * and of those groups' members, as {@code users} gives them (an id that is no account of the realm
 * is left out). A few queries for each thousand ids. A body of another shape is answered 400 with
 * what is wrong. Needs view-users and view of groups.</li>
 * <li>{@code members?root=Clever&max=50000} (then {@code &afterGroup=&afterUser=} the last row's):
 * rows {@code [groupId, userId]} of the memberships of the tree's groups, by group then user. Needs
 * view-users and view of groups.</li>
 * </ul>
 * Each answer has its rows under {@code users}, {@code groups} or {@code members} and {@code next}
 * unless it is the last page: the query parameters of the next page ({@code after...}: keyset
 * paging, each page a query of its own rows however deep the read is), or for the groups (one tree
 * built in memory) the {@code first} of the next page. {@code first} is still taken by every
 * endpoint (an offset), when no {@code after...} is given.
 */
public final class StateResource {

    static final int USERS_PAGE = 5000;
    static final int GROUPS_PAGE = 20000;
    static final int MEMBERS_PAGE = 100000;
    static final int FETCH_SIZE = 5000;
    static final String ROOT = BatchJob.ROOT;

    private final KeycloakSession session;
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;

    StateResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth) {
        this.session = session;
        this.realm = realm;
        this.auth = auth;
    }

    @GET
    @Path("users")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> users(@QueryParam("first") Integer first, @QueryParam("max") Integer max,
                                     @QueryParam("after") String after) {
        auth.users().requireView();
        StateRows.Page page = StateRows.Page.of(after == null ? first : null, max, 2000, USERS_PAGE);
        TypedQuery<Object[]> query = em().createQuery("select u.id, u.username, u.firstName, u.lastName, u.email,"
                        + " u.enabled, u.federationLink from UserEntity u where u.realmId = :realm"
                        + " and u.serviceAccountClientLink is null"
                        + (after == null ? "" : " and u.username > :after") + " order by u.username", Object[].class)
                .setParameter("realm", realm.getId());
        if (after != null) {
            query.setParameter("after", after);
        }
        List<Object[]> rows = query.setFirstResult(page.from()).setMaxResults(page.size() + 1).getResultList();
        List<Object[]> listed = page.slice(rows, true);
        Map<String, Map<String, List<String>>> attributes = listed.isEmpty() ? Map.of() : userAttributes(listed);
        List<List<Object>> users = userRows(listed, attributes);
        boolean more = rows.size() > page.size();
        return page.answerAfter("users", users, more ? Map.of("after", listed.get(listed.size() - 1)[1]) : null);
    }

    @POST
    @Path("scope")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response scope(@QueryParam("root") String root, JsonNode body) {
        auth.users().requireView();
        auth.groups().requireView();
        StateRows.Scope asked;
        try {
            asked = StateRows.Scope.of(body);
        } catch (Bodies.Malformed malformed) {
            return Response.status(Response.Status.BAD_REQUEST).type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(Map.of("error", malformed.getMessage())).build();
        }
        Set<String> tree = new HashSet<>();
        tree(root).forEach(group -> tree.add(group.id()));
        Set<List<String>> members = new LinkedHashSet<>();
        String memberships = "select m.groupId, m.user.id from UserGroupMembershipEntity m where m.user.realmId = :realm";
        for (List<String> ids : StateRows.Scope.chunks(asked.users())) {
            memberRows(memberships + " and m.user.id in :ids", ids, tree, members);
        }
        List<String> groups = asked.groups().stream().filter(tree::contains).toList();
        for (List<String> ids : StateRows.Scope.chunks(groups)) {
            memberRows(memberships + " and m.groupId in :ids", ids, tree, members);
        }
        Set<String> accounts = new LinkedHashSet<>(asked.users());
        Set<String> listedGroups = new HashSet<>(groups);
        members.forEach(row -> {
            if (listedGroups.contains(row.get(0))) {
                accounts.add(row.get(1));
            }
        });
        List<List<Object>> users = new ArrayList<>();
        for (List<String> ids : StateRows.Scope.chunks(new ArrayList<>(accounts))) {
            List<Object[]> rows = em().createQuery("select u.id, u.username, u.firstName, u.lastName, u.email,"
                            + " u.enabled, u.federationLink from UserEntity u where u.realmId = :realm"
                            + " and u.serviceAccountClientLink is null and u.id in :ids order by u.username",
                            Object[].class)
                    .setParameter("realm", realm.getId()).setParameter("ids", ids).getResultList();
            Map<String, Map<String, List<String>>> attributes = StateRows.attributes(
                    em().createQuery("select a.user.id, a.name, a.value, a.longValue from UserAttributeEntity a"
                                    + " where a.user.realmId = :realm and a.user.id in :ids", Object[].class)
                            .setParameter("realm", realm.getId()).setParameter("ids", ids).getResultList(), null);
            users.addAll(userRows(rows, attributes));
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("members", new ArrayList<>(members));
        answer.put("users", users);
        return Response.ok(answer, MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** The rows {@code [groupId, userId]} of {@code query} (bound to {@code ids}) whose group is in the tree. */
    private void memberRows(String query, List<String> ids, Set<String> tree, Set<List<String>> into) {
        em().createQuery(query, Object[].class).setParameter("realm", realm.getId()).setParameter("ids", ids)
                .getResultList().forEach(row -> {
                    if (tree.contains((String) row[0])) {
                        into.add(List.of((String) row[0], (String) row[1]));
                    }
                });
    }

    @GET
    @Path("groups")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> groups(@QueryParam("root") String root, @QueryParam("first") Integer first,
                                      @QueryParam("max") Integer max) {
        auth.groups().requireView();
        StateRows.Page page = StateRows.Page.of(first, max, GROUPS_PAGE, GROUPS_PAGE);
        List<StateRows.Group> tree = tree(root);
        List<StateRows.Group> listed = page.slice(tree, false);
        Set<String> ids = new HashSet<>();
        listed.forEach(group -> ids.add(group.id()));
        Map<String, Map<String, List<String>>> attributes = listed.isEmpty() ? Map.of() : StateRows.attributes(
                em().createQuery("select a.group.id, a.name, a.value from GroupAttributeEntity a"
                                + " where a.group.realm = :realm and a.group.type = 0", Object[].class)
                        .setParameter("realm", realm.getId()).getResultList(), ids);
        List<List<Object>> groups = new ArrayList<>();
        for (StateRows.Group group : listed) {
            String parent = StateRows.TOP.equals(group.parentId()) ? null : group.parentId();
            groups.add(Arrays.asList(group.id(), group.name(), parent,
                    attributes.getOrDefault(group.id(), Map.of())));
        }
        return page.answer("groups", groups, tree.size() > page.from() + page.size());
    }

    @GET
    @Path("members")
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> members(@QueryParam("root") String root, @QueryParam("first") Integer first,
                                       @QueryParam("max") Integer max, @QueryParam("afterGroup") String afterGroup,
                                       @QueryParam("afterUser") String afterUser) {
        auth.users().requireView();
        auth.groups().requireView();
        StateRows.MemberKey after = StateRows.MemberKey.of(afterGroup, afterUser);
        StateRows.Page page = StateRows.Page.of(after == null ? first : null, max, MEMBERS_PAGE, MEMBERS_PAGE);
        Set<String> ids = new HashSet<>();
        tree(root).forEach(group -> ids.add(group.id()));
        List<List<String>> members = new ArrayList<>();
        if (!ids.isEmpty()) {
            // From where the last page ended (keyset: each page reads only its own rows and those of
            // groups outside the tree between them), the page's rows and one more that says there is more.
            TypedQuery<Object[]> query = em().createQuery("select m.groupId, m.user.id from UserGroupMembershipEntity m"
                            + " where m.user.realmId = :realm" + (after == null ? ""
                            : " and (m.groupId > :group or (m.groupId = :group and m.user.id > :user))")
                            + " order by m.groupId, m.user.id", Object[].class)
                    .setParameter("realm", realm.getId())
                    .setHint("org.hibernate.fetchSize", FETCH_SIZE); // a cursor: rows as the stream takes them
            if (after != null) {
                query.setParameter("group", after.groupId()).setParameter("user", after.userId());
            }
            try (Stream<Object[]> rows = query.getResultStream()) {
                rows.filter(row -> ids.contains((String) row[0]))
                        .skip(page.from()).limit(page.size() + 1L)
                        .forEach(row -> members.add(List.of((String) row[0], (String) row[1])));
            }
        }
        List<List<String>> listed = page.slice(members, true);
        List<String> last = listed.isEmpty() ? null : listed.get(listed.size() - 1);
        return page.answerAfter("members", listed, members.size() > page.size()
                ? Map.of("afterGroup", last.get(0), "afterUser", last.get(1)) : null);
    }

    private List<StateRows.Group> tree(String root) {
        List<StateRows.Group> groups = new ArrayList<>();
        em().createQuery("select g.id, g.parentId, g.name from GroupEntity g where g.realm = :realm and g.type = 0"
                        + " order by g.name, g.id", Object[].class)
                .setParameter("realm", realm.getId()).getResultStream()
                .forEach(row -> groups.add(new StateRows.Group((String) row[0], (String) row[1], (String) row[2])));
        return StateRows.tree(groups, root == null || root.isEmpty() ? ROOT : root);
    }

    /** The stored attributes of the page's accounts (first to last username of the page: no id list to bind). */
    private Map<String, Map<String, List<String>>> userAttributes(List<Object[]> listed) {
        Set<String> ids = new HashSet<>();
        listed.forEach(row -> ids.add((String) row[0]));
        // A value over 255 characters is stored in longValue, value then null (UserAttributeEntity.getValue).
        return StateRows.attributes(em().createQuery("select a.user.id, a.name, a.value, a.longValue"
                        + " from UserAttributeEntity a"
                        + " where a.user.realmId = :realm and a.user.username >= :low and a.user.username <= :high",
                        Object[].class)
                .setParameter("realm", realm.getId())
                .setParameter("low", listed.get(0)[1]).setParameter("high", listed.get(listed.size() - 1)[1])
                .getResultList(), ids);
    }

    /** The accounts' rows ({@code users}' shape) of user entity rows and their stored attributes. */
    private List<List<Object>> userRows(List<Object[]> listed, Map<String, Map<String, List<String>>> attributes) {
        StateRows.Readable readable = StateRows.Readable.of(
                session.getProvider(UserProfileProvider.class).getConfiguration());
        List<List<Object>> users = new ArrayList<>();
        for (Object[] row : listed) {
            List<Object> user = row[6] == null
                    ? local(row, readable.filter(attributes.get((String) row[0])))
                    : federated((String) row[0]);
            if (user != null) {
                users.add(user);
            }
        }
        return users;
    }

    private static List<Object> local(Object[] row, Map<String, List<String>> attributes) {
        return Arrays.asList(row[0], row[1], text(row[2]), text(row[3]), text(row[4]), row[5], "", attributes);
    }

    /** An account of a user storage provider, as {@code GET users} reads it; null when its provider dropped it. */
    private List<Object> federated(String id) {
        UserModel user = session.users().getUserById(realm, id);
        if (user == null) {
            return null;
        }
        UserRepresentation rep = ModelToRepresentation.toRepresentation(session, realm, user);
        Map<String, List<String>> attributes = rep.getAttributes() == null ? Map.of() : rep.getAttributes();
        return Arrays.asList(rep.getId(), rep.getUsername(), text(rep.getFirstName()), text(rep.getLastName()),
                text(rep.getEmail()), rep.isEnabled() == null || rep.isEnabled(), text(rep.getFederationLink()),
                attributes);
    }

    private static String text(Object value) {
        return value == null ? "" : (String) value;
    }

    private EntityManager em() {
        return session.getProvider(JpaConnectionProvider.class).getEntityManager();
    }
}
