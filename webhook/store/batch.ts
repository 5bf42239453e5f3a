// Writes a batch of records with one statement, whatever its size: its rows go as JSON parameters
// (jsonb_to_recordset), which node-postgres and PGlite pass alike. One statement is its own transaction,
// so a caller with nothing else to write needs no BEGIN and COMMIT around it.
import type { Queryable } from "../db/database";
import { type Interpretation, interpret } from "../ingest/interpret";
import type { EventRecord, IngestRecord, Outcome, UplinkRecord } from "../ingest/records";

export interface BatchResult {
  outcomes: Outcome[];
  /** Stored uplinks whose payload gave decode errors. */
  decodeErrors: number;
  /** The kind of every event the stored uplinks (not simulated) brought: overcurrentEvents, keepAliveTime, … */
  eventKinds: string[];
}

// The whole batch is one call of ingest_batch (migration 008): one round trip, plans kept per connection.
const WRITE_BATCH = "SELECT ingest_batch($1::jsonb, $2::jsonb, $3::jsonb, $4::jsonb) AS new";

/** What the batch tells of the device's own activity (uplinks that are not simulated, joins). */
interface State {
  last_seen: string | null;
  keepalive_at: string | null;
  relay_on: boolean | null;
  relay_at: string | null;
  settings: Record<string, unknown>;
  settings_at: string | null;
}

/** A device's row: its names, and its state when the batch holds activity of its own. */
interface DeviceRow extends State {
  dev_eui: string;
  name: string | null;
  application: string | null;
  network: string;
  first_seen: string;
}

const NO_ACTIVITY: State = { last_seen: null, keepalive_at: null, relay_on: null, relay_at: null, settings: {}, settings_at: null };

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

function deviceRows(records: IngestRecord[], states: Map<string, State>): DeviceRow[] {
  const devices = new Map<string, DeviceRow>();
  for (const r of records) {
    const time = timeOf(r);
    const row = devices.get(r.devEui) ??
      { dev_eui: r.devEui, name: null, application: null, network: r.network, first_seen: time, ...(states.get(r.devEui) ?? NO_ACTIVITY) };
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
    // A keep-alive alone is held whole by its reading (re-decoded from payload when needed): no second copy.
    decoded: it.reading && it.events.length === 0 && !u.simulated ? null : it.decoded, decode_errors: it.errors.length ? it.errors : null, decode_warnings: it.warnings.length ? it.warnings : null,
    rssi: u.rssi, snr: u.snr, gateway_count: u.gatewayCount, spreading_factor: u.spreadingFactor, bandwidth_hz: u.bandwidthHz, frequency: u.frequency,
    simulated: u.simulated,
  };
}

function eventRow(i: number, e: Pick<EventRecord, "devEui" | "time" | "kind" | "data" | "network" | "dedupKey" | "timeNote">) {
  // A network time not believed is noted in the event's data (an uplink's, in its decode_warnings).
  const data = e.timeNote ? { ...e.data, timeNote: e.timeNote } : e.data;
  return { i, dev_eui: e.devEui, time: e.time, kind: e.kind, data, network: e.network, dedup_key: e.dedupKey };
}

/** Folds the uplinks (not simulated) and joins of one batch into one state per device. */
function deviceStates(uplinks: { uplink: UplinkRecord; it: Interpretation }[], joins: EventRecord[]): Map<string, State> {
  const states = new Map<string, State>();
  const row = (devEui: string) => states.get(devEui) ?? states.set(devEui, { ...NO_ACTIVITY, settings: {} }).get(devEui)!;
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
  return states;
}

export async function writeBatch(tx: Queryable, records: IngestRecord[]): Promise<BatchResult> {
  const outcomes: Outcome[] = records.map(() => "duplicate");
  // The same message twice in one batch (two concurrent deliveries): only the first is written.
  const firstIndex = new Map<string, number>();
  records.forEach((r, i) => firstIndex.has(identity(r)) || firstIndex.set(identity(r), i));
  const unique = [...firstIndex.values()];

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
  const devices = deviceRows(records, deviceStates(fromDevices, joins));
  const { rows } = await tx.query<{ new: number[] }>(WRITE_BATCH, [
    JSON.stringify(devices), JSON.stringify(uplinkRows), JSON.stringify(readingRows), JSON.stringify(eventRows),
  ]);
  let decodeErrors = 0;
  const eventKinds: string[] = [];
  for (const i of rows[0].new) {
    outcomes[i] = "stored";
    const it = interpretations.get(i);
    if (it?.errors.length) decodeErrors++;
    if (it && !(records[i] as UplinkRecord).simulated) for (const e of it.events) eventKinds.push(e.kind);
  }
  return { outcomes, decodeErrors, eventKinds };
}
