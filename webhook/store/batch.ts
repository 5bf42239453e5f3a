// Writes a batch of records in one transaction: two statements per batch, whatever its size.
// Every statement takes its rows as one JSON parameter (jsonb_to_recordset), which node-postgres and
// PGlite pass alike.
import type { Queryable } from "../db/database";
import { type Interpretation, interpret } from "../ingest/interpret";
import type { EventRecord, IngestRecord, Outcome, UplinkRecord } from "../ingest/records";

export interface BatchResult {
  outcomes: Outcome[];
  /** Stored uplinks whose payload gave decode errors. */
  decodeErrors: number;
}

const UPSERT_DEVICES = `
INSERT INTO devices (dev_eui, name, application, network, first_seen)
SELECT dev_eui, name, application, network, first_seen
FROM jsonb_to_recordset($1::jsonb) AS d(dev_eui text, name text, application text, network text, first_seen timestamptz)
ORDER BY dev_eui
ON CONFLICT (dev_eui) DO UPDATE SET
  name = COALESCE(EXCLUDED.name, devices.name),
  application = COALESCE(EXCLUDED.application, devices.application),
  network = EXCLUDED.network,
  first_seen = LEAST(devices.first_seen, EXCLUDED.first_seen)
-- Most batches change none of these: skipping the update spares a row version per device and batch.
WHERE EXCLUDED.name IS DISTINCT FROM devices.name AND EXCLUDED.name IS NOT NULL
   OR EXCLUDED.application IS DISTINCT FROM devices.application AND EXCLUDED.application IS NOT NULL
   OR EXCLUDED.network <> devices.network
   OR EXCLUDED.first_seen < devices.first_seen`;

// Everything else of the batch in one statement (one round trip): uplinks, readings, events and device
// state, and the rollups of the new readings. It returns the index of every input uplink and event that
// was new; a conflicting row is a duplicate. Readings, message events and device state do not depend on
// whether their uplink was new: a duplicate's reading and events conflict with the ones stored the first
// time, and its state changes nothing (a later report wins, an equal one is the same).
const WRITE_ROWS = `
WITH uplink_input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS u(i int, dev_eui text, received_at timestamptz, dedup_key text,
    network text, f_cnt bigint, f_port integer, payload text, decoded jsonb, decode_errors text[], decode_warnings text[],
    rssi real, snr real, gateway_count integer, spreading_factor integer, bandwidth_hz integer, frequency bigint, simulated boolean)
), new_uplinks AS (
  INSERT INTO uplinks (dev_eui, received_at, dedup_key, network, f_cnt, f_port, payload, decoded, decode_errors,
    decode_warnings, rssi, snr, gateway_count, spreading_factor, bandwidth_hz, frequency, simulated)
  SELECT dev_eui, received_at, dedup_key, network, f_cnt, f_port, decode(payload, 'hex'), decoded, decode_errors,
    decode_warnings, rssi, snr, gateway_count, spreading_factor, bandwidth_hz, frequency, simulated
  FROM uplink_input
  ON CONFLICT DO NOTHING
  RETURNING dev_eui, received_at, dedup_key
), new_readings AS (
  INSERT INTO readings (dev_eui, time, temperature_c, energy_wh, power_w, voltage_v, current_ma, relay_on)
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS r(dev_eui text, time timestamptz, temperature_c real, energy_wh bigint,
    power_w integer, voltage_v integer, current_ma integer, relay_on boolean)
  ON CONFLICT DO NOTHING
  RETURNING dev_eui, time
), rollups AS (
  -- rollup_readings (migrations 002, 004) is VOLATILE: it sees the readings this statement inserted.
  SELECT rollup_readings(jsonb_agg(new_readings)) FROM new_readings HAVING count(*) > 0
), event_input AS (
  SELECT * FROM jsonb_to_recordset($3::jsonb) AS e(i int, dev_eui text, time timestamptz, kind text, data jsonb,
    network text, dedup_key text)
), new_events AS (
  INSERT INTO device_events (dev_eui, time, kind, data, network, dedup_key)
  SELECT dev_eui, time, kind, data, network, dedup_key FROM event_input
  ON CONFLICT DO NOTHING
  RETURNING dev_eui, time, dedup_key
), state AS (
  -- The device's own activity (uplinks that are not simulated, joins): a later report wins; an older
  -- one (a late uplink) only fills in what is missing.
  UPDATE devices d SET
    last_seen = GREATEST(d.last_seen, s.last_seen),
    last_keepalive_at = GREATEST(d.last_keepalive_at, s.keepalive_at),
    relay_on = CASE WHEN s.relay_at IS NOT NULL AND (d.relay_at IS NULL OR s.relay_at >= d.relay_at)
                    THEN s.relay_on ELSE d.relay_on END,
    relay_at = GREATEST(d.relay_at, s.relay_at),
    settings = CASE WHEN s.settings_at IS NULL THEN d.settings
                    WHEN d.settings_at IS NULL OR s.settings_at >= d.settings_at THEN d.settings || s.settings
                    ELSE s.settings || d.settings END,
    settings_at = GREATEST(d.settings_at, s.settings_at)
  FROM jsonb_to_recordset($4::jsonb) AS s(dev_eui text, last_seen timestamptz, keepalive_at timestamptz, relay_on boolean,
    relay_at timestamptz, settings jsonb, settings_at timestamptz)
  -- The key list lets the planner probe the primary key: joined to the JSON alone, it scans every device.
  WHERE d.dev_eui = s.dev_eui AND d.dev_eui = ANY($5::text[])
)
SELECT uplink_input.i FROM uplink_input JOIN new_uplinks USING (dev_eui, received_at, dedup_key)
UNION ALL
-- Message events carry index -1: their outcome is their uplink's.
SELECT event_input.i FROM event_input JOIN new_events USING (dev_eui, time, dedup_key) WHERE event_input.i >= 0
UNION ALL
-- Named here so that the rollups run (a WITH query that only reads runs when it is used).
SELECT -1 FROM rollups`;

