package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.keycloak.representations.userprofile.config.UPAttribute;
import org.keycloak.representations.userprofile.config.UPAttributePermissions;
import org.keycloak.representations.userprofile.config.UPConfig;

/** The state endpoint's row shaping without a server: page bounds, the tree, attributes, the User Profile's rule. */
class StateRowsTest {

    @Test
    void pageBoundsAreClampedAndDefaulted() {
        assertEquals(new StateRows.Page(0, 2000), StateRows.Page.of(null, null, 2000, 5000));
        assertEquals(new StateRows.Page(0, 1), StateRows.Page.of(-5, 0, 2000, 5000));
        assertEquals(new StateRows.Page(10, 5000), StateRows.Page.of(10, 1_000_000, 2000, 5000));
    }

    @Test
    void aPageOfAListSaysWhereTheNextStarts() {
        List<Integer> rows = List.of(0, 1, 2, 3, 4);
        StateRows.Page page = StateRows.Page.of(2, 2, 2, 10);
        assertEquals(List.of(2, 3), page.slice(rows, false));
        assertEquals(Map.of("rows", List.of(2, 3), "next", 4), page.answer("rows", page.slice(rows, false), true));
        assertEquals(List.of(4), StateRows.Page.of(4, 2, 2, 10).slice(rows, false));
        assertEquals(List.of(), StateRows.Page.of(9, 2, 2, 10).slice(rows, false));
        assertFalse(StateRows.Page.of(4, 2, 2, 10).answer("rows", List.of(4), false).containsKey("next"));
    }

    @Test
    void aKeysetPageNamesTheParametersOfTheNextAndOnlyTwoKeysStartOne() {
        StateRows.Page page = StateRows.Page.of(null, 2, 2, 10);
        Map<String, Object> next = Map.of("afterGroup", "g1", "afterUser", "u2");
        assertEquals(Map.of("members", List.of("a", "b"), "next", next),
                page.answerAfter("members", List.of("a", "b"), next));
        assertFalse(page.answerAfter("members", List.of("a"), null).containsKey("next"));
        assertEquals(new StateRows.MemberKey("g1", "u2"), StateRows.MemberKey.of("g1", "u2"));
        assertEquals(null, StateRows.MemberKey.of("g1", null));
        assertEquals(null, StateRows.MemberKey.of("", "u2"));
    }

    private static JsonNode json(String text) throws Exception {
        return new ObjectMapper().readTree(text);
    }

    private static String refused(String body) {
        return assertThrows(Bodies.Malformed.class, () -> StateRows.Scope.of(json(body))).getMessage();
    }

    @Test
    void aScopeIsAskedAsTwoListsOfIdsWithoutRepeats() throws Exception {
        assertEquals(new StateRows.Scope(List.of("u1", "u2"), List.of("g1")),
                StateRows.Scope.of(json("{\"users\": [\"u1\", \"u2\", \"u1\"], \"groups\": [\"g1\"]}")));
        assertEquals(new StateRows.Scope(List.of(), List.of("g1")), StateRows.Scope.of(json("{\"groups\": [\"g1\"]}")));
        assertEquals("users[1]: must be an id (a string of 1 to 255 characters)", refused("{\"users\": [\"u1\", 7]}"));
        assertEquals("users[0]: must be an id (a string of 1 to 255 characters)", refused("{\"users\": [\"\"]}"));
        assertEquals("groups: must be a list of ids", refused("{\"groups\": \"g1\"}"));
        assertEquals("roles: unknown field", refused("{\"roles\": []}"));
        assertTrue(refused("[]").startsWith("the body: must be an object"));
        String many = "{\"users\": [\"u\"], \"groups\": [" + IntStream.range(0, StateRows.Scope.MAX_IDS)
                .mapToObj(i -> "\"g" + i + "\"").collect(Collectors.joining(",")) + "]}";
        assertEquals("users, groups: at most 20000 ids together", refused(many));
    }

