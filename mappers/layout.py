"""Where Clever data lands in Keycloak: attribute names, role names, the group tree.

Shared vocabulary of the broker (which declares these attributes in the realm's User Profile,
because Keycloak 24+ silently drops undeclared ones) and the sync (which writes them).
"""

from __future__ import annotations

from connectors.records import Role

IDP_ALIAS = "clever"

# User attributes the sync writes and the broker declares (admin-only, in the "Clever" group).
CLEVER_ATTRIBUTES: tuple[str, ...] = (
    "clever_id",
    "clever_role",
    "clever_roles",
    "clever_district",
    "clever_school_ids",
    "clever_sis_id",
    "clever_student_number",
    "clever_teacher_number",
    "clever_staff_id",
    "clever_state_id",
    "clever_grade",
    "clever_graduation_year",
    "clever_title",
    "clever_phone",
    "clever_phone_type",
    "clever_relationships",
    "clever_removed_at",
    "clever_unwritable",
)

# Clever role → realm role given to people of that role.
REALM_ROLES: dict[Role, str] = {
    Role.STUDENT: "clever-student",
    Role.TEACHER: "clever-teacher",
    Role.STAFF: "clever-staff",
    Role.DISTRICT_ADMIN: "clever-district-admin",
    Role.CONTACT: "clever-contact",
}

# The id_token's ``user_type`` claim values (Clever writes "district admin" with a space).
USER_TYPE_ROLES: dict[str, str] = {
    "student": "clever-student",
    "teacher": "clever-teacher",
    "staff": "clever-staff",
    "district admin": "clever-district-admin",
    "district_admin": "clever-district-admin",
    "contact": "clever-contact",
}