interface DeviceRow {
  dev_eui: string;
  name: string | null;
  application: string | null;
  network: string;
  first_seen: string;
}

interface StateRow {
  dev_eui: string;
  last_seen: string | null;
  keepalive_at: string | null;
  relay_on: boolean | null;
  relay_at: string | null;
  settings: Record<string, unknown>;
  settings_at: string | null;
}

function timeOf(record: IngestRecord): string {
  return record.type === "uplink" ? record.receivedAt : record.time;
}

/** Whether ISO time `a` is after `b` (null is before everything). */
function later(a: string, b: string | null): boolean {
  return b === null || Date.parse(a) > Date.parse(b);
}

function identity(record: IngestRecord): string {
  return `${record.devEui}|${timeOf(record)}|${record.dedupKey}`;
}

function deviceRows(records: IngestRecord[]): DeviceRow[] {
  const devices = new Map<string, DeviceRow>();
  for (const r of records) {
    const time = timeOf(r);
    const row = devices.get(r.devEui) ?? { dev_eui: r.devEui, name: null, application: null, network: r.network, first_seen: time };
    row.name = r.deviceName ?? row.name;
    row.application = r.application ?? row.application;
    row.network = r.network;
    if (later(row.first_seen, time)) row.first_seen = time;
    devices.set(r.devEui, row);
  }
  return [...devices.values()];
}

function uplinkRow(i: number, u: UplinkRecord, it: Interpretation) {
  return {
    i, dev_eui: u.devEui, received_at: u.receivedAt, dedup_key: u.dedupKey, network: u.network, f_cnt: u.fCnt, f_port: u.fPort,
    payload: u.payload ? Buffer.from(u.payload).toString("hex") : null,
    decoded: it.decoded, decode_errors: it.errors.length ? it.errors : null, decode_warnings: it.warnings.length ? it.warnings : null,
    rssi: u.rssi, snr: u.snr, gateway_count: u.gatewayCount, spreading_factor: u.spreadingFactor, bandwidth_hz: u.bandwidthHz, frequency: u.frequency,
    simulated: u.simulated,
  };
}

