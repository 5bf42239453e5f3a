// The wire-format bound that stands before google-protobuf (webhook/ingest/protobuf-wire.ts): its table of
// message fields is proved against google-protobuf itself, and the bodies that made google-protobuf spin are refused.
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { CHIRPSTACK_WIRE, checkWire, PROTOBUF_MAX_DEPTH, type WireShape } from "../../webhook/ingest/protobuf-wire";

const require = createRequire(import.meta.url);
const CLASSES: Record<keyof typeof CHIRPSTACK_WIRE, string> = {
  up: "UplinkEvent", join: "JoinEvent", ack: "AckEvent", txack: "TxAckEvent", log: "LogEvent", status: "StatusEvent", location: "LocationEvent",
};
/** The body that google-protobuf 3.21 never returns on when it reads it as a message: a string field of 2^32-1 bytes. */
const SPIN = [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f];

function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return out;
}
/** A length-delimited field. */
const delimited = (field: number, content: number[]) => [...varint(field * 8 + 2), ...varint(content.length), ...content];
/** `content` inside the messages of `path` (field numbers, outermost first). */
const nest = (path: number[], content: number[]) => path.reduceRight((inner, field) => delimited(field, inner), content);

/** Every message reachable in a shape, by path; a cycle (Struct ↔ Value) is followed once. */
function messages(shape: WireShape, path: number[] = [], seen = new Set<WireShape>()): { path: number[]; shape: WireShape }[] {
  if (seen.has(shape)) return [];
  const inner = new Set(seen).add(shape);
  return [{ path, shape }, ...Object.entries(shape).flatMap(([field, s]) => messages(s, [...path, Number(field)], inner))];
}

/**
 * Runs google-protobuf's deserializeBinary on each body in a worker, one at a time; resolves to the index
 * of the first body it did not return on within `ms` (the worker is ended), or -1.
 */
function firstThatSpins(type: string, bodies: number[][], ms: number): Promise<number> {
  const worker = new Worker(`
    const { parentPort, workerData } = require("node:worker_threads");
    const type = require(workerData.module)[workerData.type];
    workerData.bodies.forEach((body, i) => {
      try { type.deserializeBinary(Uint8Array.from(body)); } catch {}
      parentPort.postMessage(i);
    });
  `, { eval: true, workerData: { module: require.resolve("@chirpstack/chirpstack-api/integration/integration_pb.js"), type, bodies } });
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout;
    let next = 0;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void worker.terminate().then(() => resolve(next)), ms);
    };
    arm();
    worker.on("message", (i: number) => {
      next = i + 1;
      if (next === bodies.length) {
        clearTimeout(timer);
        void worker.terminate().then(() => resolve(-1));
      } else arm();
    });
    worker.on("error", reject);
  });
}

describe("the protobuf wire bound", () => {
  it("refuses the bodies google-protobuf never returns on, at the top and inside messages", () => {
    expect(checkWire(Uint8Array.from(SPIN), CHIRPSTACK_WIRE.up)).toBe("field 1 at byte 0 declares 4294967295 bytes, but 0 are left");
    expect(checkWire(Uint8Array.from(nest([3], SPIN)), CHIRPSTACK_WIRE.up)).toBe("field 3.1 at byte 2 declares 4294967295 bytes, but 0 are left");
    expect(checkWire(Uint8Array.from([0x0b]), CHIRPSTACK_WIRE.up)).toMatch(/^field 1 at byte 0 has wire type start-group/);
    expect(checkWire(Uint8Array.from([0x08, 0xff]), CHIRPSTACK_WIRE.up)).toBe("field 1 at byte 1 is cut off");
    expect(checkWire(Uint8Array.from([0x08, ...Array(10).fill(0xff), 1]), CHIRPSTACK_WIRE.up)).toMatch(/longer than 10 bytes/);
  });

  it(`refuses messages nested deeper than ${PROTOBUF_MAX_DEPTH} levels (a google.protobuf.Struct in object)`, () => {
    // object (11) → fields entry (1) → value (2) → struct_value (5) → fields entry (1) → …
    const path = [11, ...Array.from({ length: PROTOBUF_MAX_DEPTH }, () => [1, 2, 5]).flat()];
    expect(checkWire(Uint8Array.from(nest(path, [])), CHIRPSTACK_WIRE.up)).toMatch(new RegExp(`^messages nest deeper than ${PROTOBUF_MAX_DEPTH} levels`));
    expect(checkWire(Uint8Array.from(nest(path.slice(0, 60), [])), CHIRPSTACK_WIRE.up)).toBeUndefined();
  });

  // If the table missed a message field, google-protobuf would read that field as a message and spin on
  // SPIN while the bound let it through. For every message of every event and every field number the
  // table calls not a message (up to 24, beyond ChirpStack's largest), google-protobuf must return.
  for (const [event, shape] of Object.entries(CHIRPSTACK_WIRE) as [keyof typeof CHIRPSTACK_WIRE, WireShape][]) {
    it(`knows every message field of ChirpStack's ${event} event (google-protobuf returns on every other field)`, async () => {
      const probes = messages(shape).flatMap(({ path, shape: inner }) =>
        Array.from({ length: 24 }, (_, i) => i + 1).filter((field) => !(field in inner)).map((field) => [...path, field]));
      const bodies = probes.map((path) => nest(path, SPIN));
      for (const body of bodies) expect(checkWire(Uint8Array.from(body), shape)).toBeUndefined();
      const spun = await firstThatSpins(CLASSES[event], bodies, 2000);
      expect(spun === -1 ? "none" : `field ${probes[spun].join(".")}`).toBe("none");
    }, 60_000);
  }

  it("the probe is sound: google-protobuf spins on a message field the table is told to forget", async () => {
    const bodies = [nest([3, 9], SPIN), nest([3], SPIN)];
    expect(await firstThatSpins("UplinkEvent", bodies, 1000)).toBe(0);
  });
});
