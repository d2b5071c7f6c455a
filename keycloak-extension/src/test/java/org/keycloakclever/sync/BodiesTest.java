package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** The batch body's binding and shape checks ({@link Bodies}), without a server. */
class BodiesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String refusal(String body) throws Exception {
        JsonNode node = JSON.readTree(body.replace('\'', '"'));
        return assertThrows(Bodies.Malformed.class, () -> Bodies.operations(node)).getMessage();
    }

    @Test
    void aWellFormedBodyBindsToTypedOperations() throws Exception {
        List<Ops.Op> ops = Bodies.operations(JSON.readTree(("{'operations': ["
                + "{'op': 'create_user', 'ref': 'c1', 'username': 'ann', 'attributes': {'clever_grade': ['7']},"
                + " 'link': true, 'realmRoles': ['clever-student']},"
                + "{'op': 'add_member', 'userRef': 'c1', 'groupPath': '/Clever/X'},"
                + "{'op': 'update_group', 'id': 'g1', 'name': 'Y'}]}").replace('\'', '"')));
        Ops.CreateUser ann = assertInstanceOf(Ops.CreateUser.class, ops.get(0));
        assertEquals(List.of("7"), ann.attributes().get("clever_grade"));
        assertTrue(ann.link().toRef());
        assertEquals("c1", assertInstanceOf(Ops.AddMember.class, ops.get(1)).ref());
        assertEquals("Y", assertInstanceOf(Ops.UpdateGroup.class, ops.get(2)).name());
    }

    @Test
    void eachMalformedFieldIsNamedWithItsPath() throws Exception {
        String ok = "{'op': 'create_user', 'ref': 'a', 'username': 'a'}, ";
        assertEquals("operations[1].attributes.clever_grade: must be a list of strings",
                refusal("{'operations': [" + ok + "{'op': 'create_user', 'ref': 'b', 'username': 'b',"
                        + " 'attributes': {'clever_grade': 7}}]}"));
        assertEquals("operations[0].enabled: must be true or false",
                refusal("{'operations': [{'op': 'create_user', 'ref': 'b', 'username': 'b', 'enabled': 'yes'}]}"));
        assertEquals("operations[0].username: is required",
                refusal("{'operations': [{'op': 'create_user', 'ref': 'b'}]}"));
        assertTrue(refusal("{'operations': [{'op': 'grant_admin'}]}")
                .startsWith("operations[0].op: unknown operation grant_admin"));
        assertTrue(refusal("{'operations': [{'op': 'create_group', 'ref': 'r', 'name': 'n', 'realmRoles': ['admin']}]}")
                .startsWith("operations[0].realmRoles[0]: admin is not a role the sync grants"));
        assertEquals("operations: is required, a list of operations", refusal("{'ops': []}"));
    }
}
