// BatchWriter with several transactions in flight (issue 13): batches on disjoint plugs at once, a plug's
// records never in two transactions at the same time and written in the order they arrived.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Received, Written } from "../../webhook/ingest/records";
import { BatchWriter } from "../../webhook/store/writer";

const record = (devEui: string | null, dedupKey: string, deviceName: string | null = null) =>
  ({ type: "event", network: "ttn", devEui, deviceName, application: "app", dedupKey }) as Received;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("BatchWriter with concurrency", () => {
  it("keeps up to `concurrency` transactions in flight on disjoint plugs, each plug in order", async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ plug: fc.integer({ min: 0, max: 5 }), pause: fc.boolean() }), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 8 }),
      async (arrivals, concurrency, maxBatch) => {
        let inFlight = 0;
        let most = 0;
        const holding = new Set<string>();
        const order: string[] = [];
        const writer = new BatchWriter(async (records) => {
          const plugs = new Set(records.map((r) => r.devEui!));
          for (const plug of plugs) {
            expect(holding.has(plug), `plug ${plug} in two transactions at once`).toBe(false);
            holding.add(plug);
          }
          most = Math.max(most, ++inFlight);
          order.push(...records.map((r) => r.dedupKey));
          await sleep(1 + records.length % 3);
          for (const plug of plugs) holding.delete(plug);
          inFlight--;
          return records.map((): Written => ({ outcome: "stored" }));
        }, { maxBatch, concurrency });
        const answers: Promise<Written>[] = [];
        for (const [i, a] of arrivals.entries()) {
          answers.push(writer.write(record(`plug${a.plug}`, `${a.plug}:${i}`)));
          if (a.pause) await sleep(1);
        }
        expect((await Promise.all(answers)).map((w) => w.outcome)).toEqual(arrivals.map(() => "stored"));
        await writer.flush();
        expect(most).toBeLessThanOrEqual(concurrency);
        // Each plug's records reached the database in arrival order.
        for (let plug = 0; plug <= 5; plug++) {
          const mine = order.filter((k) => k.startsWith(`${plug}:`)).map((k) => Number(k.split(":")[1]));
          expect(mine).toEqual([...mine].sort((a, b) => a - b));
        }
      }), { numRuns: 40 });
  });

  it("uses its slots: batches of different plugs overlap", async () => {
    let inFlight = 0;
    let most = 0;
    const writer = new BatchWriter(async (records) => {
      most = Math.max(most, ++inFlight);
      await sleep(20);
      inFlight--;
      return records.map((): Written => ({ outcome: "stored" }));
    }, { maxBatch: 2, concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => writer.write(record(`plug${i}`, `k${i}`))));
    expect(most).toBe(3);
  });

  it("treats records without DevEUI of one device as one plug", async () => {
    const batches: string[][] = [];
    const writer = new BatchWriter(async (records) => {
      batches.push(records.map((r) => r.dedupKey));
      await sleep(5);
      return records.map((): Written => ({ outcome: "stored" }));
    }, { maxBatch: 1, concurrency: 4 });
    await Promise.all([writer.write(record(null, "a1", "kitchen")), writer.write(record(null, "a2", "kitchen")), writer.write(record(null, "b1", "garage"))]);
    // a1 and b1 start together; a2 waits for a1.
    expect(batches).toEqual([["a1"], ["b1"], ["a2"]]);
  });
});
