-- Fewer bytes per keep-alive (issue 22): uplinks' key made compact, stored_at dropped, and room for the
-- rollups' in-place updates.
--
-- uplinks' primary key (dev_eui, received_at, dedup_key) took 84 bytes an entry and, written interleaved
-- across plugs, stayed about half full while its week was open (160 bytes per keep-alive; 96 once rebuilt).
-- The key is now a UNIQUE index on (device_key(dev_eui), received_at, hashtextextended(dedup_key, 0)): three
-- 8-byte numbers, 36 bytes an entry (37 per keep-alive once its week is rebuilt, 61 while open).
--  - device_key is the DevEUI's 64 bits as a bigint: exact, one plug one key, for every DevEUI stored (16
--    lowercase hex digits: devices' CHECK, which ingest_batch passes first).
--  - The message id (TTS `as:up:` ULID, ChirpStack deduplication id, else `fcnt:<f_cnt>:<payload>`) enters as
--    its 64-bit hash. Two different uplinks are taken for one only if they are of the same plug, at the same
--    microsecond, and their ids' hashes are equal: a plug cannot send twice in a microsecond, and were it to,
--    the chance of equal hashes is 2^-64. The id itself stays in the row.
--  - A plug's uplinks in time order are the index's leading columns. They are read through
--    plug_uplinks(dev_eui) (device_keepalive, uplink_airtime_seconds, webhook/keepalive), an SQL function the
--    planner inlines, so that its reads follow whichever index the table has: by dev_eui while the old primary
--    key still serves them, by device_key once it is gone.
--
-- An existing database converts without holding a write-blocking lock on a large table: the new index is
-- made ON ONLY the partitioned table (catalogue only), the smallest partitions, up to 16 MB together, get
-- theirs here (a moment's lock), and the maintenance pass (webhook/db/partitions.ts, at start-up) builds the
-- rest CONCURRENTLY and attaches them. Meanwhile the old primary key still deduplicates and serves the
-- per-plug reads; once the new index is valid on every partition the pass (or this migration, when no
-- partition was large) drops it. Partitions made later get the new index from the table.
--
-- stored_at was written and never read: dropped (a catalogue change; 8 bytes of every new row).
-- readings_hourly is updated in place by every keep-alive: a fillfactor leaves room on its pages for the new
-- row versions, so the updates stay HOT (no new index entries, pruned on the page).

CREATE FUNCTION device_key(dev_eui text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN dev_eui ~ '^[0-9a-f]{16}$' THEN ('x' || dev_eui)::bit(64)::bigint END
$$;

-- A plug's uplinks (any order: the caller's ORDER BY and LIMIT reach the index scans once inlined). Until
-- the old primary key is dropped, by dev_eui (its leading column); uplinks_drop_old_key() then redefines it.
CREATE FUNCTION plug_uplinks(device text) RETURNS SETOF uplinks
LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT * FROM uplinks u WHERE u.dev_eui = device $$;

-- The parent indexes a partition of `tab` lacks, as (parent index, definition for the partition, its name).
CREATE FUNCTION partition_indexes_missing(tab regclass)
RETURNS TABLE (parent_index regclass, part regclass, index_name text, definition text)
LANGUAGE sql STABLE AS $$
  SELECT pi.indexrelid::regclass, c.oid::regclass,
    -- <partition>_<parent index name without its table's name>, as PostgreSQL names clones.
    left(c.relname || substr(pc.relname, length(t.relname) + 1), 63),
    regexp_replace(pg_get_indexdef(pi.indexrelid), '^(CREATE (UNIQUE )?INDEX) \S+ ON ONLY \S+ ', '\1 %I ON %I.%I ')
  FROM pg_index pi
  JOIN pg_class pc ON pc.oid = pi.indexrelid
  JOIN pg_class t ON t.oid = pi.indrelid
  JOIN pg_inherits ih ON ih.inhparent = pi.indrelid
  JOIN pg_class c ON c.oid = ih.inhrelid
  WHERE pi.indrelid = tab AND NOT pi.indisvalid
    AND NOT EXISTS (SELECT 1 FROM pg_inherits ii JOIN pg_index ci ON ci.indexrelid = ii.inhrelid
                    WHERE ii.inhparent = pi.indexrelid AND ci.indrelid = c.oid)
$$;

-- uplinks_pkey dropped once uplinks_key, which takes its place, is valid on every partition. Returns whether it did.
CREATE FUNCTION uplinks_drop_old_key() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'uplinks'::regclass AND conname = 'uplinks_pkey')
     AND EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = 'uplinks'::regclass AND i.indisvalid AND c.relname = 'uplinks_key') THEN
    ALTER TABLE uplinks DROP CONSTRAINT uplinks_pkey;
    CREATE OR REPLACE FUNCTION plug_uplinks(device text) RETURNS SETOF uplinks
    LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT * FROM uplinks u WHERE device_key(u.dev_eui) = device_key(device)';
    RETURN true;
  END IF;
  RETURN false;
