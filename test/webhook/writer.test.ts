import { describe, expect, it } from "vitest";
import type { IngestRecord, Outcome } from "../../webhook/ingest/records";
import { BatchWriter } from "../../webhook/store/writer";

const record = (dedupKey: string) => ({ type: "event", dedupKey }) as IngestRecord;

describe("BatchWriter", () => {
  it("gathers requests that arrive while a transaction is in flight into the next one", async () => {
    const batches: number[] = [];
    const writer = new BatchWriter(async (records) => {
      batches.push(records.length);
      await new Promise((r) => setTimeout(r, 5));
      return records.map((): Outcome => "stored");
    }, { maxBatch: 100 });
    const first = Array.from({ length: 30 }, (_, i) => writer.write(record(`a${i}`)));
    await new Promise((r) => setTimeout(r, 1));
    const second = Array.from({ length: 250 }, (_, i) => writer.write(record(`b${i}`)));
    expect(await Promise.all([...first, ...second])).toEqual(Array(280).fill("stored"));
    expect(batches).toEqual([30, 100, 100, 50]);
  });

  it("answers each request with its own record's outcome, in order", async () => {
    const writer = new BatchWriter(async (records) => records.map((r): Outcome => (r.dedupKey.startsWith("dup") ? "duplicate" : "stored")), { maxBatch: 10 });
    expect(await Promise.all(["x", "dup1", "y"].map((k) => writer.write(record(k))))).toEqual(["stored", "duplicate", "stored"]);
  });

  it("writes records one by one when the data fails a batch, so one bad record fails alone", async () => {
    const writer = new BatchWriter(async (records) => {
      if (records.some((r) => r.dedupKey === "bad")) throw Object.assign(new Error("value out of range"), { code: "22003" });
      return records.map((): Outcome => "stored");
    }, { maxBatch: 10 });
    const results = await Promise.allSettled(["a", "bad", "c"].map((k) => writer.write(record(k))));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  });

  it("fails the whole batch, without retries, when the database itself fails", async () => {
    let calls = 0;
    const writer = new BatchWriter(async () => {
      calls++;
      throw Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
    }, { maxBatch: 10 });
    const results = await Promise.allSettled(["a", "b", "c"].map((k) => writer.write(record(k))));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(calls).toBe(1);
  });

  it("flush() waits for everything accepted", async () => {
    let stored = 0;
    const writer = new BatchWriter(async (records) => {
      await new Promise((r) => setTimeout(r, 10));
      stored += records.length;
      return records.map((): Outcome => "stored");
    }, { maxBatch: 3 });
    for (let i = 0; i < 7; i++) void writer.write(record(`r${i}`));
    await writer.flush();
    expect(stored).toBe(7);
  });
});