    @Test
    void scopeIdsAreBoundAThousandAQuery() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 2001; i++) {
            ids.add("u" + i);
        }
        List<List<String>> chunks = StateRows.Scope.chunks(ids);
        assertEquals(List.of(1000, 1000, 1), chunks.stream().map(List::size).toList());
        assertEquals(ids, chunks.stream().flatMap(List::stream).toList());
        assertEquals(List.of(), StateRows.Scope.chunks(List.of()));
    }

    @Test
    void aQueriedPageDropsTheRowThatOnlySaysThereIsMore() {
        // The query asked for size + 1 rows from ``from``: the page is the first ``size`` of them.
        assertEquals(List.of("a", "b"), StateRows.Page.of(40, 2, 2, 10).slice(List.of("a", "b", "c"), true));
    }

    @Test
    void theTreeIsTheRootThenALevelAtATimeAndNothingElse() {
        List<StateRows.Group> groups = List.of(
                new StateRows.Group("c1", "s1", "Class"),
                new StateRows.Group("other", " ", "Teachers-Old"),
                new StateRows.Group("s1", "root", "School"),
                new StateRows.Group("root", " ", "Clever"),
                new StateRows.Group("inside-other", "other", "Clever"),
                new StateRows.Group("s2", "root", "Annex"));
        List<String> ids = StateRows.tree(groups, "Clever").stream().map(StateRows.Group::id).collect(Collectors.toList());
        assertEquals(List.of("root", "s1", "s2", "c1"), ids);
        assertEquals(List.of(), StateRows.tree(groups, "Missing"));
    }

    @Test
    void attributeRowsFoldIntoMapsKeepingTheirOrder() {
        List<Object[]> rows = new ArrayList<>();
        rows.add(new Object[]{"u1", "clever_school_ids", "b"});
        rows.add(new Object[]{"u2", "clever_id", "x"});
        rows.add(new Object[]{"u1", "clever_school_ids", "a"});
        rows.add(new Object[]{"u1", "clever_note", null});
        Map<String, Map<String, List<String>>> by = StateRows.attributes(rows, Set.of("u1"));
        assertEquals(Map.of("u1", Map.of("clever_school_ids", List.of("b", "a"), "clever_note", List.of(""))), by);
    }

    @Test
    void aValueOver255CharactersComesFromTheLongValueColumn() {
        String longName = "n".repeat(300);
        List<Object[]> rows = new ArrayList<>();
        rows.add(new Object[]{"u1", "clever_last_name", null, longName});
        rows.add(new Object[]{"u1", "clever_first_name", "Ann", null});
        Map<String, Map<String, List<String>>> by = StateRows.attributes(rows, Set.of("u1"));
        assertEquals(Map.of("u1", Map.of("clever_last_name", List.of(longName), "clever_first_name", List.of("Ann"))), by);
    }

    @Test
    void anAdminReadsDeclaredAttributesAndUnmanagedOnesOnlyWhenThePolicySaysSo() {
        UPConfig config = new UPConfig();
        config.addOrReplaceAttribute(new UPAttribute("username", new UPAttributePermissions(Set.of(), Set.of("admin"))));
        config.addOrReplaceAttribute(new UPAttribute("clever_id", new UPAttributePermissions(Set.of("admin"), Set.of())));
        config.addOrReplaceAttribute(new UPAttribute("secret", new UPAttributePermissions(Set.of("user"), Set.of("user"))));
        Map<String, List<String>> stored = Map.of(
                "clever_id", List.of("5f"), "secret", List.of("s"), "LDAP_ID", List.of("l"), "username", List.of("u"));

        StateRows.Readable declaredOnly = StateRows.Readable.of(config);
        assertEquals(Map.of("clever_id", List.of("5f")), declaredOnly.filter(stored));

        config.setUnmanagedAttributePolicy(UPConfig.UnmanagedAttributePolicy.ADMIN_VIEW);
        StateRows.Readable withUnmanaged = StateRows.Readable.of(config);
        assertEquals(Map.of("clever_id", List.of("5f"), "LDAP_ID", List.of("l")), withUnmanaged.filter(stored));
        assertTrue(withUnmanaged.test("anything_else"));
        assertFalse(withUnmanaged.test("email"));
    }
}
