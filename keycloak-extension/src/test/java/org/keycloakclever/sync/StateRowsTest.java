package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

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
