#!/usr/bin/env bash
# primary-init.sh - roles and heartbeat table of the primary.
#
# The postgres image runs it from /docker-entrypoint-initdb.d once, right
# after initdb, against its temporary server on the Unix socket. It is
# idempotent: run it again by hand (kubectl exec ... -- /scripts/primary-init.sh)
# to apply changed passwords from the Secret.
#
# Creates:
#   streaming_replication     NOLOGIN group; pg_hba.conf allows its members
#                             replication connections and nothing else
#   $POSTGRES_REPLICATION_USER  LOGIN REPLICATION, member of the group
#   $PGREPL_USER              LOGIN, pg_monitor only (pgrepl_exporter)
#   public.pgrepl_heartbeat   as docs/heartbeat.sql, in $PGREPL_DATABASE
#   postgres_user, app_db     the applications' role (pg_read_all_stats)
#                             and database (its own block, at the end)
# The physical slots are created by the replicas (replica-bootstrap.sh).
#
# Environment:
#   POSTGRES_REPLICATION_USER      default replicator
#   POSTGRES_REPLICATION_PASSWORD  required
#   PGREPL_USER                    default pgrepl_monitor
#   PGREPL_PASSWORD                required, or PGREPL_PASSWORD_FILE
#   PGREPL_DATABASE                default postgres
#   POSTGRES_USER                  superuser to connect as, default postgres
#   POSTGRES_PASSWORD              required: postgres_user's password
#   PGHOST, PGPORT                 libpq's; default the local socket
#
# Passwords travel only in the environment: psql reads them with \getenv
# and quotes them as literals (:'var'); they are never part of a command
# line or of SQL text made by the shell, and statement logging is off for
# this session so the server log never shows them.
set -euo pipefail

die() { printf 'primary-init.sh: error: %s\n' "$*" >&2; exit 1; }

export POSTGRES_REPLICATION_USER=${POSTGRES_REPLICATION_USER:-replicator}
export PGREPL_USER=${PGREPL_USER:-pgrepl_monitor}
[[ -n ${POSTGRES_REPLICATION_PASSWORD:-} ]] || die "POSTGRES_REPLICATION_PASSWORD is not set"
if [[ -z ${PGREPL_PASSWORD:-} && -n ${PGREPL_PASSWORD_FILE:-} ]]; then
    PGREPL_PASSWORD=$(<"$PGREPL_PASSWORD_FILE")
    export PGREPL_PASSWORD
fi
[[ -n ${PGREPL_PASSWORD:-} ]] || die "PGREPL_PASSWORD (or PGREPL_PASSWORD_FILE) is not set"
[[ $POSTGRES_REPLICATION_USER != "$PGREPL_USER" ]] ||
    die "the replication and monitoring roles must differ"

psql -X -q --no-password -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" \
    --dbname "${PGREPL_DATABASE:-postgres}" <<'SQL'
\getenv repl_user POSTGRES_REPLICATION_USER
\getenv repl_password POSTGRES_REPLICATION_PASSWORD
\getenv mon_user PGREPL_USER
\getenv mon_password PGREPL_PASSWORD

-- Nothing below may reach the server log with a password in it.
SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
SET client_min_messages = 'warning';

-- Replication: connections for WAL streaming and base backups only.
SELECT 'CREATE ROLE streaming_replication NOLOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'streaming_replication')
\gexec
SELECT format('CREATE ROLE %I', :'repl_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'repl_user')
\gexec
ALTER ROLE :"repl_user" WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB
  NOCREATEROLE NOINHERIT NOBYPASSRLS PASSWORD :'repl_password';
GRANT streaming_replication TO :"repl_user";

-- Monitoring: pgrepl_exporter needs pg_monitor and nothing else.
SELECT format('CREATE ROLE %I', :'mon_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'mon_user')
\gexec
ALTER ROLE :"mon_user" WITH LOGIN NOREPLICATION NOSUPERUSER NOCREATEDB
  NOCREATEROLE INHERIT NOBYPASSRLS PASSWORD :'mon_password';
GRANT pg_monitor TO :"mon_user";

-- Heartbeat for pgrepl_exporter --heartbeat (docs/heartbeat.sql).
CREATE TABLE IF NOT EXISTS public.pgrepl_heartbeat (
  exporter   text PRIMARY KEY,
  seq        bigint NOT NULL,
  written_at timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON public.pgrepl_heartbeat TO :"mon_user";
SQL
printf 'primary-init.sh: roles %s (replication) and %s (monitoring) ready\n' \
    "$POSTGRES_REPLICATION_USER" "$PGREPL_USER"

# ------------------------------------------------ application role and database
# The platform's contract with its applications (docs/application.md):
# role postgres_user, password POSTGRES_PASSWORD (Secret
# postgres-credentials), owning database app_db. Not a superuser; it reads
# every column of pg_stat_replication and pg_stat_activity through
# pg_read_all_stats (without it, the seed's check
#   kubectl exec -it postgres-primary-0 -- psql -U postgres_user -d app_db \
#     -c "SELECT * FROM pg_stat_replication;"
# shows NULL for state, LSNs and lags). pg_hba.conf lets it in over the
# pod's Unix socket with its password. A block of its own: the roles above
# do not depend on it.
[[ -n ${POSTGRES_PASSWORD:-} ]] || die "POSTGRES_PASSWORD is not set (the application role's password)"
psql -X -q --no-password -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" \
    --dbname "${PGREPL_DATABASE:-postgres}" <<'SQL'
\getenv app_password POSTGRES_PASSWORD

SET log_statement = 'none';
SET log_min_duration_statement = -1;
SET log_min_error_statement = 'panic';
SET password_encryption = 'scram-sha-256';
SET client_min_messages = 'warning';

SELECT 'CREATE ROLE postgres_user'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres_user')
\gexec
ALTER ROLE postgres_user WITH LOGIN NOREPLICATION NOSUPERUSER NOCREATEDB
  NOCREATEROLE INHERIT NOBYPASSRLS PASSWORD :'app_password';
GRANT pg_read_all_stats TO postgres_user;
SELECT 'CREATE DATABASE app_db OWNER postgres_user'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'app_db')
\gexec
ALTER DATABASE app_db OWNER TO postgres_user;
SQL
printf 'primary-init.sh: application role postgres_user and database app_db ready\n'
# ------------------------------------------------ end of application block
