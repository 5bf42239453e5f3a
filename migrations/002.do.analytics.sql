-- What dashboards read (contract §3): energy per hour and day from the cumulative counter, power
-- statistics, device status and events. Fleet-wide queries read the rollups, never every reading.
--
-- The rule for consumption: over consecutive readings E1 → E2 of a device it is E2 − E1, or E2 when the
-- counter dropped (a reset: the clear command, or a power loss on firmware 1.0); it belongs to the period
-- of the later reading. A device's first reading has no predecessor and counts 0.

-- One row per device and UTC hour that holds at least one reading.
CREATE TABLE readings_hourly (
  dev_eui            text NOT NULL REFERENCES devices (dev_eui),
  hour               timestamptz NOT NULL,
  readings           integer NOT NULL,
  energy_wh          bigint NOT NULL,
  counter_resets     integer NOT NULL,
  -- Sums, not averages, so that coarser periods can be averaged exactly.
  power_sum_w        bigint NOT NULL,
  power_max_w        integer NOT NULL,
  voltage_sum_v      bigint NOT NULL,
  voltage_min_v      integer NOT NULL,
  voltage_max_v      integer NOT NULL,
  current_sum_ma     bigint NOT NULL,
  current_max_ma     integer NOT NULL,
  temperature_sum_c  double precision NOT NULL,
  temperature_max_c  real NOT NULL,
  -- The time between consecutive readings whose earlier one reported the relay ON (the relay keeps its
  -- state until a reading says otherwise), attributed, like energy, to the later reading's hour.
  relay_on_seconds   double precision NOT NULL,
  PRIMARY KEY (dev_eui, hour)
);
CREATE INDEX readings_hourly_hour ON readings_hourly (hour);

-- The same per UTC day, built from readings_hourly.
CREATE TABLE readings_daily (
  dev_eui          text NOT NULL REFERENCES devices (dev_eui),
  day              timestamptz NOT NULL,
  readings         integer NOT NULL,
  energy_wh        bigint NOT NULL,
  counter_resets   integer NOT NULL,
  relay_on_seconds double precision NOT NULL,
  PRIMARY KEY (dev_eui, day)
);
CREATE INDEX readings_daily_day ON readings_daily (day);

-- The hourly figures of one device, from its readings in the hour and the one reading before it
-- (two index range scans, however long the history).
CREATE FUNCTION reading_hour_stats(device text, hour_start timestamptz)
RETURNS TABLE (readings integer, energy_wh bigint, counter_resets integer, power_sum_w bigint, power_max_w integer,
  voltage_sum_v bigint, voltage_min_v integer, voltage_max_v integer, current_sum_ma bigint, current_max_ma integer,
  temperature_sum_c double precision, temperature_max_c real, relay_on_seconds double precision)
LANGUAGE sql STABLE AS $$
  WITH span AS (
    (SELECT * FROM readings r WHERE r.dev_eui = device AND r.time < hour_start ORDER BY r.time DESC LIMIT 1)
    UNION ALL
    SELECT * FROM readings r WHERE r.dev_eui = device AND r.time >= hour_start AND r.time < hour_start + interval '1 hour'
  ), pairs AS (
    SELECT s.*, lag(s.energy_wh) OVER w AS prev_energy, lag(s.time) OVER w AS prev_time, lag(s.relay_on) OVER w AS prev_relay
    FROM span s WINDOW w AS (ORDER BY s.time)
  )
  SELECT count(*)::integer,
    coalesce(sum(CASE WHEN prev_energy IS NULL THEN 0 WHEN p.energy_wh >= prev_energy THEN p.energy_wh - prev_energy
                      ELSE p.energy_wh END), 0)::bigint,
    count(*) FILTER (WHERE p.energy_wh < prev_energy)::integer,
    sum(p.power_w)::bigint, max(p.power_w), sum(p.voltage_v)::bigint, min(p.voltage_v), max(p.voltage_v),
    sum(p.current_ma)::bigint, max(p.current_ma), sum(p.temperature_c)::double precision, max(p.temperature_c),
    coalesce(sum(extract(epoch FROM p.time - prev_time)) FILTER (WHERE prev_relay), 0)::double precision
  FROM pairs p
  WHERE p.time >= hour_start
$$;

