-- Fleet views flat in fleet size (issue 22): a summary of energy_hourly per application and hour, kept by
-- triggers on readings_hourly, so the fleet's energy per hour or per local day in any zone sums a few rows
-- per hour however many plugs stand behind them; and an index for a plug's event panels.

-- The tables this migration locks, taken at once and in the order ingest_batch writes them (devices first): a
-- batch in flight finishes before, and the next one waits until the migration commits. Taken one by one, as
-- the statements below come (device_events' index, then readings_hourly's triggers), they deadlocked with a
-- batch holding readings_hourly and waiting for device_events (partition-conversion.test, ingest running).
LOCK TABLE devices, readings_hourly, device_events IN SHARE ROW EXCLUSIVE MODE;

-- The plugs' event panels (protection_events, relay_events: one plug, a few kinds, a time range) by index,
-- whatever the history of the fleet.
CREATE INDEX device_events_device_kind_time ON device_events (dev_eui, kind, time);

-- Per application (''; none) and UTC hour: gap 0 holds the hour's energy; gap g in 1..25 holds how many plugs
-- have a row in energy_hourly at that hour whose previous row is g hours earlier (25: 25 or more, or none).
-- A plug has a row in a window [a, b) of at most 25 hours exactly when one of its rows at an hour h in the
-- window has gap > h - a: its first. So the plugs counted in a local day, any zone, are a sum, as its energy.
-- `shard` spreads concurrent writers over rows: each transaction takes a shard no other one holds
-- (fleet_energy_shard), so two writers never wait for each other here, whatever plugs they write.
-- Rows are deltas: sum over shards (and, for energy, over gaps). A shard's row may hold a negative count.
CREATE TABLE fleet_energy_hourly (
  application text NOT NULL,
  hour        timestamptz NOT NULL,
  gap         smallint NOT NULL CHECK (gap BETWEEN 0 AND 25),
  shard       smallint NOT NULL,
  plugs       integer NOT NULL,
  energy_wh   bigint NOT NULL,
  PRIMARY KEY (application, hour, gap, shard)
);
CREATE INDEX fleet_energy_hourly_hour ON fleet_energy_hourly (hour);

CREATE TYPE fleet_energy_delta AS (application text, hour timestamptz, gap smallint, plugs integer, energy_wh bigint);

-- The gap of a row at `hour` whose plug's previous row is at `previous` (NULL: none).
CREATE FUNCTION fleet_energy_gap(hour timestamptz, previous timestamptz) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN previous IS NULL OR hour - previous >= interval '25 hours' THEN 25
              ELSE (extract(epoch FROM hour - previous) / 3600)::smallint END
$$;

-- This transaction's shard: the first of 16 that no other transaction holds (a transaction-level advisory
-- lock), else, when all are taken, its own pid's, waited for. Remembered for the rest of the transaction.
CREATE FUNCTION fleet_energy_shard() RETURNS smallint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  taken text := nullif(current_setting('aspm16.fleet_energy_shard', true), '');
  key integer := hashtext('fleet_energy_hourly');
BEGIN
  IF taken IS NOT NULL THEN
    RETURN taken::smallint;
  END IF;
  FOR s IN 0..15 LOOP
    IF pg_try_advisory_xact_lock(key, s) THEN
      PERFORM set_config('aspm16.fleet_energy_shard', s::text, true);
      RETURN s;
    END IF;
  END LOOP;
  PERFORM pg_advisory_xact_lock(key, pg_backend_pid() % 16);
  PERFORM set_config('aspm16.fleet_energy_shard', (pg_backend_pid() % 16)::text, true);
  RETURN pg_backend_pid() % 16;
END
$$;

