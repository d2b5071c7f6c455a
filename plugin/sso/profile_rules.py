"""The User Profile validators of the fields the sync owns: ``firstName``, ``lastName``, ``email``.

Keycloak's default User Profile refuses real SIS names: ``person-name-prohibited-characters``
turns away ``#Hash``, ``Zoë =Equals;Semi``, ``Tag\\Back`` with a 400, and the person would get no
account at all. The sync owns these three fields (Clever, through the district's SIS, is their
source), so ``ensure_user_profile`` (``plugin.sso.broker``) sets their validators to exactly
``OWNED_VALIDATIONS`` and drops any other rule on them (an admin's pattern would drop people too):

* ``firstName``/``lastName``: only ``length`` 0..255. 255 is Keycloak's hard limit (the
  column); a longer Clever name is stored cut at 255 and kept whole in ``clever_first_name`` /
  ``clever_last_name`` (``mappers.name_fit``), with one warning in the run's report.
* ``email``: Keycloak's ``email`` check and ``length`` 0..255 stay: an address Keycloak would not
  accept is no address to send a password reset to. Such an address is kept in ``clever_email``.

Why dropping the character rule is safe: Keycloak's pages escape every value they show
(FreeMarker auto-escaping), the values come from the district's SIS through the roster sync (not
from people typing), and the names' *permissions* (who may edit them) are left as they are.
Only ``validations`` are touched here, so a change of the permissions merges with this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NAME_MAX = 255  # Keycloak's limit for firstName, lastName and email
OWNED_VALIDATIONS: dict[str, dict[str, Any]] = {
    "firstName": {"length": {"max": NAME_MAX}},
    "lastName": {"length": {"max": NAME_MAX}},
    "email": {"email": {}, "length": {"max": NAME_MAX}},
}


def own_validations(by_name: Mapping[str, dict[str, Any]]) -> None:
    """Set the validators of the sync's fields in a User Profile's attributes (by name), in place."""
    for name, validations in OWNED_VALIDATIONS.items():
        attribute = by_name.get(name)
        if attribute is not None:
            attribute["validations"] = {rule: dict(config) for rule, config in validations.items()}
