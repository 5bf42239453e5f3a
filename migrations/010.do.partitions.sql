-- uplinks, readings and device_events partitioned by time (contract §6, issue 22), converted in place.
--
-- Each table becomes a partitioned table of the same name. Its existing rows stay where they are: the old
-- table becomes the partition <table>_before, FROM (MINVALUE) TO (B), B the next Monday (00:00 UTC) after
-- now; an empty one (a new database) is dropped instead. The service (webhook/db/partitions.ts) adds one partition per
-- week, <table>_pYYYYMMDD, ahead of time, drops those past their retention, and moves into them what the
-- <table>_default partition caught (a time no partition covered: nothing is ever refused).
--
-- No step holds a lock that blocks writes for longer than catalogue changes take, whatever the tables hold:
--  1. a CHECK (time < B) NOT VALID: checks new rows only, so it is added at once;
--  2. VALIDATE CONSTRAINT scans the table under a lock that lets inserts and updates go on;
--  3. in one short transaction per table: the old table renamed to <table>_before, the partitioned table
--     made, and the old one attached: the validated CHECK proves its rows within the partition's bounds,
--     so ATTACH does not scan it, and its primary key becomes the new table's index without a rebuild;
--     the views that read the table are made again, since a view names the table it was made on.
-- The COMMITs between the steps end the transaction the migration's script runs in (postgrator sends it
-- as one query, one implicit transaction), so each step's lock ends with it. Every step checks what is
-- already done, so a migration stopped half way is completed by the next run.

CREATE OR REPLACE FUNCTION partition_conversion_prepare(tab text, col text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  boundary timestamptz;
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = tab::regclass) = 'p'
     OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = tab::regclass AND k.conname = tab || '_before_check') THEN
    RETURN;
  END IF;
  EXECUTE format('SELECT date_trunc(''week'', now(), ''UTC'') + CASE WHEN EXISTS (SELECT 1 FROM %I) THEN interval ''1 week'' ELSE interval ''0'' END', tab)
    INTO boundary;
  EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (%I < %L) NOT VALID', tab, tab || '_before_check', col, boundary);
END
$$;

CREATE OR REPLACE FUNCTION partition_conversion_validate(tab text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = tab::regclass) = 'r' THEN
    EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', tab, tab || '_before_check');
  END IF;
END
$$;

-- Attaches <tab>_before to the partitioned <tab> (just made) up to the time its CHECK names, drops the
-- CHECK (the partition's bound says the same), and adds the default partition.
CREATE OR REPLACE FUNCTION partition_conversion_attach(tab text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  boundary text;
BEGIN
  SELECT (regexp_match(pg_get_constraintdef(k.oid), '''([^'']+)'''))[1] INTO boundary
  FROM pg_constraint k WHERE k.conrelid = (tab || '_before')::regclass AND k.conname = tab || '_before_check';
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', tab, tab || '_before', boundary);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', tab || '_before', tab || '_before_check');
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tab || '_default', tab);
END
$$;

-- Step 1.
SELECT partition_conversion_prepare('uplinks', 'received_at');
SELECT partition_conversion_prepare('readings', 'time');
SELECT partition_conversion_prepare('device_events', 'time');
COMMIT;

-- Step 2, a transaction per table.
SELECT partition_conversion_validate('uplinks');
COMMIT;
SELECT partition_conversion_validate('readings');
COMMIT;
SELECT partition_conversion_validate('device_events');
COMMIT;

