package org.keycloakclever.sync;

import java.util.LinkedHashMap;
import java.util.Map;

/** The result of one operation, as the wire format reports it. */
final class Outcome {

    static final String CREATED = "created";
    static final String UPDATED = "updated";
    static final String UNCHANGED = "unchanged";
    static final String ERROR = "error";

    final int index;
    final String op;
    final String ref;
    String id;
    String status;
    String error;
    boolean emailRefused;

    Outcome(int index, String op, String ref) {
        this.index = index;
        this.op = op;
        this.ref = ref;
    }

    static Outcome error(int index, String op, String ref, String id, String message) {
        Outcome outcome = new Outcome(index, op, ref);
        outcome.id = id;
        outcome.status = ERROR;
        outcome.error = message;
        return outcome;
    }

    /** {@code status} from whether anything was written. */
    Outcome changed(boolean changed) {
        if (status == null) {
            status = changed ? UPDATED : UNCHANGED;
        }
        return this;
    }

    Map<String, Object> json() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("index", index);
        json.put("op", op);
        if (ref != null) {
            json.put("ref", ref);
        }
        if (id != null) {
            json.put("id", id);
        }
        json.put("status", status);
        if (error != null) {
            json.put("error", error);
        }
        if (emailRefused) {
            json.put("emailRefused", true);
        }
        return json;
    }
}
