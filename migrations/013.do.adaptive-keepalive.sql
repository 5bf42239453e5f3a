-- Adaptive keep-alive (issue 23, contract §4): a plug's period follows its radio. In adaptive mode `minutes`
-- (the desired period) is the target, or the least period AIRTIME_POLICY allows at the plug's radio when that
-- is longer; the service re-judges it as the plug's uplinks come in (webhook/keepalive/adaptive.ts).
ALTER TABLE keepalive_desired
  ADD COLUMN mode text NOT NULL DEFAULT 'fixed' CHECK (mode IN ('fixed', 'adaptive')),
  ADD COLUMN target integer CHECK (target BETWEEN 1 AND 255),
  -- Why `minutes` is what it is, as a sentence with its figures (and what a change waits for, if one does).
  ADD COLUMN reason text,
  -- The plug's last_seen when the service last judged its period: a plug heard since is judged again.
  ADD COLUMN judged_at timestamptz,
  ADD CONSTRAINT keepalive_desired_adaptive_target CHECK (mode = 'fixed' OR target IS NOT NULL);

-- Every change of a plug's desired period and why, newest last: the adaptive changes of the last 24 hours
-- are what the daily bound counts, and the rows are a plug's history for people and Grafana.
CREATE TABLE keepalive_changes (
  dev_eui      text NOT NULL REFERENCES devices (dev_eui),
  at           timestamptz NOT NULL,
  from_minutes integer,
  to_minutes   integer NOT NULL,
  -- 'api' (a PUT), 'fleet' (KEEPALIVE_TARGET_MINUTES or the application's target taken by a new plug),
  -- 'radio' (an adaptive plug's radio changed).
  cause        text NOT NULL CHECK (cause IN ('api', 'fleet', 'radio')),
  reason       text
);
CREATE INDEX keepalive_changes_device_at ON keepalive_changes (dev_eui, at);

-- An application's target (PUT /api/keepalive with "adapt": true and "application"): a plug of it heard for
-- the first time takes this target rather than KEEPALIVE_TARGET_MINUTES.
CREATE TABLE keepalive_targets (
  application text PRIMARY KEY,
  minutes     integer NOT NULL CHECK (minutes BETWEEN 1 AND 255),
  set_at      timestamptz NOT NULL DEFAULT now()
);

-- Migration 007's view with the mode, the target and the reason at its end, made again whatever an earlier
-- migration left (it reads the tables by name, partitioned or not).
DROP VIEW device_keepalive;
CREATE VIEW device_keepalive AS
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
    SELECT u.spreading_factor, coalesce(u.bandwidth_hz, 125000) AS bandwidth_hz FROM uplinks u
    WHERE u.dev_eui = d.dev_eui AND u.spreading_factor IS NOT NULL AND NOT u.simulated
    ORDER BY u.received_at DESC LIMIT 10
  ) u ORDER BY lora_time_on_air_ms(25, u.spreading_factor, u.bandwidth_hz) DESC LIMIT 1
) r ON true
CROSS JOIN LATERAL (SELECT coalesce(nullif(d.keepalive_minutes, 0), 10) AS minutes) p
CROSS JOIN LATERAL (SELECT lora_time_on_air_ms(25, r.spreading_factor, r.bandwidth_hz) AS ms) t;

-- The time on air of the uplinks a plug actually sent between `since` and `until`, each by its own payload
-- (+ 13 bytes of LoRaWAN framing), spreading factor and bandwidth (125 kHz when the network did not say), in
-- seconds: one index range of the plug's uplinks (their primary key leads with dev_eui, received_at).
CREATE FUNCTION uplink_airtime_seconds(device text, since timestamptz, until timestamptz) RETURNS double precision
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(sum(lora_time_on_air_ms(coalesce(length(u.payload), 0) + 13, u.spreading_factor, coalesce(u.bandwidth_hz, 125000))), 0) / 1000
  FROM uplinks u
  WHERE u.dev_eui = device AND u.received_at > since AND u.received_at <= until
    AND u.spreading_factor IS NOT NULL AND NOT u.simulated
$$;