-- The device hours whose figures change when readings are inserted; `inserted` is a JSON array of
-- {dev_eui, time}. A new reading changes its own hour, and the hour of the reading after it, whose
-- consumption now starts from the new one (a late uplink lands between two readings).
CREATE FUNCTION rollup_hours(inserted jsonb) RETURNS TABLE (dev_eui text, hour timestamptz)
LANGUAGE sql STABLE AS $$
  WITH new AS (
    SELECT DISTINCT n.dev_eui, n.time FROM jsonb_to_recordset(inserted) AS n(dev_eui text, time timestamptz)
  )
  SELECT new.dev_eui, date_trunc('hour', new.time, 'UTC') FROM new
  UNION
  SELECT new.dev_eui, date_trunc('hour', nx.time, 'UTC') FROM new
  CROSS JOIN LATERAL (SELECT r.time FROM readings r WHERE r.dev_eui = new.dev_eui AND r.time > new.time
                      ORDER BY r.time LIMIT 1) nx
$$;

-- Brings the rollups up to date after readings were inserted (same argument as rollup_hours). The
-- webhook calls it in the transaction that inserts them; call it the same way after loading readings by
-- hand. Concurrent writers of one device are serialised by their lock on its devices row (the webhook's
-- upsert takes it first), so each recomputation sees the other's readings.
CREATE FUNCTION rollup_readings(inserted jsonb) RETURNS void
LANGUAGE sql VOLATILE AS $$
  INSERT INTO readings_hourly AS h
  SELECT a.dev_eui, a.hour, s.* FROM rollup_hours(inserted) a CROSS JOIN LATERAL reading_hour_stats(a.dev_eui, a.hour) s
  WHERE s.readings > 0
  ORDER BY a.dev_eui, a.hour
  ON CONFLICT (dev_eui, hour) DO UPDATE SET
    readings = EXCLUDED.readings, energy_wh = EXCLUDED.energy_wh, counter_resets = EXCLUDED.counter_resets,
    power_sum_w = EXCLUDED.power_sum_w, power_max_w = EXCLUDED.power_max_w, voltage_sum_v = EXCLUDED.voltage_sum_v,
    voltage_min_v = EXCLUDED.voltage_min_v, voltage_max_v = EXCLUDED.voltage_max_v, current_sum_ma = EXCLUDED.current_sum_ma,
    current_max_ma = EXCLUDED.current_max_ma, temperature_sum_c = EXCLUDED.temperature_sum_c,
    temperature_max_c = EXCLUDED.temperature_max_c, relay_on_seconds = EXCLUDED.relay_on_seconds;

  WITH days AS (
    SELECT DISTINCT a.dev_eui, date_trunc('day', a.hour, 'UTC') AS day FROM rollup_hours(inserted) a
  )
  INSERT INTO readings_daily AS d
  SELECT days.dev_eui, days.day, sum(h.readings), sum(h.energy_wh), sum(h.counter_resets), sum(h.relay_on_seconds)
  FROM days JOIN readings_hourly h ON h.dev_eui = days.dev_eui AND h.hour >= days.day AND h.hour < days.day + interval '1 day'
  GROUP BY days.dev_eui, days.day
  ORDER BY days.dev_eui, days.day
  ON CONFLICT (dev_eui, day) DO UPDATE SET
    readings = EXCLUDED.readings, energy_wh = EXCLUDED.energy_wh, counter_resets = EXCLUDED.counter_resets,
    relay_on_seconds = EXCLUDED.relay_on_seconds;
$$;

-- Consumption per device and UTC hour (contract §3).
CREATE VIEW energy_hourly AS
SELECT dev_eui, hour, energy_wh, readings, counter_resets FROM readings_hourly;

-- Consumption per device and UTC day (contract §3); `day` is midnight UTC.
CREATE VIEW energy_daily AS
SELECT dev_eui, day, energy_wh, readings, counter_resets FROM readings_daily;

-- The whole fleet's consumption per UTC day.
CREATE VIEW fleet_energy_daily AS
SELECT day, sum(energy_wh)::bigint AS energy_wh, count(*)::integer AS devices FROM readings_daily GROUP BY day;

-- Power, voltage, current and temperature per device and UTC hour, and the relay's on-time.
CREATE VIEW power_hourly AS
SELECT dev_eui, hour, readings,
  power_sum_w::double precision / readings AS power_avg_w, power_max_w,
  voltage_sum_v::double precision / readings AS voltage_avg_v, voltage_min_v, voltage_max_v,
  current_sum_ma::double precision / readings AS current_avg_ma, current_max_ma,
  temperature_sum_c / readings AS temperature_avg_c, temperature_max_c,
  relay_on_seconds
FROM readings_hourly;

