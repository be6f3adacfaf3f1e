-- PresenceGrid's record of which schema parts a database holds, and at which version.
-- PostgresSchema creates it first, reads it, applies each part whose shipped version is not older
-- than the recorded one, and records what it applied, all in one transaction under an advisory lock.
CREATE TABLE IF NOT EXISTS presencegrid_schema
(
    part       text        NOT NULL,
    version    integer     NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT presencegrid_schema_pk PRIMARY KEY (part),
    CONSTRAINT presencegrid_schema_version_positive CHECK (version > 0)
);
