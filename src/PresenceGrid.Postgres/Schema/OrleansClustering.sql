-- Part "orleans-clustering", version 1: the tables and queries behind Orleans' ADO.NET clustering
-- (Microsoft.Orleans.Clustering.AdoNet, invariant "Npgsql") on PostgreSQL.
--
-- The contract with Orleans (the package ships no scripts):
--   * At start each provider runs "SELECT QueryKey, QueryText FROM OrleansQuery" and from then on
--     runs only the texts it finds there, by key. Every key below but CleanupDefunctSiloEntryKey
--     (which Orleans 10.4 uses when present) must be present.
--   * It binds parameters by name (@DeploymentId, @Address, @Port, @Generation, @SiloName,
--     @HostName, @Status, @ProxyPort, @SuspectTimes, @StartTime, @IAmAliveTime, @Version) and reads
--     result columns by name (DeploymentId, Address, Port, Generation, SiloName, HostName, Status,
--     ProxyPort, SuspectTimes, StartTime, IAmAliveTime, Version), so those names are fixed; the
--     table layout behind them is ours. Every row's etag is the table version it was read at.
--   * Conditional writes return one row with one integer column: 1 when done, 0 when refused, and
--     a refused write changes nothing.
--   * The membership protocol is optimistic: each cluster (DeploymentId) has one version row, and
--     a silo's row may only be inserted or changed together with a bump of that version, by a
--     writer that read the version it names.
--
-- Everything here is idempotent: safe to run again on a database that has it, at any time.
-- Tables and functions live in the first schema of the connection's search_path, where Orleans'
-- unqualified queries find them.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT OrleansQuery_Key PRIMARY KEY (QueryKey)
);

-- One row per cluster: the version every membership change bumps.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId text           NOT NULL,
    Timestamp    timestamptz(3) NOT NULL DEFAULT now(),
    Version      integer        NOT NULL DEFAULT 0,

    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address, port, generation) of a cluster. Status is Orleans'
-- SiloStatus: 0 None, 1 Created, 2 Joining, 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead.
-- SuspectTimes is Orleans' own encoding of the votes against the silo ("silo,time|silo,time").
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId text           NOT NULL,
    Address      varchar(45)    NOT NULL,
    Port         integer        NOT NULL,
    Generation   integer        NOT NULL,
    SiloName     text           NOT NULL,
    HostName     text           NOT NULL,
    Status       integer        NOT NULL,
    ProxyPort    integer        NULL,
    SuspectTimes text           NULL,
    StartTime    timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,

    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Locks the cluster's version row when it still holds the version the caller read: true if it
-- does (the lock is held to the end of the transaction), false if a concurrent writer moved it on.
CREATE OR REPLACE FUNCTION presencegrid_membership_lock_version(p_deployment_id text, p_version integer)
RETURNS boolean
LANGUAGE plpgsql
AS $function$
BEGIN
    PERFORM 1
    FROM OrleansMembershipVersionTable
    WHERE DeploymentId = p_deployment_id AND Version = p_version
    FOR UPDATE;
    RETURN FOUND;
END
$function$;

-- Moves the cluster's version on (its row is locked by presencegrid_membership_lock_version).
CREATE OR REPLACE FUNCTION presencegrid_membership_bump_version(p_deployment_id text)
RETURNS void
LANGUAGE sql
AS $function$
    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = p_deployment_id;
$function$;

