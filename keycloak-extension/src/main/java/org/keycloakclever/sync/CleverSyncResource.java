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
import org.keycloak.services.resources.admin.AdminEventBuilder;
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

    static final int MAX_BATCH = Bodies.MAX_BATCH;
    static final int MAX_RETRIES = 8;
    static final List<String> OPERATIONS = List.of(
            "create_user", "update_user", "disable_user", "add_member", "remove_member", "create_group", "update_group");
    /** The reads it serves: {@link LinksResource}, {@link StateResource}. */
    static final List<String> READS = List.of("links", "state", "scope");
    private static final Logger LOG = Logger.getLogger(CleverSyncResource.class);

    private final KeycloakSession session;
    private final RealmModel realm;
    private final AdminPermissionEvaluator auth;
    private final AdminEventBuilder adminEvent;
    /** New accounts the committed transaction wrote as rows, and whether rows failed and the model path took over. */
    private int rowsWritten;
    private boolean rowsFellBack;

    CleverSyncResource(KeycloakSession session, RealmModel realm, AdminPermissionEvaluator auth,
                       AdminEventBuilder adminEvent) {
        this.session = session;
        this.realm = realm;
        this.auth = auth;
        this.adminEvent = adminEvent;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> probe() {
        auth.users().requireManage();
        Map<String, Object> probe = new LinkedHashMap<>();
        probe.put("extension", CleverSyncProviderFactory.ID);
        probe.put("version", CleverSyncProviderFactory.version());
        probe.put("operations", OPERATIONS);
        probe.put("reads", READS);
        probe.put("maxBatch", MAX_BATCH);
        probe.put("root", "/" + BatchJob.ROOT);
        probe.put("linkAlias", BatchJob.ALIAS);
        probe.put("keycloak", RowsPath.running());
        probe.put("newAccounts", RowsPath.forRealm(realm).json());
        return probe;
    }

    /** The realm's {@code clever} links, for the sidecar's ownership read ({@link LinksResource}). */
    @Path("links")
    public LinksResource links() {
        return new LinksResource(session, realm, auth);
    }

    /** The realm's accounts, the {@code /Clever} tree and its members as rows, for the sidecar's full read ({@link StateResource}). */
    @Path("state")
    public StateResource state() {
        return new StateResource(session, realm, auth);
    }

    @POST
    @Path("batch")
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response batch(JsonNode body) {
        auth.users().requireManage();
        List<Ops.Op> ops;
        try {
            ops = Bodies.operations(body);
        } catch (Bodies.Malformed malformed) {
            return refuse(malformed.getMessage());
        }
        Map<Integer, Outcome> outcomes = new TreeMap<>();
        Set<Integer> skip = new HashSet<>();
        int transactions = apply(ops, skip, outcomes);
        Map<String, Object> answer = new LinkedHashMap<>();
        List<Map<String, Object>> results = new ArrayList<>();
        outcomes.values().forEach(outcome -> results.add(outcome.json()));
        answer.put("results", results);
        answer.put("transactions", transactions);
        answer.put("newAccounts", newAccounts());
        return Response.ok(answer, MediaType.APPLICATION_JSON_TYPE).build();
    }

    /** Applies the batch; returns how many transactions committed. */
    private int apply(List<Ops.Op> ops, Set<Integer> skip, Map<Integer, Outcome> outcomes) {
        boolean rows = RowsPath.forRealm(realm).rows();
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
                    LOG.warnf("clever-sync: the rows of a batch of %d failed (%s); applying it through the model API",
                            ops.size(), rootMessage(exc));
                    rows = false;
                    rowsFellBack = true;
                    attempt--;
                    continue;
                }
                if (failure == null) {
                    LOG.warnf("clever-sync: a batch of %d failed to commit (%s); applying it one item at a time",
                            ops.size(), rootMessage(exc));
                    break;
                }
                Ops.Op op = ops.get(failure.index);
                outcomes.put(failure.index, Outcome.error(failure.index, op.kind(), op.ref(), op.id(),
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
                Ops.Op op = ops.get(i);
                outcomes.put(i, Outcome.error(i, op.kind(), op.ref(), op.id(),
                        "Keycloak refused the write: " + rootMessage(exc)));
            }
        }
        return transactions;
    }

    private Map<Integer, Outcome> run(List<Ops.Op> ops, Set<Integer> skip, boolean rows) {
        BatchJob job = new BatchJob(realm.getId(), ops, skip, rows, adminEvent);
        Map<Integer, Outcome> outcomes = KeycloakModelUtils.runJobInTransactionWithResult(
                session.getKeycloakSessionFactory(), session.getContext(), job, "clever-sync batch");
        rowsWritten += job.rowsWritten;
        return outcomes;
    }

    /**
     * How this batch's new accounts were written: {@code path} "rows" when any went as rows, the
     * realm's decision and its reason, how many as rows, and {@code fallback} when rows failed at
     * run time and the batch was applied again through the model API (also a WARN in the log).
     */
    private Map<String, Object> newAccounts() {
        RowsPath.Decision decision = RowsPath.forRealm(realm);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("path", rowsWritten > 0 ? RowsPath.ROWS : RowsPath.MODEL);
        json.put("reason", decision.reason());
        json.put("keycloak", RowsPath.running());
        json.put("rows", rowsWritten);
        json.put("fallback", rowsFellBack);
        return json;
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
}
