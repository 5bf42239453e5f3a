-- Fewer bytes per keep-alive (issue 22): uplinks keyed by time, a compact per-plug index, stored_at dropped,
-- and room for the rollups' in-place updates.
--
-- uplinks' primary key (dev_eui, received_at, dedup_key) took 84 bytes an entry and, written interleaved
-- across plugs, stayed about half full while its week was open (160 bytes per keep-alive; 96 once rebuilt).
-- Its two jobs are now two indexes:
--  - uniqueness: a UNIQUE index on (received_at, dedup_key). Entries arrive in time order, so they append
--    to the right edge and pages fill up. The network's message ids are unique on their own (TTS `as:up:`
--    ULIDs, ChirpStack deduplication ids, hashes of bodies that hold the DevEUI); the fallback key of an
--    uplink without one carries the plug's DevEUI from now on (`fcnt:<dev_eui>:<f_cnt>:<payload>`, written
--    by webhook/store/batch.ts), so no two plugs' uplinks can share a key. ingest_batch below also finds a
--    retry of an uplink stored before this migration under the old form `fcnt:<f_cnt>:<payload>`.
--  - a plug's uplinks in time order: (device_key(dev_eui), received_at), 28 bytes an entry (the DevEUI's 64
--    bits as a bigint instead of its 17 bytes of text, a rebuilt index a third smaller). Every DevEUI
--    stored is 16 lowercase hex digits (devices' CHECK, which ingest_batch passes first), for which the key
--    is exact: one plug, one key. A plug's uplinks are read through plug_uplinks(dev_eui) (device_keepalive,
--    uplink_airtime_seconds, webhook/keepalive), an SQL function the planner inlines, so that its reads
--    follow whichever index the table has: by dev_eui while the old primary key still serves them, by
--    device_key once it is gone.
--
-- An existing database converts without holding a write-blocking lock on a large table: the new indexes
-- are made ON ONLY the partitioned table (catalogue only), the smallest partitions, up to 16 MB together, get
-- theirs here (a moment's lock), and the maintenance pass (webhook/db/partitions.ts, at start-up) builds the
-- rest CONCURRENTLY and attaches them. Meanwhile the old primary key still deduplicates and serves the
-- per-plug reads; once both new indexes are valid on every partition the pass (or this migration, when no
-- partition was large) drops it. Partitions made later get all three indexes from the table.
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

-- uplinks_pkey dropped once the indexes that take its place are valid on every partition. Returns whether it did.
CREATE FUNCTION uplinks_drop_old_key() RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'uplinks'::regclass AND conname = 'uplinks_pkey')
     AND (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = 'uplinks'::regclass AND i.indisvalid AND c.relname IN ('uplinks_time_key', 'uplinks_device_time')) = 2 THEN
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
  CREATE UNIQUE INDEX IF NOT EXISTS uplinks_time_key ON ONLY uplinks (received_at, dedup_key);
  CREATE INDEX IF NOT EXISTS uplinks_device_time ON ONLY uplinks (device_key(dev_eui), received_at);
  -- The smallest partitions first, while together they hold less than 16 MB: this transaction holds uplinks
  -- locked (the column dropped, the indexes made) for as long as their builds take, a fraction of a second.
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

-- ingest_batch (migration 011) with the one change above: an uplink whose key is the fallback
-- `fcnt:<dev_eui>:<f_cnt>:<payload>` is also a duplicate of a row stored before this migration under
-- `fcnt:<f_cnt>:<payload>` (an index probe, for such uplinks only). The rest is as before.
CREATE OR REPLACE FUNCTION ingest_batch(device_rows jsonb, uplink_rows jsonb, reading_rows jsonb, event_rows jsonb) RETURNS integer[]
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  new_uplinks integer[];
  new_events integer[];
  rolled_up text[];
  spans rollup_span[];
  late jsonb;