-- Adds a silo's row and bumps the cluster version, both or neither. The version row is locked
-- first, and only when it still holds the version the caller read, so a concurrent writer either
-- waits here or has already moved the version on (then this returns 0). A row that already exists
-- returns 0 before anything is bumped.
CREATE OR REPLACE FUNCTION presencegrid_membership_insert(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_silo_name      text,
    p_host_name      text,
    p_status         integer,
    p_proxy_port     integer,
    p_start_time     timestamptz,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
AS $function$
BEGIN
    IF NOT presencegrid_membership_lock_version(p_deployment_id, p_version) THEN
        RETURN 0;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (p_deployment_id, p_address, p_port, p_generation, p_silo_name, p_host_name, p_status, p_proxy_port, p_start_time, p_i_am_alive)
    ON CONFLICT ON CONSTRAINT PK_MembershipTable_DeploymentId DO NOTHING;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    PERFORM presencegrid_membership_bump_version(p_deployment_id);
    RETURN 1;
END
$function$;

-- Changes a silo's status, votes and liveness time and bumps the cluster version, both or
-- neither, under the same rule as the insert.
CREATE OR REPLACE FUNCTION presencegrid_membership_update(
    p_deployment_id  text,
    p_address        text,
    p_port           integer,
    p_generation     integer,
    p_status         integer,
    p_suspect_times  text,
    p_i_am_alive     timestamptz,
    p_version        integer)
RETURNS integer
LANGUAGE plpgsql
AS $function$
BEGIN
    IF NOT presencegrid_membership_lock_version(p_deployment_id, p_version) THEN
        RETURN 0;
    END IF;

    UPDATE OrleansMembershipTable
    SET Status = p_status, SuspectTimes = p_suspect_times, IAmAliveTime = p_i_am_alive
    WHERE DeploymentId = p_deployment_id
      AND Address = p_address AND Port = p_port AND Generation = p_generation;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    PERFORM presencegrid_membership_bump_version(p_deployment_id);
    RETURN 1;
END
$function$;

-- The query rows. A row whose text differs from the shipped one is overwritten; an equal one is
-- left untouched (no dead tuple on every silo start).
INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
(
    -- Creates the cluster's version row unless it exists: 1 if this call created it.
    'InsertMembershipVersionKey', $query$
    WITH created AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId)
        VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING
        RETURNING 1)
    SELECT count(*)::integer FROM created;
    $query$
),
(
    'InsertMembershipKey', $query$
    SELECT presencegrid_membership_insert(
        @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);
    $query$
),
(
    'UpdateMembershipKey', $query$
    SELECT presencegrid_membership_update(
        @DeploymentId, @Address, @Port, @Generation,
        @Status, @SuspectTimes, @IAmAliveTime, @Version);
    $query$
),
(
    -- The liveness heartbeat: not versioned, and Orleans ignores its outcome.
    'UpdateIAmAlivetimeKey', $query$
    UPDATE OrleansMembershipTable
    SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address AND Port = @Port AND Generation = @Generation;
    $query$
),
(
    -- The version row always comes back (joined to the silo's row when there is one), so the
    -- reader learns the version even for a silo that has no row yet.
    'MembershipReadRowKey', $query$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable AS v
    LEFT JOIN OrleansMembershipTable AS m
           ON m.DeploymentId = v.DeploymentId
          AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    WHERE v.DeploymentId = @DeploymentId;
    $query$
),
(
    'MembershipReadAllKey', $query$
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status,
           m.ProxyPort, m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable AS v
    LEFT JOIN OrleansMembershipTable AS m ON m.DeploymentId = v.DeploymentId
    WHERE v.DeploymentId = @DeploymentId;
    $query$
),
(
    -- Clients ask for the gateways of active silos (@Status is Active).
    'GatewaysQueryKey', $query$
    SELECT Address, ProxyPort, Generation
    FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
    $query$
),
(
    -- Forgets a whole cluster: its silos first (they reference the version row), then the version.
    'DeleteMembershipTableEntriesKey', $query$
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
    $query$
),
(
    -- Drops the rows of Dead silos whose last sign of life is older than @IAmAliveTime. Required
    -- by every provider version; Orleans 10.4 runs it only when CleanupDefunctSiloEntryKey is absent.
    'CleanupDefunctSiloEntriesKey', $query$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND Status = 6
      AND IAmAliveTime < @IAmAliveTime AND StartTime < @IAmAliveTime;
    $query$
),
(
    -- Orleans 10.4 picks the Dead rows to drop itself (from a full read) and deletes each one
    -- with this, only if the row is still exactly as it read it: a row that changed since (a new
    -- vote, a heartbeat) stays.
    'CleanupDefunctSiloEntryKey', $query$
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId
      AND Address = @Address AND Port = @Port AND Generation = @Generation
      AND Status = 6
      AND StartTime = @StartTime AND IAmAliveTime = @IAmAliveTime
      AND SuspectTimes IS NOT DISTINCT FROM @SuspectTimes;
    $query$
)
ON CONFLICT (QueryKey) DO UPDATE
SET QueryText = EXCLUDED.QueryText
WHERE OrleansQuery.QueryText IS DISTINCT FROM EXCLUDED.QueryText;
