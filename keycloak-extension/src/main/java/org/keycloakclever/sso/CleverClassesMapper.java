package org.keycloakclever.sso;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.keycloak.models.GroupModel;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.models.utils.ModelToRepresentation;
import org.keycloak.protocol.oidc.mappers.AbstractOIDCProtocolMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAccessTokenMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAttributeMapperHelper;
import org.keycloak.protocol.oidc.mappers.OIDCIDTokenMapper;
import org.keycloak.protocol.oidc.mappers.TokenIntrospectionTokenMapper;
import org.keycloak.protocol.oidc.mappers.UserInfoTokenMapper;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.representations.IDToken;

/**
 * A person's Clever classes and schools as two claims, for applications and LMSs behind Keycloak
 * (the optional client scope {@code clever-classes} that {@code keycloak-clever broker register} makes).
 *
 * <pre>
 * "clever_schools": [{"id": "&lt;school Clever id&gt;", "name": "Lincoln Elementary"}],
 * "clever_classes": [{"id": "&lt;section Clever id&gt;", "name": "Math 3 - Ms. Smith",
 *                     "school_id": "&lt;school Clever id&gt;", "role": "teacher" | "student",
 *                     "group": "/Clever/Lincoln Elementary/Classes/Math 3 - Ms. Smith"}]
 * </pre>
 *
 * It reads the groups the roster sync keeps ({@code /Clever/<School>/Classes/<class>} and
 * {@code /Clever/<School>/<Students|Teachers|Staff|Parents>}), found by their {@code clever_key}
 * attribute, never by name: {@code section:<id>} is a class, {@code school:<id>} a school,
 * {@code school:<id>:<role>} a role group. A class's {@code clever_teachers} attribute lists its
 * teachers' Clever ids, which tells a teacher from a student. Keycloak's own "Group Membership"
 * mapper cannot do this: it lists every group (no filter) and no group attribute, and the Clever
 * section id lives in the class group's {@code clever_id} attribute. Both lists are sorted (schools by
 * name, classes by school then name) so a token reads the same from one login to the next.
 */
public final class CleverClassesMapper extends AbstractOIDCProtocolMapper
        implements OIDCAccessTokenMapper, OIDCIDTokenMapper, UserInfoTokenMapper, TokenIntrospectionTokenMapper {

    public static final String PROVIDER_ID = "clever-classes-mapper";
    public static final String CLASSES_CLAIM = "clever_classes";
    public static final String SCHOOLS_CLAIM = "clever_schools";
    private static final List<ProviderConfigProperty> CONFIG = new ArrayList<>();

    static {
        OIDCAttributeMapperHelper.addIncludeInTokensConfig(CONFIG, CleverClassesMapper.class);
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getDisplayType() {
        return "Clever classes and schools";
    }

    @Override
    public String getDisplayCategory() {
        return TOKEN_MAPPER_CATEGORY;
    }

    @Override
    public String getHelpText() {
        return "The person's Clever classes (name, section id, school, teacher or student) and schools, "
                + "from the groups the keycloak-clever roster sync keeps, as clever_classes and clever_schools.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG;
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel mappingModel, UserSessionModel userSession) {
        UserModel user = userSession.getUser();
        String cleverId = user.getFirstAttribute("clever_id");
        Map<String, Map<String, Object>> schools = new TreeMap<>();
        Map<String, Map<String, Object>> classes = new TreeMap<>();
        user.getGroupsStream().forEach(group -> {
            String key = attribute(group, "clever_key");
            if (key.startsWith("section:")) {
                GroupModel school = grandparent(group);
                addSchool(schools, school);
                classes.put(sortKey(school) + "\u0000" + group.getName() + "\u0000" + key,
                        classOf(group, school, cleverId));
            } else if (key.startsWith("school:") && key.indexOf(':', "school:".length()) > 0) {
                addSchool(schools, group.getParentId() == null ? null : group.getParent());
            }
        });
        token.getOtherClaims().put(SCHOOLS_CLAIM, new ArrayList<>(schools.values()));
        token.getOtherClaims().put(CLASSES_CLAIM, new ArrayList<>(classes.values()));
    }

    private static Map<String, Object> classOf(GroupModel group, GroupModel school, String cleverId) {
        Map<String, Object> found = new LinkedHashMap<>();
        found.put("id", attribute(group, "clever_id"));
        found.put("name", group.getName());
        found.put("school_id", school == null ? "" : attribute(school, "clever_id"));
        boolean teaches = cleverId != null && group.getAttributeStream("clever_teachers").anyMatch(cleverId::equals);
        found.put("role", teaches ? "teacher" : "student");
        found.put("group", ModelToRepresentation.buildGroupPath(group));
        return found;
    }

    private static void addSchool(Map<String, Map<String, Object>> schools, GroupModel school) {
        if (school == null || !attribute(school, "clever_key").startsWith("school:")) {
            return;
        }
        Map<String, Object> found = new LinkedHashMap<>();
        found.put("id", attribute(school, "clever_id"));
        found.put("name", school.getName());
        schools.putIfAbsent(sortKey(school), found);
    }

    private static GroupModel grandparent(GroupModel group) {
        GroupModel classes = group.getParentId() == null ? null : group.getParent();
        return classes == null || classes.getParentId() == null ? null : classes.getParent();
    }

    private static String sortKey(GroupModel school) {
        return school == null ? "" : school.getName() + "\u0000" + school.getId();
    }

    private static String attribute(GroupModel group, String name) {
        String value = group.getFirstAttribute(name);
        return value == null ? "" : value;
    }
}
