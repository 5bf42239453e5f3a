-- ingest_batch (migration 008) on the partitioned readings (migration 010). Its one look at a plug's history,
-- the plug's latest reading, read every partition's index (a merge of one probe per week of history, kept
-- forever by default); it now reads from the week before the plug's new readings on (a few partitions), and
-- the rest only for a plug silent for longer (or new). The rest of the function is as before.
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
