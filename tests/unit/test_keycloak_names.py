"""Names of LDAP-federated accounts read past Keycloak's default "first name from cn" mapper."""

from __future__ import annotations

from connectors.keycloak_people import LdapProvider, person_names

FROM_CN = {
    "ldap-cn": LdapProvider("READ_ONLY", first_name_from_cn=True),
    "ldap-given": LdapProvider("WRITABLE"),
}


def _names(first: str, last: str, federation: str = "ldap-cn") -> tuple[str, str]:
    return person_names({"firstName": first, "lastName": last, "federationLink": federation}, FROM_CN)


def test_the_last_name_at_the_end_of_a_cn_first_name_is_dropped() -> None:
    assert _names("Liam Martin", "Martin") == ("Liam", "Martin")
    assert _names("Mary  Ann van der Berg", "Van der Berg") == ("Mary Ann", "Van der Berg")
    assert _names("José García‑López", "garcia-lopez") == ("José", "garcia-lopez")  # compared normalized


def test_other_names_are_left_as_they_are() -> None:
    assert _names("Martin", "Martin") == ("Martin", "Martin")  # nothing would be left
    assert _names("Liam Martinez", "Martin") == ("Liam Martinez", "Martin")
    assert _names("Liam Martin", "Martin", "ldap-given") == ("Liam Martin", "Martin")  # mapper not on cn
    assert _names("Liam Martin", "Martin", "") == ("Liam Martin", "Martin")  # a local account
