-- Keycloak's database in Debian's PostgreSQL, as scripts/services makes it for the tests:
--   sudo -u postgres psql -v password="'...'" -f postgresql-keycloak.sql
-- and in pg_hba.conf (TCP, scram-sha-256; the local admin stays peer):
--   host  keycloak  keycloak  127.0.0.1/32  scram-sha-256
SET password_encryption = 'scram-sha-256';
CREATE ROLE keycloak LOGIN PASSWORD :password;
CREATE DATABASE keycloak OWNER keycloak ENCODING 'UTF8';
