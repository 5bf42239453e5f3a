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
  inserted jsonb;
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

  WITH stored AS (
    INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
    SELECT * FROM jsonb_to_recordset(reading_rows) AS r(dev_eui text, time timestamptz, temperature_c real, energy_wh bigint,
      power_w integer, voltage_v integer, current_ma integer, relay_on boolean)
    ON CONFLICT DO NOTHING
    RETURNING readings.dev_eui, readings.time
  )
  SELECT jsonb_agg(stored) INTO inserted FROM stored;
  IF inserted IS NOT NULL THEN
    PERFORM rollup_readings(inserted);
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
