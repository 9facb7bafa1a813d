-- Heartbeat table for pgrepl_exporter --heartbeat. Run once on the primary
-- as a superuser or the database owner; it replicates to every standby.
-- Replace pgrepl_monitor with your monitoring role.
--
-- One row per exporter (its --heartbeat.id, the host name by default).
-- Each poll updates that row: about 150 bytes of WAL per poll, one dead
-- tuple that HOT pruning reclaims, and no table growth.
CREATE TABLE IF NOT EXISTS public.pgrepl_heartbeat (
  exporter   text PRIMARY KEY,
  seq        bigint NOT NULL,
  written_at timestamptz NOT NULL
);
-- The monitoring role needs nothing beyond pg_monitor except this:
GRANT SELECT, INSERT, UPDATE ON public.pgrepl_heartbeat TO pgrepl_monitor;
