package org.keycloakclever.sync;

import java.util.regex.Pattern;

import org.keycloak.models.FederatedIdentityModel;

/**
 * Who owns an account: the one rule the extension reads, as the sidecar's
 * {@code model/ownership.py} reads it (both run on {@code tests/ownership_cases.json}).
 *
 * <p>An account belongs to a Clever person if and only if it carries the <em>owned link</em>: the
 * {@code clever} federated identity link whose {@code userId} is the person's Clever id and whose
 * {@code userName} is {@link #MARK} followed by that id. The {@code clever_id} attribute, a link
 * without the mark, and the sidecar's memory in Redis are never evidence. The link's userName is
 * written in the same call as the link, is accepted on READ_ONLY directory accounts, and is only
 * rewritten by Keycloak at a login through a provider in sync mode FORCE (which
 * {@link OwnershipGuardMapper} refuses).
 */
public final class Ownership {

    public static final String ALIAS = "clever";
    public static final String MARK = "clever-sync:";
    private static final Pattern CLEVER_ID = Pattern.compile("\\S+");

    private Ownership() {}

    /** The Clever id that owns an account through this link, or "" (not an owned link). */
    public static String ownerOf(String alias, String userId, String userName) {
        if (!ALIAS.equals(alias) || userId == null || !CLEVER_ID.matcher(userId).matches()) {
            return "";
        }
        return (MARK + userId).equals(userName) ? userId : "";
    }

    /** {@link #ownerOf(String, String, String)} of a link as the model holds it; "" for none. */
    public static String ownerOf(FederatedIdentityModel link) {
        return link == null ? "" : ownerOf(link.getIdentityProvider(), link.getUserId(), link.getUserName());
    }

    /** The owned link of {@code cleverId}. */
    public static FederatedIdentityModel ownedLink(String cleverId) {
        return new FederatedIdentityModel(ALIAS, cleverId, MARK + cleverId);
    }
}
