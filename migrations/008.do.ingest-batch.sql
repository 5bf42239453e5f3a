-- A reading in a plug's run for rollup_append: new (to be rolled up), or the reading before the first new one.
CREATE TYPE rollup_span AS (dev_eui text, time timestamptz, temperature_c real, energy_wh bigint, power_w integer,
  voltage_v integer, current_ma integer, relay_on boolean, is_new boolean);

-- Contract §3 for readings that all come after their plug's others (migration 004's common case): each new
-- reading adds its pair (the reading before it → it) to its hour and its day, one upsert each that adds counts
-- and sums and widens minima and maxima. The one place of this rule: ingest_batch finds the spans before its
-- insert, rollup_readings after one.
CREATE FUNCTION rollup_append(spans rollup_span[]) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  WITH span AS (
    SELECT * FROM unnest(spans)
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
  )
  INSERT INTO readings_daily AS d
  SELECT c.dev_eui, date_trunc('day', c.time, 'UTC'), count(*), sum(c.consumption), count(*) FILTER (WHERE c.reset), sum(c.relay_seconds)
  FROM counted c GROUP BY 1, 2
  ORDER BY 1, 2
  ON CONFLICT (dev_eui, day) DO UPDATE SET
    readings = d.readings + EXCLUDED.readings, energy_wh = d.energy_wh + EXCLUDED.energy_wh,
    counter_resets = d.counter_resets + EXCLUDED.counter_resets, relay_on_seconds = d.relay_on_seconds + EXCLUDED.relay_on_seconds;
END
$$;

-- A batch of the webhook in one call (issue 13): one round trip, and its statements planned once per
-- connection (PL/pgSQL keeps their plans) instead of parsed and planned for every batch.
--
-- Arguments are JSON arrays of rows (see webhook/store/batch.ts); returns the index `i` of every input
-- uplink and event that was new (a conflicting row is a duplicate). Being VOLATILE, each statement below
-- sees what the ones before it did and what other transactions committed until it started: the device
-- upsert comes first and takes the devices' row locks, so a concurrent writer of one device is waited for,
-- and the rollups then see its readings.
CREATE FUNCTION ingest_batch(device_rows jsonb, uplink_rows jsonb, reading_rows jsonb, event_rows jsonb) RETURNS integer[]
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
    SELECT p.dev_eui, b.time, b.energy_wh, b.relay_on FROM plug p
    LEFT JOIN LATERAL (SELECT r.time, r.energy_wh, r.relay_on FROM readings r WHERE r.dev_eui = p.dev_eui ORDER BY r.time DESC LIMIT 1) b ON true
    WHERE b.time IS NULL OR b.time < p.first
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

-- rollup_readings (migration 004) on the shared rule: the same spans, found after the insert, added by
-- rollup_append; the other readings still take the exact recomputation.
CREATE OR REPLACE FUNCTION rollup_readings(inserted jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  spans rollup_span[];
  late jsonb;
BEGIN
  WITH new AS (
    SELECT DISTINCT n.dev_eui, n.time FROM jsonb_to_recordset(inserted) AS n(dev_eui text, time timestamptz)
  ), plug AS (
    SELECT n.dev_eui, min(n.time) AS first, array_agg(n.time) AS times FROM new n GROUP BY n.dev_eui
  ), appended AS (
    SELECT p.dev_eui, p.first FROM plug p
    LEFT JOIN LATERAL (SELECT r.time FROM readings r WHERE r.dev_eui = p.dev_eui AND r.time >= p.first AND r.time <> ALL (p.times) LIMIT 1) other ON true
    WHERE other.time IS NULL
  ), span AS (
    SELECT r.*, true AS is_new FROM new n JOIN appended a USING (dev_eui)
    CROSS JOIN LATERAL (SELECT r.* FROM readings r WHERE r.dev_eui = n.dev_eui AND r.time = n.time LIMIT 1) r
    UNION ALL
    SELECT b.*, false FROM appended a
    CROSS JOIN LATERAL (SELECT r.* FROM readings r WHERE r.dev_eui = a.dev_eui AND r.time < a.first ORDER BY r.time DESC LIMIT 1) b
  )
  SELECT (SELECT array_agg(ROW(s.*)::rollup_span) FROM span s),
    (SELECT jsonb_agg(jsonb_build_object('dev_eui', n.dev_eui, 'time', n.time)) FROM new n WHERE n.dev_eui NOT IN (SELECT a.dev_eui FROM appended a))
  INTO spans, late;
  PERFORM rollup_append(spans);
  IF late IS NOT NULL THEN
    PERFORM rollup_recompute(late);
  END IF;
END
$$;