-- Keep-alives received per device and UTC day against those expected at the device's reported period
-- (else the default 10 minutes), and the airtime bytes they take: 12 bytes of keep-alive plus 13 of
-- LoRaWAN framing, 25 bytes on air each.
CREATE VIEW keepalive_daily AS
SELECT d.dev_eui, d.day, d.readings AS keepalives_received,
  1440.0 / p.minutes AS keepalives_expected,
  d.readings * 25 AS bytes_received,
  1440.0 / p.minutes * 25 AS bytes_expected
FROM readings_daily d
JOIN devices dev USING (dev_eui)
CROSS JOIN LATERAL (SELECT coalesce(dev.keepalive_minutes, 10) AS minutes) p;

-- Each device's status at a given moment: the device_status view is this at now(). A device is online
-- while its last keep-alive is at most 2.5 periods old; the keep-alives counted are those of the 24
-- hours before `at` (whole UTC hours, from the hourly rollup).
CREATE FUNCTION device_status_at(at timestamptz)
RETURNS TABLE (dev_eui text, name text, application text, network text, last_seen timestamptz,
  last_keepalive_at timestamptz, keepalive_minutes integer, online boolean, offline_since timestamptz,
  keepalives_24h integer, keepalives_expected_24h numeric, bytes_per_day_expected numeric,
  relay_on boolean, temperature_c real, energy_wh bigint, power_w integer, voltage_v integer, current_ma integer,
  hardware_version text, software_version text)
LANGUAGE sql STABLE AS $$
  SELECT d.dev_eui, d.name, d.application, d.network, d.last_seen, d.last_keepalive_at, p.minutes,
    d.last_keepalive_at IS NOT NULL AND d.last_keepalive_at + p.minutes * interval '2.5 minutes' >= at,
    CASE WHEN d.last_keepalive_at IS NULL THEN d.first_seen
         WHEN d.last_keepalive_at + p.minutes * interval '2.5 minutes' < at THEN d.last_keepalive_at + p.minutes * interval '2.5 minutes' END,
    coalesce((SELECT sum(h.readings) FROM readings_hourly h
              WHERE h.dev_eui = d.dev_eui AND h.hour > at - interval '24 hours' AND h.hour <= at), 0)::integer,
    round(1440.0 / p.minutes, 1), round(1440.0 / p.minutes * 25, 0),
    d.relay_on, r.temperature_c, r.energy_wh, r.power_w, r.voltage_v, r.current_ma,
    d.hardware_version, d.software_version
  FROM devices d
  CROSS JOIN LATERAL (SELECT coalesce(d.keepalive_minutes, 10) AS minutes) p
  LEFT JOIN readings r ON r.dev_eui = d.dev_eui AND r.time = d.last_keepalive_at
$$;

-- Contract §3: one row per device, as of now.
CREATE VIEW device_status AS SELECT * FROM device_status_at(now());

-- Protection trips (60–63: the event count and the value that tripped it) and recoveries (70, 71: the
-- seconds the protection was active; 72, 73: the device temperature at recovery).
CREATE VIEW protection_events AS
SELECT e.dev_eui, e.time, m.protection, m.phase,
  (e.data #>> ARRAY[e.kind, 'events'])::integer AS event_count,
  (CASE WHEN m.field IS NULL THEN e.data ->> e.kind ELSE e.data #>> ARRAY[e.kind, m.field] END)::real AS value,
  m.unit, e.kind, e.data
FROM device_events e
JOIN (VALUES
  ('overheatingEvents', 'overheating', 'trip', 'temperature', '°C'),
  ('overvoltageEvents', 'overvoltage', 'trip', 'voltage', 'V'),
  ('overcurrentEvents', 'overcurrent', 'trip', 'current', 'mA'),
  ('overpowerEvents', 'overpower', 'trip', 'power', 'W'),
  ('overheatingRecoveryTime', 'overheating', 'recovery', NULL, 's'),
  ('overvoltageRecoveryTime', 'overvoltage', 'recovery', NULL, 's'),
  ('overcurrentRecoveryTemp', 'overcurrent', 'recovery', NULL, '°C'),
  ('overpowerRecoveryTemp', 'overpower', 'recovery', NULL, '°C')
) AS m(kind, protection, phase, field, unit) ON m.kind = e.kind;

-- The relay switched by hand on the device (5D), and relay states reported on request (B1).
CREATE VIEW relay_events AS
SELECT e.dev_eui, e.time,
  CASE e.kind WHEN 'manualChangeRelayState' THEN 'manual' ELSE 'reported' END AS source,
  CASE e.kind WHEN 'manualChangeRelayState' THEN (e.data ->> 'manualChangeRelayState')::boolean
              ELSE e.data ->> 'relayState' = 'ON' END AS relay_on
FROM device_events e
WHERE e.kind IN ('manualChangeRelayState', 'relayState');