-- Step 3, uplinks. The partitioned table's columns are ordered by alignment (8-byte, 4-byte, then
-- variable-length), which spares each new row 32 bytes of padding; names and types are unchanged. Without
-- an index on received_at: a query by time alone reads the partitions of its weeks.
DO $$
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = 'uplinks'::regclass) = 'p' THEN
    RETURN;
  END IF;
  ALTER TABLE uplinks RENAME TO uplinks_before;
  ALTER TABLE uplinks_before RENAME CONSTRAINT uplinks_pkey TO uplinks_before_pkey;
  ALTER INDEX uplinks_received_at RENAME TO uplinks_before_received_at;
  CREATE TABLE uplinks (
    received_at      timestamptz NOT NULL,
    stored_at        timestamptz NOT NULL DEFAULT now(),
    f_cnt            bigint,
    frequency        bigint,
    rssi             real,
    snr              real,
    gateway_count    integer,
    spreading_factor integer,
    bandwidth_hz     integer,
    f_port           integer,
    simulated        boolean NOT NULL DEFAULT false,
    dev_eui          text NOT NULL,
    dedup_key        text NOT NULL,
    network          text NOT NULL,
    payload          bytea,
    decoded          jsonb,
    decode_errors    text[],
    decode_warnings  text[],
    PRIMARY KEY (dev_eui, received_at, dedup_key)
  ) PARTITION BY RANGE (received_at);
  PERFORM partition_conversion_attach('uplinks');
  -- migration 007's view, on the new table.
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
    1440 * t.ms / 1000 / 30 AS min_minutes_fair_use
  FROM devices d
  LEFT JOIN keepalive_desired k ON k.dev_eui = d.dev_eui
  LEFT JOIN LATERAL (
    SELECT u.spreading_factor, u.bandwidth_hz FROM (
      SELECT u.spreading_factor, coalesce(u.bandwidth_hz, 125000) AS bandwidth_hz FROM uplinks u
      WHERE u.dev_eui = d.dev_eui AND u.spreading_factor IS NOT NULL AND NOT u.simulated
      ORDER BY u.received_at DESC LIMIT 10
    ) u ORDER BY lora_time_on_air_ms(25, u.spreading_factor, u.bandwidth_hz) DESC LIMIT 1
  ) r ON true
  CROSS JOIN LATERAL (SELECT coalesce(nullif(d.keepalive_minutes, 0), 10) AS minutes) p
  CROSS JOIN LATERAL (SELECT lora_time_on_air_ms(25, r.spreading_factor, r.bandwidth_hz) AS ms) t;
  -- A table that was empty (a new database) needs no partition for its past: history loaded later goes to
  -- <table>_default, and the service's next pass moves it into its weeks.
  IF NOT EXISTS (SELECT 1 FROM uplinks_before) THEN
    DROP TABLE uplinks_before;
  END IF;
END
$$;
COMMIT;

-- Step 3, readings (its columns in their order: rollup_span and reading_hour_stats read them by position).
DO $$
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = 'readings'::regclass) = 'p' THEN
    RETURN;
  END IF;
  ALTER TABLE readings RENAME TO readings_before;
  ALTER TABLE readings_before RENAME CONSTRAINT readings_pkey TO readings_before_pkey;
  CREATE TABLE readings (
    dev_eui       text NOT NULL,
    time          timestamptz NOT NULL,
    temperature_c real NOT NULL,
    energy_wh     bigint NOT NULL,
    power_w       integer NOT NULL,
    voltage_v     integer NOT NULL,
    current_ma    integer NOT NULL,
    relay_on      boolean NOT NULL,
    PRIMARY KEY (dev_eui, time)
  ) PARTITION BY RANGE (time);
  PERFORM partition_conversion_attach('readings');
  IF NOT EXISTS (SELECT 1 FROM readings_before) THEN
    DROP TABLE readings_before;
  END IF;
END
$$;
COMMIT;

-- Step 3, device_events, and the views on it (migration 002's).
DO $$
BEGIN
  IF (SELECT c.relkind FROM pg_class c WHERE c.oid = 'device_events'::regclass) = 'p' THEN
    RETURN;
  END IF;
  ALTER TABLE device_events RENAME TO device_events_before;
  ALTER TABLE device_events_before RENAME CONSTRAINT device_events_pkey TO device_events_before_pkey;
  ALTER INDEX device_events_kind_time RENAME TO device_events_before_kind_time;
  CREATE TABLE device_events (
    dev_eui   text NOT NULL REFERENCES devices (dev_eui),
    time      timestamptz NOT NULL,
    kind      text NOT NULL,
    data      jsonb NOT NULL DEFAULT '{}',
    network   text NOT NULL,
    dedup_key text NOT NULL,
    PRIMARY KEY (dev_eui, time, dedup_key)
  ) PARTITION BY RANGE (time);
  CREATE INDEX device_events_kind_time ON device_events (kind, time);
  PERFORM partition_conversion_attach('device_events');

  CREATE OR REPLACE VIEW protection_events AS
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

  CREATE OR REPLACE VIEW relay_events AS
  SELECT e.dev_eui, e.time,
    CASE e.kind WHEN 'manualChangeRelayState' THEN 'manual' ELSE 'reported' END AS source,
    CASE e.kind WHEN 'manualChangeRelayState' THEN (e.data ->> 'manualChangeRelayState')::boolean
                ELSE e.data ->> 'relayState' = 'ON' END AS relay_on
  FROM device_events e
  WHERE e.kind IN ('manualChangeRelayState', 'relayState');
  IF NOT EXISTS (SELECT 1 FROM device_events_before) THEN
    DROP TABLE device_events_before;
  END IF;
END
$$;
COMMIT;

DROP FUNCTION partition_conversion_prepare(text, text);
DROP FUNCTION partition_conversion_validate(text);
DROP FUNCTION partition_conversion_attach(text);
