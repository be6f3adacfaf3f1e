-- Orleans' ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet 10.4.2, invariant "Npgsql")
-- on PostgreSQL, for the storage benchmark's baseline only. The package ships no SQL; this follows
-- the Orleans repository's src/AdoNet/Orleans.Persistence.AdoNet/PostgreSQL-Persistence.sql with its
-- 3.6.0 migration (modifiedon is timestamptz), so the baseline is measured as Orleans defines it:
-- a heap without a primary key behind a non-unique (grainidhash, graintypehash) index, one
-- plpgsql call per write.
--
-- The contract with AdoNetGrainStorage: at start it reads "SELECT QueryKey, QueryText FROM
-- OrleansQuery WHERE QueryKey = 'WriteToStorageKey' OR … 'ReadFromStorageKey' OR … 'ClearStorageKey'
-- OR … 'DeleteStorageKey'" and then runs only those texts. It binds @GrainIdHash, @GrainIdN0,
-- @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId,
-- @GrainStateVersion and @PayloadBinary by name and reads NewGrainStateVersion, PayloadBinary and
-- Version (a write whose returned version equals the one sent was refused).
--
-- Idempotent, and safe next to PresenceGrid's schema: OrleansQuery is shared with clustering
-- (src/PresenceGrid.Postgres/Schema/OrleansClustering.sql creates it with the same layout), so it is
-- created only when missing and only the four storage keys are written.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    grainidhash            integer                NOT NULL,
    grainidn0              bigint                 NOT NULL,
    grainidn1              bigint                 NOT NULL,
    graintypehash          integer                NOT NULL,
    graintypestring        character varying(512) NOT NULL,
    grainidextensionstring character varying(512) NULL,
    serviceid              character varying(150) NOT NULL,
    payloadbinary          bytea                  NULL,
    modifiedon             timestamptz            NOT NULL,
    version                integer                NULL
);

CREATE INDEX IF NOT EXISTS ix_orleansstorage ON OrleansStorage USING btree (grainidhash, graintypehash);

-- With an expected version: update that version of the row. Without: insert version 1 unless the
-- grain state has a row. Returns the new version, or the one passed in when nothing was written.
CREATE OR REPLACE FUNCTION writetostorage(
    _grainidhash integer,
    _grainidn0 bigint,
    _grainidn1 bigint,
    _graintypehash integer,
    _graintypestring character varying,
    _grainidextensionstring character varying,
    _serviceid character varying,
    _grainstateversion integer,
    _payloadbinary bytea)
RETURNS TABLE(newgrainstateversion integer)
LANGUAGE plpgsql
AS $function$
DECLARE
    _newgrainstateversion integer := _grainstateversion;
    _rows integer := 0;
BEGIN
    IF _grainstateversion IS NOT NULL THEN
        UPDATE OrleansStorage
           SET payloadbinary = _payloadbinary, modifiedon = now(), version = version + 1
         WHERE grainidhash = _grainidhash AND graintypehash = _graintypehash
           AND grainidn0 = _grainidn0 AND grainidn1 = _grainidn1
           AND graintypestring = _graintypestring
           AND grainidextensionstring IS NOT DISTINCT FROM _grainidextensionstring
           AND serviceid = _serviceid
           AND version = _grainstateversion;
        GET DIAGNOSTICS _rows = ROW_COUNT;
        IF _rows > 0 THEN
            _newgrainstateversion := _grainstateversion + 1;
        END IF;
    ELSE
        INSERT INTO OrleansStorage
            (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, modifiedon, version)
        SELECT _grainidhash, _grainidn0, _grainidn1, _graintypehash, _graintypestring, _grainidextensionstring, _serviceid, _payloadbinary, now(), 1
         WHERE NOT EXISTS (
            SELECT 1 FROM OrleansStorage
             WHERE grainidhash = _grainidhash AND graintypehash = _graintypehash
               AND grainidn0 = _grainidn0 AND grainidn1 = _grainidn1
               AND graintypestring = _graintypestring
               AND grainidextensionstring IS NOT DISTINCT FROM _grainidextensionstring
               AND serviceid = _serviceid);
        GET DIAGNOSTICS _rows = ROW_COUNT;
        IF _rows > 0 THEN
            _newgrainstateversion := 1;
        END IF;
    END IF;

    RETURN QUERY SELECT _newgrainstateversion AS newgrainstateversion;
END
$function$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('WriteToStorageKey', $q$
    SELECT * FROM writetostorage(@GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary);
$q$),
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, now() AS ModifiedOn, Version
      FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId;
$q$),
('ClearStorageKey', $q$
    UPDATE OrleansStorage
       SET PayloadBinary = NULL, Version = Version + 1
     WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
$q$),
('DeleteStorageKey', $q$
    DELETE FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
$q$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