END
$$;

DO $$
DECLARE
  m record;
BEGIN
  -- A table made a TimescaleDB hypertable (README, "A larger fleet") keeps its own indexes.
  IF (SELECT relkind FROM pg_class WHERE oid = 'uplinks'::regclass) <> 'p' THEN
    RETURN;
  END IF;
  ALTER TABLE uplinks DROP COLUMN IF EXISTS stored_at;
  CREATE UNIQUE INDEX IF NOT EXISTS uplinks_key ON ONLY uplinks (device_key(dev_eui), received_at, hashtextextended(dedup_key, 0));
  -- The smallest partitions first, while together they hold less than 16 MB: this transaction holds uplinks
  -- locked (the column dropped, the index made) for as long as their builds take, a fraction of a second.
  FOR m IN WITH missing AS (SELECT * FROM partition_indexes_missing('uplinks')),
             parts AS (SELECT d.part, sum(pg_relation_size(d.part)) OVER (ORDER BY pg_relation_size(d.part), d.part::oid) AS upto
                       FROM (SELECT DISTINCT x.part FROM missing x) d)
           SELECT x.*, n.nspname, c.relname FROM missing x JOIN parts p ON p.part = x.part
           JOIN pg_class c ON c.oid = x.part JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE p.upto < 16 * 1024 * 1024 LOOP
    EXECUTE format(m.definition, m.index_name, m.nspname, m.relname);
    EXECUTE format('ALTER INDEX %s ATTACH PARTITION %I.%I', m.parent_index, m.nspname, m.index_name);
  END LOOP;
  PERFORM uplinks_drop_old_key();
END
$$;

-- 75 measured best (bench:storage's load: readings_hourly 52 bytes a keep-alive at 100 and at 90, 48 at 85,
-- 44 at 80 and 70, 43 at 75, 55 at 50; a plug-hour's live row is 26): pages left with room take an hour's
-- updates HOT, and a fuller page sends some to other pages, leaving dead versions and index entries. A
-- catalogue change: pages written from now on keep the room.
ALTER TABLE readings_hourly SET (fillfactor = 75);

-- Migration 013's view and function, reading a plug's uplinks through plug_uplinks.
CREATE OR REPLACE VIEW device_keepalive AS
SELECT d.dev_eui, d.name, d.application, d.network,
  k.minutes AS desired_minutes,
  d.keepalive_minutes AS reported_minutes,
  keepalive_state(k.minutes, d.keepalive_minutes, k.failed_at) AS state,
  coalesce(k.attempts, 0) AS attempts,
  k.requested_at, k.last_downlink_id, k.last_downlink_at, k.next_attempt_at, k.failed_at, k.error,
  r.spreading_factor, r.bandwidth_hz,
  p.minutes AS period_minutes,
  t.ms AS keepalive_ms,
  1440.0 / p.minutes * t.ms / 1000 AS seconds_per_day,
  t.ms / 1000 / 0.01 / 60 AS min_minutes_duty_cycle,
  1440 * t.ms / 1000 / 30 AS min_minutes_fair_use,
  k.mode,
  k.target AS target_minutes,
  k.reason
FROM devices d
LEFT JOIN keepalive_desired k ON k.dev_eui = d.dev_eui
LEFT JOIN LATERAL (
  SELECT u.spreading_factor, u.bandwidth_hz FROM (
    SELECT u.spreading_factor, coalesce(u.bandwidth_hz, 125000) AS bandwidth_hz FROM plug_uplinks(d.dev_eui) u
    WHERE u.spreading_factor IS NOT NULL AND NOT u.simulated
    ORDER BY u.received_at DESC LIMIT 10
  ) u ORDER BY lora_time_on_air_ms(25, u.spreading_factor, u.bandwidth_hz) DESC LIMIT 1
) r ON true
CROSS JOIN LATERAL (SELECT coalesce(nullif(d.keepalive_minutes, 0), 10) AS minutes) p
CROSS JOIN LATERAL (SELECT lora_time_on_air_ms(25, r.spreading_factor, r.bandwidth_hz) AS ms) t;

CREATE OR REPLACE FUNCTION uplink_airtime_seconds(device text, since timestamptz, until timestamptz) RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum(lora_time_on_air_ms(coalesce(length(u.payload), 0) + 13, u.spreading_factor, coalesce(u.bandwidth_hz, 125000))), 0) / 1000
  FROM plug_uplinks(device) u
  WHERE u.received_at > since AND u.received_at <= until
    AND u.spreading_factor IS NOT NULL AND NOT u.simulated
$$;
