// Property: any body within TTS's or ChirpStack's schema (any field left out, any number within its
// protobuf type, any string, null for a default) is answered 2xx and kept exactly once: a row in uplinks or device_events,
// or a quarantine entry (the table, else the set-aside file), or recognised as a duplicate.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Spool } from "../../webhook/store/spool";
import type { Database } from "../../webhook/db/database";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { TOKEN } from "../support/messages";

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
// Any field left out, or null (protobuf JSON's other way of writing a default).
const orNull = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) });
const some = <T extends Record<string, unknown>>(record: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
  fc.record(Object.fromEntries(Object.entries(record).map(([k, arb]) => [k, orNull(arb as fc.Arbitrary<unknown>)])), { requiredKeys: [] });

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });
const int32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
const uint64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String);
// Mostly what radios report, sometimes anything a float is.
const float = fc.oneof(
  fc.integer({ min: -1400, max: 300 }).map((n) => n / 4),
  fc.double(),
  fc.constantFrom("NaN", "Infinity", "-Infinity"),
).map((v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
// Protobuf's Timestamp range, nanoseconds included, UTC or an offset as ChirpStack writes it.
const timestamp = fc.tuple(
  fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }),
  fc.integer({ min: 0, max: 999_999_999 }),
  fc.constantFrom("Z", "+00:00"),
).map(([d, nanos, zone]) => d.toISOString().replace(/\.\d{3}Z$/, `.${String(nanos).padStart(9, "0")}${zone}`));
const base64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString("base64"));
const text = fc.oneof(fc.constantFrom("plug-1", "plug-2", "app1"), fc.string({ unit: "binary", minLength: 1, maxLength: 12 }));
// Free-form objects (decoded payloads, event data). fast-check's strings favour "__proto__" and "constructor";
// JSON that pollutes prototypes with them is refused on purpose (bad-input.test.ts), as Fastify's parser
// finds it: a "__proto__" key, or a "constructor" object with a "prototype" key.
const pollutes = (value: unknown): boolean => {
  if (value === null || typeof value !== "object") return false;
  const own = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);
  const constructorValue = own(value, "constructor") ? (value as Record<string, unknown>).constructor : undefined;
  return own(value, "__proto__") || (constructorValue !== null && typeof constructorValue === "object" && own(constructorValue, "prototype")) ||
    Object.values(value).some(pollutes);
};
const json = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).filter((value) => !pollutes(value));
// A few devices, so that messages meet again: duplicates, and DevEUI-less messages of known devices.
const devEui = fc.constantFrom("70B3D52DD3000F01", "70b3d52dd3000f02", "0101010101010101");

const ttsUplink = some({
  f_port: uint32, f_cnt: uint32, frm_payload: base64, decoded_payload: json,
  rx_metadata: fc.array(some({ rssi: float, channel_rssi: float, snr: float, gateway_ids: some({ gateway_id: text }) }), { maxLength: 3 }),
  settings: some({ data_rate: some({ lora: some({ spreading_factor: uint32, bandwidth: uint32, coding_rate: fc.constant("4/5") }) }), frequency: uint64 }),
  received_at: timestamp, simulated: fc.boolean(), confirmed: fc.boolean(), consumed_airtime: fc.constant("0.061696s"),
});
const TTS_EVENTS = ["join_accept", "downlink_ack", "downlink_nack", "downlink_sent", "downlink_failed", "downlink_queued",
  "downlink_queue_invalidated", "location_solved", "service_data", "uplink_normalized"];
const tts = fc.tuple(
  fc.record({
    end_device_ids: fc.record({ device_id: text, dev_eui: opt(devEui), application_ids: opt(some({ application_id: text })) }, { requiredKeys: ["device_id"] }),
    correlation_ids: opt(fc.array(fc.oneof(fc.uuid().map((id) => `as:up:${id}`), text), { maxLength: 3 })),
    received_at: opt(timestamp),
    simulated: opt(fc.boolean()),
  }, { requiredKeys: ["end_device_ids"] }),
  fc.oneof(ttsUplink.map((u) => ["uplink_message", u] as const), fc.tuple(fc.constantFrom(...TTS_EVENTS), json)),
).map(([message, [type, content]]) => ({ ...message, [type]: content }));

const chirpstack = fc.tuple(
  fc.constantFrom("up", "join", "ack", "txack", "log", "status", "location", "integration"),
  some({
    deduplicationId: fc.uuid(), time: timestamp,
    fCnt: uint32, fPort: uint32, data: base64, object: json, confirmed: fc.boolean(), adr: fc.boolean(), dr: uint32,
    rxInfo: fc.array(some({ gatewayId: fc.constant("0016c001f153a14c"), rssi: int32, snr: float, crcStatus: fc.constantFrom("CRC_OK", 1) }), { maxLength: 3 }),
    txInfo: some({ frequency: uint32, modulation: some({ lora: some({ spreadingFactor: uint32, bandwidth: uint32, codeRate: fc.constantFrom("CR_4_5", 1) }) }) }),
    acknowledged: fc.boolean(), queueItemId: fc.uuid(), fCntDown: uint32,
    level: fc.constantFrom("INFO", "WARNING", "ERROR", 0, 2), code: fc.constantFrom("UNKNOWN", "UPLINK_CODEC", 6), description: text,
    margin: int32, batteryLevel: float,
  }),
  some({ deviceName: text, applicationName: text, tenantName: text }),
  devEui,
).map(([event, body, info, eui]) => [event, { ...body, deviceInfo: { ...info, devEui: eui } }] as const);

describe.each(DATABASES)("any well-formed network-server body on %s", (_name, factory) => {
  let dir: string;
  let spool: Spool;
  let service: ApiApp;
  let base: string;
  let db: Database;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "aspm16-properties-"));
    spool = await Spool.open(dir, 1 << 24);
    // A long write timeout: under this machine's load a slow commit must not turn into a spooled answer.
    service = await startApiApp(factory, { spool, writeTimeoutMs: 60_000 });
    ({ base, db } = service);
  });
  afterAll(async () => {
    await service.close();
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Everything kept: message rows (not the events derived from an uplink's messages), quarantine entries, set-aside lines. */
  async function kept(): Promise<number> {
    const { rows: [{ n }] } = await db.query<{ n: number }>(`SELECT
      (SELECT count(*) FROM uplinks WHERE dedup_key NOT LIKE '%#%') + (SELECT count(*) FROM device_events WHERE dedup_key NOT LIKE '%#%')
      + (SELECT coalesce(sum(attempts), 0) FROM quarantine) AS n`);
    const aside = await readFile(join(dir, "set-aside.jsonl"), "utf8").catch(() => "");
    return Number(n) + aside.split("\n").filter(Boolean).length;
  }

  async function sendAndCheck(path: string, body: unknown) {
    const before = await kept();
    const response = await fetch(`${base}${path}`, {
      method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body),
    });
    const answer = await response.json() as { status: string };
    expect([200, 202], JSON.stringify(answer)).toContain(response.status);
    expect(["stored", "duplicate", "quarantined"]).toContain(answer.status);
    expect(await kept() - before, JSON.stringify(answer)).toBe(answer.status === "duplicate" ? 0 : 1);
  }

  it("TTS messages: every one 2xx and kept once", { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(tts, (body) => sendAndCheck("/ttn", body)), { numRuns: 40 });
  });

  it("ChirpStack events: every one 2xx and kept once", { timeout: 120_000 }, async () => {
    await fc.assert(fc.asyncProperty(chirpstack, ([event, body]) => sendAndCheck(`/chirpstack?event=${event}`, body)), { numRuns: 40 });
  });
});