function eventRow(i: number, e: Pick<EventRecord, "devEui" | "time" | "kind" | "data" | "network" | "dedupKey">) {
  return { i, dev_eui: e.devEui, time: e.time, kind: e.kind, data: e.data, network: e.network, dedup_key: e.dedupKey };
}

/** Folds the uplinks (not simulated) and joins of one batch into one state row per device. */
function stateRows(uplinks: { uplink: UplinkRecord; it: Interpretation }[], joins: EventRecord[]): StateRow[] {
  const states = new Map<string, StateRow>();
  const row = (devEui: string) => states.get(devEui) ??
    states.set(devEui, { dev_eui: devEui, last_seen: null, keepalive_at: null, relay_on: null, relay_at: null, settings: {}, settings_at: null }).get(devEui)!;
  for (const join of joins) {
    const s = row(join.devEui);
    if (later(join.time, s.last_seen)) s.last_seen = join.time;
  }
  const sorted = [...uplinks].sort((a, b) => Date.parse(a.uplink.receivedAt) - Date.parse(b.uplink.receivedAt));
  for (const { uplink, it } of sorted) {
    const time = uplink.receivedAt;
    const s = row(uplink.devEui);
    if (later(time, s.last_seen)) s.last_seen = time;
    if (it.reading) s.keepalive_at = time;
    if (it.relayOn !== null) {
      s.relay_on = it.relayOn;
      s.relay_at = time;
    }
    if (Object.keys(it.settings).length > 0) {
      Object.assign(s.settings, it.settings);
      s.settings_at = time;
    }
  }
  return [...states.values()];
}

export async function writeBatch(tx: Queryable, records: IngestRecord[]): Promise<BatchResult> {
  const outcomes: Outcome[] = records.map(() => "duplicate");
  // The same message twice in one batch (two concurrent deliveries): only the first is written.
  const firstIndex = new Map<string, number>();
  records.forEach((r, i) => firstIndex.has(identity(r)) || firstIndex.set(identity(r), i));
  const unique = [...firstIndex.values()];

  // First, alone: its row locks serialise concurrent writers of one device (the rollups rely on it).
  await tx.query(UPSERT_DEVICES, [JSON.stringify(deviceRows(records))]);

  const interpretations = new Map<number, Interpretation>();
  const uplinkRows = [];
  const readingRows = [];
  const eventRows = [];
  const fromDevices: { uplink: UplinkRecord; it: Interpretation }[] = [];
  const joins: EventRecord[] = [];
  for (const i of unique) {
    const r = records[i];
    if (r.type === "event") {
      eventRows.push(eventRow(i, r));
      if (r.fromDevice) joins.push(r);
      continue;
    }
    const it = interpret(r);
    interpretations.set(i, it);
    uplinkRows.push(uplinkRow(i, r, it));
    // A simulated uplink is kept, but makes no reading, event or device state.
    if (r.simulated) continue;
    fromDevices.push({ uplink: r, it });
    if (it.reading) {
      readingRows.push({
        dev_eui: r.devEui, time: r.receivedAt, temperature_c: it.reading.temperatureC, energy_wh: it.reading.energyWh,
        power_w: it.reading.powerW, voltage_v: it.reading.voltageV, current_ma: it.reading.currentMa, relay_on: it.reading.relayOn,
      });
    }
    for (const e of it.events) {
      eventRows.push(eventRow(-1, { ...r, time: r.receivedAt, kind: e.kind, data: e.data, dedupKey: `${r.dedupKey}#${e.offset}` }));
    }
  }
  const states = stateRows(fromDevices, joins);

  const { rows } = await tx.query<{ i: number }>(WRITE_ROWS, [
    JSON.stringify(uplinkRows), JSON.stringify(readingRows), JSON.stringify(eventRows), JSON.stringify(states), states.map((s) => s.dev_eui),
  ]);
  let decodeErrors = 0;
  for (const { i } of rows) {
    if (i < 0) continue;
    outcomes[i] = "stored";
    if (interpretations.get(i)?.errors.length) decodeErrors++;
  }
  return { outcomes, decodeErrors };
}
