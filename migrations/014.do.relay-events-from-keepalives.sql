-- Relay switching as the console and dashboards show it: switched by hand on the plug (5D, 'manual'), reported
-- on request (B1, 'reported'), and every change seen between a plug's consecutive keep-alives (ON → OFF → ON,
-- 'keepalive') that no 5D or B1 of the same uplink already names. Over the table names only, so it holds
-- whether readings and device_events are plain or partitioned tables.
--
-- Cheap per plug and range: a query's dev_eui and time bounds reach the readings scan (through UNION ALL),
-- and each keep-alive finds the one before it by the (dev_eui, time) key, first within a day before it (so a
-- partitioned readings table is probed in the partitions of that day only), else anywhere before it.
CREATE OR REPLACE VIEW relay_events AS
SELECT e.dev_eui, e.time,
  CASE e.kind WHEN 'manualChangeRelayState' THEN 'manual' ELSE 'reported' END AS source,
  CASE e.kind WHEN 'manualChangeRelayState' THEN (e.data ->> 'manualChangeRelayState')::boolean
              ELSE e.data ->> 'relayState' = 'ON' END AS relay_on
FROM device_events e
WHERE e.kind IN ('manualChangeRelayState', 'relayState')
UNION ALL
SELECT r.dev_eui, r.time, 'keepalive', r.relay_on
FROM readings r
WHERE r.relay_on <> coalesce(
    (SELECT p.relay_on FROM readings p
     WHERE p.dev_eui = r.dev_eui AND p.time < r.time AND p.time >= r.time - interval '1 day' ORDER BY p.time DESC LIMIT 1),
    (SELECT p.relay_on FROM readings p
     WHERE p.dev_eui = r.dev_eui AND p.time < r.time - interval '1 day' ORDER BY p.time DESC LIMIT 1),
    r.relay_on)
  AND NOT EXISTS (SELECT 1 FROM device_events e
                  WHERE e.dev_eui = r.dev_eui AND e.time = r.time AND e.kind IN ('manualChangeRelayState', 'relayState'));
