package org.keycloakclever.sync;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.utils.KeycloakModelUtils;
import org.keycloak.services.resources.admin.fgap.AdminPermissionEvaluator;

/**
 * {@code GET  /admin/realms/{realm}/clever-sync}: the probe (version, operations).
 * {@code POST /admin/realms/{realm}/clever-sync/batch}: apply a batch in one transaction.
 *
 * <p>Both need manage-users in the realm. A batch whose transaction fails on one item is retried
 * without that item (up to {@link #MAX_RETRIES} times); if the commit itself fails, the batch is
 * applied one item per transaction so each item gets its own answer.
 */
public final class CleverSyncResource {

    static final int MAX_BATCH = 1000;
    static final int MAX_RETRIES = 8;
    static final List<String> OPERATIONS = List.of(
            "create_user", "update_user", "disable_user", "add_member", "remove_member", "create_group", "update_group");
    private static final Logger LOG = Logger.getLogger(CleverSyncResource.class);

    private final KeycloakSession session;
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;

    CleverSyncResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth) {
        this.session = session;
        this.realm = realm;
        this.auth = auth;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> probe() {
        auth.users().requireManage();
        Map<String, Object> probe = new LinkedHashMap<>();
        probe.put("extension", CleverSyncProviderFactory.ID);
        probe.put("version", version());
        probe.put("operations", OPERATIONS);
        probe.put("maxBatch", MAX_BATCH);
        probe.put("root", "/" + BatchJob.ROOT);
        probe.put("linkAlias", BatchJob.ALIAS);
        return probe;
    }

    /** The realm's {@code clever} links, for the sidecar's ownership read ({@link LinksResource}). */
    @Path("links")
    public LinksResource links() {
        return new LinksResource(session, realm, auth);
    }

    @POST
    @Path("batch")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response batch(JsonNode body) {
        auth.users().requireManage();
        JsonNode operations = body == null ? null : body.get("operations");
        if (operations == null || !operations.isArray()) {
            return refuse("the body must be {\"operations\": [...]}");
        }
        if (operations.size() > MAX_BATCH) {
            return refuse("at most " + MAX_BATCH + " operations per batch");
        }
        List<JsonNode> ops = new ArrayList<>();
        operations.forEach(ops::add);
        Map<Integer, Outcome> outcomes = new TreeMap<>();
        Set<Integer> skip = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            JsonNode op = ops.get(i);
            String kind = op.path("op").asText("");
            if (!op.isObject() || !OPERATIONS.contains(kind)) {
                outcomes.put(i, Outcome.error(i, kind, null, null, "unknown op " + kind));
                skip.add(i);
            }
        }
        int transactions = apply(ops, skip, outcomes);
        Map<String, Object> answer = new LinkedHashMap<>();
        List<Map<String, Object>> results = new ArrayList<>();
        outcomes.values().forEach(outcome -> results.add(outcome.json()));
        answer.put("results", results);
        answer.put("transactions", transactions);
        return Response.ok(answer, MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** Applies the batch; returns how many transactions committed. */
    private int apply(List<JsonNode> ops, Set<Integer> skip, Map<Integer, Outcome> outcomes) {
        boolean rows = BatchJob.FRESH_ROWS;
        for (int attempt = 0; attempt <= MAX_RETRIES; attempt++) {
            try {
                outcomes.putAll(run(ops, skip, rows));
                return 1;
            } catch (RuntimeException exc) {
                BatchJob.ItemFailure failure = itemFailure(exc);
                if (failure == null && rows) {
                    // New accounts written as rows fail together (e.g. an address another batch,
                    // running at the same time, took first): again through the model API, which
                    // names the item.
                    LOG.infof("clever-sync: the rows of a batch of %d failed (%s); applying it through the model API",
                            ops.size(), rootMessage(exc));
                    rows = false;
                    attempt--;
                    continue;
                }
                if (failure == null) {
                    LOG.warnf("clever-sync: a batch of %d failed to commit (%s); applying it one item at a time",
                            ops.size(), rootMessage(exc));
                    break;
                }
                JsonNode op = ops.get(failure.index);
                outcomes.put(failure.index, Outcome.error(failure.index, op.path("op").asText(),
                        op.path("ref").isTextual() ? op.get("ref").asText() : null,
                        op.path("id").isTextual() ? op.get("id").asText() : null,
                        "Keycloak refused the write: " + rootMessage(failure.getCause())));
                skip.add(failure.index);
            }
        }
        int transactions = 0;
        for (int i = 0; i < ops.size(); i++) {
            if (skip.contains(i)) {
                continue;
            }
            Set<Integer> others = new HashSet<>();
            for (int j = 0; j < ops.size(); j++) {
                if (j != i) {
                    others.add(j);
                }
            }
            try {
                outcomes.putAll(run(ops, others, false));
                transactions++;
            } catch (RuntimeException exc) {
                JsonNode op = ops.get(i);
                outcomes.put(i, Outcome.error(i, op.path("op").asText(),
                        op.path("ref").isTextual() ? op.get("ref").asText() : null,
                        op.path("id").isTextual() ? op.get("id").asText() : null,
                        "Keycloak refused the write: " + rootMessage(exc)));
            }
        }
        return transactions;
    }

    private Map<Integer, Outcome> run(List<JsonNode> ops, Set<Integer> skip, boolean rows) {
        return KeycloakModelUtils.runJobInTransactionWithResult(session.getKeycloakSessionFactory(),
                session.getContext(), new BatchJob(realm.getId(), ops, skip, rows), "clever-sync batch");
    }

    private static BatchJob.ItemFailure itemFailure(Throwable exc) {
        for (Throwable t = exc; t != null; t = t.getCause()) {
            if (t instanceof BatchJob.ItemFailure) {
                return (BatchJob.ItemFailure) t;
            }
        }
        return null;
    }

    private static String rootMessage(Throwable exc) {
        Throwable root = exc;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.length() > 300 ? message.substring(0, 300) : message;
    }

    private static Response refuse(String message) {
        return Response.status(Response.Status.BAD_REQUEST).type(MediaType.APPLICATION_JSON_TYPE)
                .entity(Map.of("error", message)).build();
    }

    private static String version() {
        String version = CleverSyncResource.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
