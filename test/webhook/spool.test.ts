// The spool on a real file system, and the writer falling back on it.
import { appendFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { IngestRecord, Outcome, Received, Written } from "../../webhook/ingest/records";
import { Spool, SpoolFullError } from "../../webhook/store/spool";
import { BatchWriter } from "../../webhook/store/writer";
import { uplinkRecord } from "../support/keepalives";

const record = (n: number): IngestRecord => uplinkRecord("70b3d52dd3000abc", new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(), new Uint8Array([0x12, n & 0xff]), n);
const keys = (records: Received[]) => records.map((r) => r.dedupKey);
const as = (outcome: Outcome): Written => ({ outcome });
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
};
const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspm16-spool-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("Spool", () => {
  it("gives records back in order, byte for byte, across a reopen", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    await spool.append([record(1), record(2)]);
    await spool.append([record(3)]);
    expect(spool.depth().records).toBe(3);
    const first = await spool.peek(2);
    expect(first.records).toEqual([record(1), record(2)]);
    await spool.commit(first.end, 2);
    await spool.close();

    const reopened = await Spool.open(dir, 1 << 20);
    expect(reopened.depth().records).toBe(1);
    const rest = await reopened.peek(10);
    expect(keys(rest.records)).toEqual(keys([record(3)]));
    await reopened.commit(rest.end, 1);
    expect(reopened.depth()).toEqual({ records: 0, bytes: 0 });
    // Emptied: the file starts over.
    expect((await readFile(join(dir, "spool.jsonl"))).length).toBe(0);
    await reopened.close();
  });

  it("cuts off a half-written last line (a crash during an append that was never acknowledged)", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    await spool.append([record(1)]);
    await spool.close();
    await appendFile(join(dir, "spool.jsonl"), '{"type":"uplink","devEui":"70b3');
    const reopened = await Spool.open(dir, 1 << 20);
    expect(reopened.depth().records).toBe(1);
    await reopened.append([record(2)]);
    expect(keys((await reopened.peek(10)).records)).toEqual(keys([record(1), record(2)]));
    await reopened.close();
  });

  it("replays everything again when the offset file is lost (duplicates are harmless, gaps are not)", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    await spool.append([record(1), record(2)]);
    const { end } = await spool.peek(1);
    await spool.commit(end, 1);
    await spool.close();
    await rm(join(dir, "spool.offset"));
    const reopened = await Spool.open(dir, 1 << 20);
    expect(reopened.depth().records).toBe(2);
    await reopened.close();
  });

  it("refuses an append that would pass its size limit, saying so", async () => {
    const spool = await Spool.open(dir, 1024);
    await spool.append([record(1)]);
    await expect(spool.append(Array.from({ length: 10 }, (_, i) => record(i)))).rejects.toThrow(SpoolFullError);
    await expect(spool.append(Array.from({ length: 10 }, (_, i) => record(i)))).rejects.toThrow(/the spool is full \(\d+ of 1024 bytes/);
    expect(spool.depth().records).toBe(1);
    await spool.close();
  });
});

describe("BatchWriter with a spool", () => {
  it("spools what the database refuses, answers at once, and replays it in order when the database is back", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    let up = false;
    const stored: string[] = [];
    const writer = new BatchWriter(async (records) => {
      if (!up) throw refused();
      stored.push(...keys(records));
      return records.map(() => as("stored"));
    }, { maxBatch: 3, spool, timeoutMs: 1000 });

    const outcomes = await Promise.all(Array.from({ length: 7 }, (_, i) => writer.write(record(i))));
    expect(outcomes).toEqual(Array(7).fill(as("spooled")));
    expect(spool.depth().records).toBe(7);
    // While the database is down, new writes go straight to the spool, after the older ones.
    expect(await writer.write(record(7))).toEqual(as("spooled"));

    up = true;
    await until(() => spool.depth().records === 0);
    expect(stored).toEqual(keys(Array.from({ length: 8 }, (_, i) => record(i))));
    expect(await writer.write(record(8))).toEqual(as("stored"));
    await writer.close();
    await spool.close();
  });

  it("spools a batch the database takes too long for, and replays it", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    let slow = true;
    const writer = new BatchWriter(async (records) => {
      if (slow) await new Promise((r) => setTimeout(r, 500));
      return records.map(() => as("stored"));
    }, { maxBatch: 10, spool, timeoutMs: 50 });
    const start = performance.now();
    expect(await writer.write(record(1))).toEqual(as("spooled"));
    expect(performance.now() - start).toBeLessThan(400);
    slow = false;
    await until(() => spool.depth().records === 0);
    await writer.close();
    await spool.close();
  });

  it("quarantines a spooled record the database refuses for its content, and replays the rest", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    let up = false;
    const rejected: string[] = [];
    const stored: string[] = [];
    const writer = new BatchWriter(async (records) => {
      if (!up) throw refused();
      if (records.some((r) => r.dedupKey === record(2).dedupKey)) throw Object.assign(new Error("value out of range"), { code: "22003" });
      stored.push(...keys(records));
      return records.map(() => as("stored"));
    }, { maxBatch: 10, spool, timeoutMs: 1000, quarantine: async (r) => void rejected.push(r.dedupKey) });
    await Promise.all([1, 2, 3].map((n) => writer.write(record(n))));
    up = true;
    await until(() => spool.depth().records === 0);
    expect(rejected).toEqual(keys([record(2)]));
    expect(stored).toEqual(keys([record(1), record(3)]));
    await writer.close();
    await spool.close();
  });

  it("fails the request, with the reason, when the spool is full too", async () => {
    const spool = await Spool.open(dir, 1024);
    const writer = new BatchWriter(async () => {
      throw refused();
    }, { maxBatch: 10, spool, timeoutMs: 1000 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => writer.write(record(i))));
    expect(results.every((r) => r.status === "rejected" && r.reason instanceof SpoolFullError)).toBe(true);
    await writer.close();
    await spool.close();
  });

  it("spools until the database is ready (migrated), then replays", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    let migrated!: () => void;
    const ready = new Promise<void>((resolve) => {
      migrated = resolve;
    });
    const writer = new BatchWriter(async (records) => records.map(() => as("stored")), { maxBatch: 10, spool, timeoutMs: 1000, ready });
    expect(await writer.write(record(1))).toEqual(as("spooled"));
    migrated();
    await until(() => spool.depth().records === 0);
    expect(await writer.write(record(2))).toEqual(as("stored"));
    await writer.close();
    await spool.close();
  });
});
