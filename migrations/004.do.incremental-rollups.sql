-- Rollups kept current at the cost of the new readings alone, in the common case (issue 13).
--
-- A plug's keep-alives nearly always arrive in order. When every new reading of a plug is later than all
-- the readings it had, no earlier reading's consumption changes: each new reading adds its own pair (the
-- reading before it → it) to its hour and its day, one upsert each that adds counts and sums and widens
-- minima and maxima. Late and duplicate-time arrivals keep the exact recomputation of 002, renamed
-- rollup_recompute. Both follow the rule of contract §3; the test suite checks they equal the raw readings.

ALTER FUNCTION rollup_readings(jsonb) RENAME TO rollup_recompute;

-- Same argument and contract as before: a JSON array of {dev_eui, time} of the readings just inserted, in
-- the inserting transaction, after the insert or in the same statement (a VOLATILE function sees the rows
-- of the statement calling it). A plug takes the incremental path when none of its other readings lies at
-- or after its earliest new one.
CREATE FUNCTION rollup_readings(inserted jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  late jsonb;
BEGIN
  WITH new AS (
    SELECT DISTINCT n.dev_eui, n.time FROM jsonb_to_recordset(inserted) AS n(dev_eui text, time timestamptz)
  ), plug AS (
    SELECT n.dev_eui, min(n.time) AS first, array_agg(n.time) AS times FROM new n GROUP BY n.dev_eui
  -- Every lookup of readings is a LATERAL ... LIMIT, an index probe per plug or reading: as joins, the
  -- planner hashes the whole table, which grows without end.
  ), appended AS (
    SELECT p.dev_eui, p.first FROM plug p
    LEFT JOIN LATERAL (SELECT r.time FROM readings r WHERE r.dev_eui = p.dev_eui AND r.time >= p.first AND r.time <> ALL (p.times) LIMIT 1) other ON true
    WHERE other.time IS NULL
  ), span AS (
    -- The new readings of appending plugs, and the one reading before each plug's first new one.
    SELECT r.*, true AS is_new FROM new n JOIN appended a USING (dev_eui)
    CROSS JOIN LATERAL (SELECT r.* FROM readings r WHERE r.dev_eui = n.dev_eui AND r.time = n.time LIMIT 1) r
    UNION ALL
    SELECT b.*, false FROM appended a
    CROSS JOIN LATERAL (SELECT r.* FROM readings r WHERE r.dev_eui = a.dev_eui AND r.time < a.first ORDER BY r.time DESC LIMIT 1) b
  ), pairs AS (
    SELECT s.*, lag(s.energy_wh) OVER w AS prev_energy, lag(s.time) OVER w AS prev_time, lag(s.relay_on) OVER w AS prev_relay
    FROM span s WINDOW w AS (PARTITION BY s.dev_eui ORDER BY s.time)
  ), counted AS (
    SELECT p.*, date_trunc('hour', p.time, 'UTC') AS hour,
      CASE WHEN p.prev_energy IS NULL THEN 0 WHEN p.energy_wh >= p.prev_energy THEN p.energy_wh - p.prev_energy ELSE p.energy_wh END AS consumption,
      coalesce(p.energy_wh < p.prev_energy, false) AS reset,
      CASE WHEN p.prev_relay THEN extract(epoch FROM p.time - p.prev_time) ELSE 0 END AS relay_seconds
    FROM pairs p WHERE p.is_new
  ), hours AS (
    INSERT INTO readings_hourly AS h
    SELECT c.dev_eui, c.hour, count(*), sum(c.consumption), count(*) FILTER (WHERE c.reset),
      sum(c.power_w), max(c.power_w), sum(c.voltage_v), min(c.voltage_v), max(c.voltage_v), sum(c.current_ma), max(c.current_ma),
      sum(c.temperature_c::double precision), max(c.temperature_c), sum(c.relay_seconds)
    FROM counted c GROUP BY c.dev_eui, c.hour
    ORDER BY c.dev_eui, c.hour
    ON CONFLICT (dev_eui, hour) DO UPDATE SET
      readings = h.readings + EXCLUDED.readings, energy_wh = h.energy_wh + EXCLUDED.energy_wh,
      counter_resets = h.counter_resets + EXCLUDED.counter_resets,
      power_sum_w = h.power_sum_w + EXCLUDED.power_sum_w, power_max_w = greatest(h.power_max_w, EXCLUDED.power_max_w),
      voltage_sum_v = h.voltage_sum_v + EXCLUDED.voltage_sum_v, voltage_min_v = least(h.voltage_min_v, EXCLUDED.voltage_min_v),
      voltage_max_v = greatest(h.voltage_max_v, EXCLUDED.voltage_max_v),
      current_sum_ma = h.current_sum_ma + EXCLUDED.current_sum_ma, current_max_ma = greatest(h.current_max_ma, EXCLUDED.current_max_ma),
      temperature_sum_c = h.temperature_sum_c + EXCLUDED.temperature_sum_c,
      temperature_max_c = greatest(h.temperature_max_c, EXCLUDED.temperature_max_c),
      relay_on_seconds = h.relay_on_seconds + EXCLUDED.relay_on_seconds
  ), days AS (
    INSERT INTO readings_daily AS d
    SELECT c.dev_eui, date_trunc('day', c.time, 'UTC'), count(*), sum(c.consumption), count(*) FILTER (WHERE c.reset), sum(c.relay_seconds)
    FROM counted c GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (dev_eui, day) DO UPDATE SET
      readings = d.readings + EXCLUDED.readings, energy_wh = d.energy_wh + EXCLUDED.energy_wh,
      counter_resets = d.counter_resets + EXCLUDED.counter_resets, relay_on_seconds = d.relay_on_seconds + EXCLUDED.relay_on_seconds
  )
  SELECT jsonb_agg(jsonb_build_object('dev_eui', n.dev_eui, 'time', n.time)) INTO late
  FROM new n WHERE n.dev_eui NOT IN (SELECT a.dev_eui FROM appended a);

  IF late IS NOT NULL THEN
    PERFORM rollup_recompute(late);
  END IF;
END
$$;
