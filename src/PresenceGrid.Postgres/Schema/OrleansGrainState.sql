-- Grain state for PostgresGrainStorage (an Orleans IGrainStorage), one row per grain and state.
-- etag counts the row's writes and clears; a clear keeps the row as a tombstone (payload NULL,
-- etag advanced), so an ETag is never issued twice for the same grain state.
CREATE TABLE IF NOT EXISTS presencegrid_grain_state
(
    service_id text        NOT NULL,
    grain_type text        NOT NULL,
    grain_id   text        NOT NULL,
    state_name text        NOT NULL,
    etag       bigint      NOT NULL,
    payload    bytea       NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT presencegrid_grain_state_pk PRIMARY KEY (service_id, grain_type, grain_id, state_name),
    CONSTRAINT presencegrid_grain_state_etag_positive CHECK (etag > 0)
);