BEGIN
  -- A device's row with its state: the device's own activity in the batch (uplinks that are not simulated,
  -- joins; last_seen is null without any). A later report wins; an older one (a late uplink) only fills
  -- in what is missing. Readings, message events and device state do not depend on whether their uplink
  -- was new: a duplicate's reading and events conflict with the ones stored the first time, and its state
  -- changes nothing (a later report wins, an equal one is the same). The upsert probes the primary key
  -- per device, which a join of devices to the rows, planned once for any batch, would not.
  INSERT INTO devices AS d (dev_eui, name, application, network, first_seen, last_seen, last_keepalive_at, relay_on, relay_at,
    settings, settings_at)
  SELECT r.dev_eui, r.name, r.application, r.network, r.first_seen, r.last_seen, r.keepalive_at, r.relay_on, r.relay_at,
    r.settings, r.settings_at
  FROM jsonb_to_recordset(device_rows) AS r(dev_eui text, name text, application text, network text, first_seen timestamptz,
    last_seen timestamptz, keepalive_at timestamptz, relay_on boolean, relay_at timestamptz, settings jsonb, settings_at timestamptz)
  ORDER BY r.dev_eui
  ON CONFLICT (dev_eui) DO UPDATE SET
    name = COALESCE(EXCLUDED.name, d.name),
    application = COALESCE(EXCLUDED.application, d.application),
    network = EXCLUDED.network,
    first_seen = LEAST(d.first_seen, EXCLUDED.first_seen),
    last_seen = GREATEST(d.last_seen, EXCLUDED.last_seen),
    last_keepalive_at = GREATEST(d.last_keepalive_at, EXCLUDED.last_keepalive_at),
    relay_on = CASE WHEN EXCLUDED.relay_at IS NOT NULL AND (d.relay_at IS NULL OR EXCLUDED.relay_at >= d.relay_at)
                    THEN EXCLUDED.relay_on ELSE d.relay_on END,
    relay_at = GREATEST(d.relay_at, EXCLUDED.relay_at),
    settings = CASE WHEN EXCLUDED.settings_at IS NULL THEN d.settings
                    WHEN d.settings_at IS NULL OR EXCLUDED.settings_at >= d.settings_at THEN d.settings || EXCLUDED.settings
                    ELSE EXCLUDED.settings || d.settings END,
    settings_at = GREATEST(d.settings_at, EXCLUDED.settings_at)
  -- A batch of downlink events alone changes none of these: skipping the update spares a row version
  -- (the row is locked all the same).
  WHERE EXCLUDED.last_seen IS NOT NULL
     OR EXCLUDED.name IS DISTINCT FROM d.name AND EXCLUDED.name IS NOT NULL
     OR EXCLUDED.application IS DISTINCT FROM d.application AND EXCLUDED.application IS NOT NULL
     OR EXCLUDED.network <> d.network
     OR EXCLUDED.first_seen < d.first_seen;

  WITH input AS (
    SELECT * FROM jsonb_to_recordset(uplink_rows) AS u(i int, dev_eui text, received_at timestamptz, dedup_key text,
      network text, f_cnt bigint, f_port integer, payload text, decoded jsonb, decode_errors text[], decode_warnings text[],
      rssi real, snr real, gateway_count integer, spreading_factor integer, bandwidth_hz integer, frequency bigint, simulated boolean)
  ), stored AS (
    INSERT INTO uplinks (dev_eui, received_at, dedup_key, network, f_cnt, f_port, payload, decoded, decode_errors,
      decode_warnings, rssi, snr, gateway_count, spreading_factor, bandwidth_hz, frequency, simulated)
    SELECT u.dev_eui, u.received_at, u.dedup_key, u.network, u.f_cnt, u.f_port, decode(u.payload, 'hex'), u.decoded, u.decode_errors,
      u.decode_warnings, u.rssi, u.snr, u.gateway_count, u.spreading_factor, u.bandwidth_hz, u.frequency, u.simulated
    FROM input u
    -- The retry of an uplink without a message id stored before migration 017, under its key of then.
    WHERE u.dedup_key NOT LIKE 'fcnt:%' OR NOT EXISTS (
      SELECT 1 FROM uplinks o WHERE o.received_at = u.received_at AND o.dev_eui = u.dev_eui
        AND o.dedup_key = 'fcnt:' || substr(u.dedup_key, length(u.dev_eui) + 7))
    ON CONFLICT DO NOTHING
    RETURNING uplinks.dev_eui, uplinks.received_at, uplinks.dedup_key
  )
  SELECT array_agg(input.i) INTO new_uplinks FROM input JOIN stored USING (dev_eui, received_at, dedup_key);

  -- The rollups of plugs whose new readings all come after every reading they had, as keep-alives nearly
  -- always do (migration 004's common case, cheaper here): read before the insert, a plug's latest reading
  -- is the one before its first new one, and each new reading adds its pair (the reading before it → it)
  -- to its hour and its day. A plug with two new readings at one time is left to the exact path below.
  WITH new AS (
    SELECT * FROM jsonb_to_recordset(reading_rows) AS r(dev_eui text, time timestamptz, temperature_c real, energy_wh bigint,
      power_w integer, voltage_v integer, current_ma integer, relay_on boolean)
  ), plug AS (
    SELECT n.dev_eui, min(n.time) AS first FROM new n GROUP BY n.dev_eui HAVING count(*) = count(DISTINCT n.time)
  ), appended AS (
    -- A plug's latest reading is looked for from a week before its first new one (the partitions from that
    -- time on: the ones before are pruned as the statement runs), and in all of them only when that finds none.
    SELECT p.dev_eui, coalesce(recent.time, older.time) AS time, coalesce(recent.energy_wh, older.energy_wh) AS energy_wh,
      coalesce(recent.relay_on, older.relay_on) AS relay_on
    FROM plug p
    LEFT JOIN LATERAL (SELECT r.time, r.energy_wh, r.relay_on FROM readings r
                       WHERE r.dev_eui = p.dev_eui AND r.time >= p.first - interval '7 days' ORDER BY r.time DESC LIMIT 1) recent ON true
    LEFT JOIN LATERAL (SELECT r.time, r.energy_wh, r.relay_on FROM readings r
                       WHERE recent.time IS NULL AND r.dev_eui = p.dev_eui ORDER BY r.time DESC LIMIT 1) older ON true
    WHERE coalesce(recent.time, older.time) IS NULL OR coalesce(recent.time, older.time) < p.first
  ), span AS (
    SELECT n.*, true AS is_new FROM new n JOIN appended a USING (dev_eui)
    UNION ALL
    SELECT a.dev_eui, a.time, NULL, a.energy_wh, NULL, NULL, NULL, a.relay_on, false FROM appended a WHERE a.time IS NOT NULL
  )
  SELECT coalesce((SELECT array_agg(a.dev_eui) FROM appended a), '{}'), (SELECT array_agg(ROW(s.*)::rollup_span) FROM span s)
  INTO rolled_up, spans;
  PERFORM rollup_append(spans);

  -- Late readings, and readings at a time the plug already had (not inserted), take rollup_readings
  -- (migrations 002, 004) after the insert, as before.
  WITH stored AS (
    INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
    SELECT * FROM jsonb_to_recordset(reading_rows) AS r(dev_eui text, time timestamptz, temperature_c real, energy_wh bigint,
      power_w integer, voltage_v integer, current_ma integer, relay_on boolean)
    ON CONFLICT DO NOTHING
    RETURNING readings.dev_eui, readings.time
  )
  SELECT jsonb_agg(stored) INTO late FROM stored WHERE stored.dev_eui <> ALL (rolled_up);
  IF late IS NOT NULL THEN
    PERFORM rollup_readings(late);
  END IF;

  -- Keep-alives carry no events: a statement that would find no rows is not started at all.
  IF event_rows = '[]' THEN
    RETURN coalesce(new_uplinks, '{}');
  END IF;
  WITH input AS (
    SELECT * FROM jsonb_to_recordset(event_rows) AS e(i int, dev_eui text, time timestamptz, kind text, data jsonb,
      network text, dedup_key text)
  ), stored AS (
    INSERT INTO device_events (dev_eui, time, kind, data, network, dedup_key)
    SELECT e.dev_eui, e.time, e.kind, e.data, e.network, e.dedup_key FROM input e
    ON CONFLICT DO NOTHING
    RETURNING device_events.dev_eui, device_events.time, device_events.dedup_key
  )
  -- Message events carry index -1: their outcome is their uplink's.
  SELECT array_agg(input.i) INTO new_events FROM input JOIN stored USING (dev_eui, time, dedup_key) WHERE input.i >= 0;

  RETURN coalesce(new_uplinks, '{}') || coalesce(new_events, '{}');
END
$$;
