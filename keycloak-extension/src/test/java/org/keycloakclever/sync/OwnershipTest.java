package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * The ownership rule on the cases the sidecar's Python rule is tested on ({@code tests/ownership_cases.json}
 * at the top of the repository): the two must answer alike.
 */
class OwnershipTest {

    @Test
    void theRuleAnswersEachSharedCaseAsThePythonRuleDoes() throws Exception {
        JsonNode cases = new ObjectMapper().readTree(Files.readString(Path.of("..", "tests", "ownership_cases.json")))
                .get("cases");
        int owned = 0;
        for (JsonNode c : cases) {
            String userName = c.get("userName").isNull() ? null : c.get("userName").asText();
            String owner = Ownership.ownerOf(c.get("alias").asText(), c.get("userId").asText(), userName);
            assertEquals(c.get("owner").asText(), owner, c.get("why").asText());
            owned += owner.isEmpty() ? 0 : 1;
        }
        assertEquals(true, owned > 0 && owned < cases.size(), "the cases hold owned and unowned links");
    }

    @Test
    void anOwnedLinkAsWrittenIsOwnedAsRead() {
        assertEquals("5f0c1a2b3c4d5e6f7a8b9c0d", Ownership.ownerOf(Ownership.ownedLink("5f0c1a2b3c4d5e6f7a8b9c0d")));
    }
}
