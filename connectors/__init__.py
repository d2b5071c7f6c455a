"""All I/O with Clever, Keycloak and LDAP: typed records in, typed records out, three kinds of error."""