-- Adds deltas to the summary: one upsert per application, hour and gap, in key order.
CREATE FUNCTION fleet_energy_apply(deltas fleet_energy_delta[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  my_shard smallint;
BEGIN
  IF deltas IS NULL THEN
    RETURN;
  END IF;
  my_shard := fleet_energy_shard();
  INSERT INTO fleet_energy_hourly AS f (application, hour, gap, shard, plugs, energy_wh)
  SELECT x.application, x.hour, x.gap, my_shard, sum(x.plugs), sum(x.energy_wh)
  FROM unnest(deltas) x
  GROUP BY x.application, x.hour, x.gap
  HAVING sum(x.plugs) <> 0 OR sum(x.energy_wh) <> 0
  ORDER BY x.application, x.hour, x.gap
  ON CONFLICT (application, hour, gap, shard) DO UPDATE SET
    plugs = f.plugs + EXCLUDED.plugs, energy_wh = f.energy_wh + EXCLUDED.energy_wh;
END
$$;

-- Every contribution of one plug's rows, under `application`, times `sign` (+1 to add, -1 to take away).
CREATE FUNCTION fleet_energy_of_plug(plug text, application text, sign integer) RETURNS fleet_energy_delta[]
LANGUAGE sql STABLE AS $$
  WITH h AS (
    SELECT r.hour, r.energy_wh, fleet_energy_gap(r.hour, lag(r.hour) OVER (ORDER BY r.hour)) AS gap
    FROM readings_hourly r WHERE r.dev_eui = plug
  )
  SELECT array_agg(x) FROM (
    SELECT ROW(coalesce(application, ''), h.hour, 0, 0, sign * h.energy_wh)::fleet_energy_delta AS x FROM h
    UNION ALL
    SELECT ROW(coalesce(application, ''), h.hour, h.gap, sign, 0)::fleet_energy_delta FROM h
  ) s
$$;

-- New rows of readings_hourly: their energy, their gap, and the gap of the row after each (if it is not
-- new itself), which now starts from a new row. Index probes per new row, nothing per plug-history.
CREATE FUNCTION fleet_energy_hours_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  deltas fleet_energy_delta[];
BEGIN
  WITH later AS (
    SELECT DISTINCT l.dev_eui, l.hour FROM added a
    CROSS JOIN LATERAL (SELECT r.dev_eui, r.hour FROM readings_hourly r WHERE r.dev_eui = a.dev_eui AND r.hour > a.hour ORDER BY r.hour LIMIT 1) l
    WHERE NOT EXISTS (SELECT FROM added b WHERE b.dev_eui = l.dev_eui AND b.hour = l.hour)
  ), changes AS (
    SELECT a.dev_eui, a.hour, 0 AS gap, 0 AS plugs, a.energy_wh FROM added a
    UNION ALL
    SELECT a.dev_eui, a.hour, fleet_energy_gap(a.hour, p.hour), 1, 0 FROM added a
    LEFT JOIN LATERAL (SELECT r.hour FROM readings_hourly r WHERE r.dev_eui = a.dev_eui AND r.hour < a.hour ORDER BY r.hour DESC LIMIT 1) p ON true
    UNION ALL
    SELECT l.dev_eui, l.hour, fleet_energy_gap(l.hour, p.hour), 1, 0 FROM later l
    LEFT JOIN LATERAL (SELECT r.hour FROM readings_hourly r WHERE r.dev_eui = l.dev_eui AND r.hour < l.hour ORDER BY r.hour DESC LIMIT 1) p ON true
    UNION ALL
    SELECT l.dev_eui, l.hour, fleet_energy_gap(l.hour, p.hour), -1, 0 FROM later l
    LEFT JOIN LATERAL (SELECT r.hour FROM readings_hourly r WHERE r.dev_eui = l.dev_eui AND r.hour < l.hour
      AND NOT EXISTS (SELECT FROM added b WHERE b.dev_eui = r.dev_eui AND b.hour = r.hour) ORDER BY r.hour DESC LIMIT 1) p ON true
  )
  SELECT array_agg(ROW(coalesce(d.application, ''), c.hour, c.gap, c.plugs, c.energy_wh)::fleet_energy_delta) INTO deltas
  FROM changes c LEFT JOIN devices d USING (dev_eui);
  PERFORM fleet_energy_apply(deltas);
  RETURN NULL;
END
$$;

-- Updated rows: the change of their energy (their presence is unchanged).
CREATE FUNCTION fleet_energy_hours_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  deltas fleet_energy_delta[];
BEGIN
  SELECT array_agg(ROW(coalesce(d.application, ''), n.hour, 0, 0, n.energy_wh - o.energy_wh)::fleet_energy_delta) INTO deltas
  FROM after_rows n JOIN before_rows o USING (dev_eui, hour) LEFT JOIN devices d USING (dev_eui)
  WHERE n.energy_wh <> o.energy_wh;
  PERFORM fleet_energy_apply(deltas);
  RETURN NULL;
END
$$;

-- Deleted rows (nothing in the service deletes them; by hand, or with a plug): their energy and gap as they
-- were, and the gap of the row after each, which now starts from an earlier row.
CREATE FUNCTION fleet_energy_hours_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  deltas fleet_energy_delta[];
BEGIN
  WITH later AS (
    SELECT DISTINCT l.dev_eui, l.hour FROM removed g
    CROSS JOIN LATERAL (SELECT r.dev_eui, r.hour FROM readings_hourly r WHERE r.dev_eui = g.dev_eui AND r.hour > g.hour ORDER BY r.hour LIMIT 1) l
  ), was AS (
    -- Rows whose gap before the delete is wanted, with the previous row of that time (kept or removed).
    SELECT x.dev_eui, x.hour, x.energy_wh, x.plugs,
      greatest((SELECT max(r.hour) FROM readings_hourly r WHERE r.dev_eui = x.dev_eui AND r.hour < x.hour),
               (SELECT max(g.hour) FROM removed g WHERE g.dev_eui = x.dev_eui AND g.hour < x.hour)) AS previous
    FROM (SELECT g.dev_eui, g.hour, g.energy_wh, -1 AS plugs FROM removed g UNION ALL SELECT l.dev_eui, l.hour, 0, -1 FROM later l) x
  ), changes AS (
    SELECT w.dev_eui, w.hour, 0 AS gap, 0 AS plugs, -w.energy_wh AS energy_wh FROM was w WHERE w.energy_wh <> 0
    UNION ALL
    SELECT w.dev_eui, w.hour, fleet_energy_gap(w.hour, w.previous), -1, 0 FROM was w
    UNION ALL
    SELECT l.dev_eui, l.hour, fleet_energy_gap(l.hour, (SELECT max(r.hour) FROM readings_hourly r WHERE r.dev_eui = l.dev_eui AND r.hour < l.hour)), 1, 0
    FROM later l
  )
  SELECT array_agg(ROW(coalesce(d.application, ''), c.hour, c.gap, c.plugs, c.energy_wh)::fleet_energy_delta) INTO deltas
  FROM changes c LEFT JOIN devices d USING (dev_eui);
  PERFORM fleet_energy_apply(deltas);
  RETURN NULL;
END
$$;

CREATE TRIGGER fleet_energy_inserted AFTER INSERT ON readings_hourly REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_energy_hours_inserted();
CREATE TRIGGER fleet_energy_updated AFTER UPDATE ON readings_hourly REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_energy_hours_updated();
CREATE TRIGGER fleet_energy_deleted AFTER DELETE ON readings_hourly REFERENCING OLD TABLE AS removed
  FOR EACH STATEMENT EXECUTE FUNCTION fleet_energy_hours_deleted();

-- The summary counts a plug's rows under its device's application, as the reads join them, and a plug without
-- a device row (removed from the fleet by DELETE /api/devices, its history kept) under none (''): the fleet's
-- total stays the sum of all rollups, as fleet_energy_daily's. A plug that changes application takes its
-- history along; a plug removed moves it to none; a plug (re)created takes back what none held of it.
CREATE FUNCTION fleet_energy_device_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  was text := CASE TG_OP WHEN 'INSERT' THEN NULL ELSE OLD.application END;
  now_in text := CASE TG_OP WHEN 'DELETE' THEN NULL ELSE NEW.application END;
  plug text := CASE TG_OP WHEN 'DELETE' THEN OLD.dev_eui ELSE NEW.dev_eui END;
BEGIN
  IF coalesce(was, '') <> coalesce(now_in, '') THEN
    PERFORM fleet_energy_apply(fleet_energy_of_plug(plug, was, -1));
    PERFORM fleet_energy_apply(fleet_energy_of_plug(plug, now_in, 1));
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER fleet_energy_device_inserted AFTER INSERT ON devices
  FOR EACH ROW EXECUTE FUNCTION fleet_energy_device_changed();
CREATE TRIGGER fleet_energy_device_moved AFTER UPDATE OF application ON devices
  FOR EACH ROW WHEN (OLD.application IS DISTINCT FROM NEW.application) EXECUTE FUNCTION fleet_energy_device_changed();
CREATE TRIGGER fleet_energy_device_deleted AFTER DELETE ON devices
  FOR EACH ROW EXECUTE FUNCTION fleet_energy_device_changed();

-- The rows already there, in shard 0.
INSERT INTO fleet_energy_hourly (application, hour, gap, shard, plugs, energy_wh)
SELECT x.application, x.hour, x.gap, 0, sum(x.plugs), sum(x.energy_wh) FROM (
  SELECT coalesce(d.application, '') AS application, h.hour, g.gap, g.plugs, g.energy_wh
  FROM (SELECT r.dev_eui, r.hour, r.energy_wh, fleet_energy_gap(r.hour, lag(r.hour) OVER (PARTITION BY r.dev_eui ORDER BY r.hour)) AS gap
        FROM readings_hourly r) h
  LEFT JOIN devices d USING (dev_eui)
  CROSS JOIN LATERAL (VALUES (0::smallint, 0, h.energy_wh), (h.gap, 1, 0::bigint)) g(gap, plugs, energy_wh)
) x
GROUP BY x.application, x.hour, x.gap
HAVING sum(x.plugs) <> 0 OR sum(x.energy_wh) <> 0;
