namespace PresenceGrid.Runtime.Postgres;

/// <summary>
/// The cluster schema's migrations, applied in order under an advisory lock and recorded in
/// <c>schema_version</c>. Each one is also idempotent on its own. Never edit a shipped migration:
/// append a new one.
/// </summary>
internal static class PostgresSchema
{
    public static IReadOnlyList<string> Migrations { get; } =
    [
        // 1: membership, directory, state.
        """
        CREATE TABLE IF NOT EXISTS cluster_version (
            id boolean PRIMARY KEY DEFAULT true CHECK (id),
            version bigint NOT NULL DEFAULT 0,
            changed_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO cluster_version DEFAULT VALUES ON CONFLICT DO NOTHING;

        CREATE SEQUENCE IF NOT EXISTS silo_epoch;

        -- status: 1 joining, 2 active, 3 leaving, 4 dead (terminal). lease_ms is the lease the silo
        -- last asked for; declare-dead uses it for the postmaster-restart guard.
        CREATE TABLE IF NOT EXISTS silo (
            silo_id text NOT NULL,
            epoch bigint NOT NULL,
            name text NOT NULL,
            http_endpoint text,
            status smallint NOT NULL CHECK (status BETWEEN 1 AND 4),
            lease_until timestamptz NOT NULL,
            lease_ms integer NOT NULL,
            started_at timestamptz NOT NULL DEFAULT now(),
            died_at timestamptz,
            PRIMARY KEY (silo_id, epoch)) WITH (fillfactor = 70);

        CREATE TABLE IF NOT EXISTS grain_directory (
            grain_id text PRIMARY KEY,
            silo_id text NOT NULL,
            silo_epoch bigint NOT NULL,
            activation_id uuid NOT NULL,
            registered_at timestamptz NOT NULL DEFAULT now());
        CREATE INDEX IF NOT EXISTS grain_directory_silo ON grain_directory (silo_id, silo_epoch);

        -- data IS NULL marks a cleared record (a tombstone): the row and its etag live on, so an
        -- etag is never reused for the same grain and state.
        CREATE TABLE IF NOT EXISTS grain_state (
            grain_id text COLLATE "C" NOT NULL,
            state_name text COLLATE "C" NOT NULL,
            etag bigint NOT NULL,
            data bytea,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (grain_id, state_name)) WITH (fillfactor = 85);

        CREATE OR REPLACE FUNCTION cluster_version_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify(TG_TABLE_SCHEMA || '_members', NEW.version::text);
            RETURN NULL;
        END $$;
        DROP TRIGGER IF EXISTS cluster_version_notify ON cluster_version;
        CREATE TRIGGER cluster_version_notify AFTER UPDATE ON cluster_version
            FOR EACH ROW EXECUTE FUNCTION cluster_version_notify();
        """,
    ];
}
