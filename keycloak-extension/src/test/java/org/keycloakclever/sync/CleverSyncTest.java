package org.keycloakclever.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The extension in a real Keycloak that has the jar in providers/ (scripts/services installs it),
 * driven over HTTP; assertions read back what Keycloak holds through its admin REST API.
 *
 * <p>Needs KEYCLOAK_URL, KEYCLOAK_ADMIN_USER, KEYCLOAK_ADMIN_PASSWORD (var/services.env); fails,
 * never skips, without them. Each run makes its own realm and deletes it.
 */
class CleverSyncTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static String url;
    private static String token;
    private static String realm;

    @BeforeAll
    static void realm() throws Exception {
        url = env("KEYCLOAK_URL");
        String form = "grant_type=password&client_id=admin-cli&username=" + encode(env("KEYCLOAK_ADMIN_USER"))
                + "&password=" + encode(env("KEYCLOAK_ADMIN_PASSWORD"));
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/realms/master/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        token = JSON.readTree(response.body()).get("access_token").asText();
        realm = "j-" + UUID.randomUUID().toString().substring(0, 12);
        assertEquals(201, call("POST", "/admin/realms", Map.of("realm", realm, "enabled", true)).statusCode());
        assertEquals(201, call("POST", admin("/identity-provider/instances"), Map.of(
                "alias", "clever", "providerId", "oidc", "enabled", true,
                "config", Map.of("clientId", "x", "clientSecret", "y",
                        "authorizationUrl", "https://clever.example/oauth/authorize",
                        "tokenUrl", "https://clever.example/oauth/tokens"))).statusCode());
        assertEquals(List.of("created"), statuses(batch(List.of(Map.of("op", "create_group", "ref", "root", "name", "Clever")))));
    }

    @AfterAll
    static void dropRealm() throws Exception {
        if (realm != null) {
            call("DELETE", "/admin/realms/" + realm, null);
        }
    }

    @Test
    void probeAnswersVersionAndOperationsOnlyWithAToken() throws Exception {
        HttpResponse<String> probe = call("GET", admin("/clever-sync"), null);
        assertEquals(200, probe.statusCode());
        JsonNode body = JSON.readTree(probe.body());
        assertEquals("clever-sync", body.get("extension").asText());
        assertEquals("0.1.0", body.get("version").asText());
        assertEquals(CleverSyncResource.OPERATIONS.size(), body.get("operations").size());
        HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create(url + admin("/clever-sync"))).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode());
    }

    @Test
    void createsAPersonInTheTreeWithLinkAndAReplayIsUnchanged() throws Exception {
        List<Map<String, Object>> ops = List.of(
                Map.of("op", "create_group", "ref", "school:j1", "parentRef", "root", "name", "Java High"),
                Map.of("op", "create_user", "ref", "j1", "username", "Jay.Jones", "firstName", "Jay",
                        "lastName", "Jones", "email", "jay@example.org",
                        "attributes", Map.of("clever_id", List.of("j1"), "clever_grade", List.of("7")),
                        "groups", List.of("/Clever/Java High"),
                        "link", Map.of("alias", "clever", "userId", "j1")));
        JsonNode first = batch(ops);
        assertEquals(List.of("created", "created"), statuses(first));
        JsonNode again = batch(ops);
        assertEquals(List.of("unchanged", "unchanged"), statuses(again));

        JsonNode users = JSON.readTree(call("GET", admin("/users?q=clever_id:j1"), null).body());
        assertEquals(1, users.size());
        String id = users.get(0).get("id").asText();
        assertEquals(first.get(1).get("id").asText(), id);
        assertEquals("jay.jones", users.get(0).get("username").asText());
        assertEquals("jay@example.org", users.get(0).get("email").asText());
        JsonNode groups = JSON.readTree(call("GET", admin("/users/" + id + "/groups"), null).body());
        assertEquals(1, groups.size());
        assertEquals("/Clever/Java High", groups.get(0).get("path").asText());
        JsonNode links = JSON.readTree(call("GET", admin("/users/" + id + "/federated-identity"), null).body());
        assertEquals(1, links.size());
        assertEquals("j1", links.get(0).get("userId").asText());
    }

    @Test
    void invalidItemsAreRefusedOneByOneAndNothingOfThemIsStored() throws Exception {
        assertEquals(201, call("POST", admin("/groups"), Map.of("name", "Faculty")).statusCode());
        JsonNode results = batch(List.of(
                Map.of("op", "create_user", "ref", "bad1", "username", "bad.mail", "email", "no at sign"),
                Map.of("op", "create_user", "ref", "bad2", "username", "outsider", "groups", List.of("/Faculty")),
                Map.of("op", "create_user", "ref", "bad3", "username", "tab\tname"),
                Map.of("op", "create_user", "ref", "fine", "username", "fine.one")));
        assertEquals(List.of("error", "error", "error", "created"), statuses(results));
        assertTrue(results.get(0).get("error").asText().contains("email"));
        assertTrue(results.get(1).get("error").asText().contains("outside /Clever"));
        for (String username : List.of("bad.mail", "outsider")) {
            JsonNode found = JSON.readTree(call("GET", admin("/users?exact=true&username=" + username), null).body());
            assertEquals(0, found.size(), username);
        }
        JsonNode fine = JSON.readTree(call("GET", admin("/users?exact=true&username=fine.one"), null).body());
        assertEquals(1, fine.size());
    }

    @Test
    void aBodyWithoutOperationsOrTooLargeIsABadRequest() throws Exception {
        assertEquals(400, call("POST", admin("/clever-sync/batch"), Map.of("ops", List.of())).statusCode());
        List<Map<String, Object>> many = new ArrayList<>();
        for (int i = 0; i <= CleverSyncResource.MAX_BATCH; i++) {
            many.add(Map.of("op", "create_group", "ref", "g" + i, "parentPath", "/Clever", "name", "G" + i));
        }
        HttpResponse<String> tooMany = call("POST", admin("/clever-sync/batch"), Map.of("operations", many));
        assertEquals(400, tooMany.statusCode());
        assertFalse(JSON.readTree(call("GET", admin("/groups?search=G1&exact=true"), null).body()).size() > 0);
    }

    // ----------------------------------------------------------------------------------------

    private static JsonNode batch(List<Map<String, Object>> ops) throws Exception {
        HttpResponse<String> response = call("POST", admin("/clever-sync/batch"), Map.of("operations", ops));
        assertEquals(200, response.statusCode(), response.body());
        JsonNode results = JSON.readTree(response.body()).get("results");
        assertNotNull(results);
        assertEquals(ops.size(), results.size());
        return results;
    }

    private static List<String> statuses(JsonNode results) {
        List<String> statuses = new ArrayList<>();
        results.forEach(r -> statuses.add(r.get("status").asText()));
        return statuses;
    }

    private static String admin(String path) {
        return "/admin/realms/" + realm + path;
    }

    private static HttpResponse<String> call(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url + path)).header("Authorization", "Bearer " + token);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) {
            fail(name + " is not set: run the tests against the services (set -a; . var/services.env; set +a)");
        }
        return value;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
