import { describe, expect, it, vi } from "vitest";
import type { IngestRecord, Outcome, Written } from "../../webhook/ingest/records";
import { BatchWriter } from "../../webhook/store/writer";

const record = (dedupKey: string) => ({ type: "event", dedupKey }) as IngestRecord;
const as = (outcome: Outcome): Written => ({ outcome });
const outcomes = async (written: Promise<Written[]>) => (await written).map((w) => w.outcome);

describe("BatchWriter", () => {
  it("gathers requests that arrive while a transaction is in flight into the next one", async () => {
    const batches: number[] = [];
    const writer = new BatchWriter(async (records) => {
      batches.push(records.length);
      await new Promise((r) => setTimeout(r, 5));
      return records.map(() => as("stored"));
    }, { maxBatch: 100 });
    const first = Array.from({ length: 30 }, (_, i) => writer.write(record(`a${i}`)));
    await new Promise((r) => setTimeout(r, 1));
    const second = Array.from({ length: 250 }, (_, i) => writer.write(record(`b${i}`)));
    expect(await outcomes(Promise.all([...first, ...second]))).toEqual(Array(280).fill("stored"));
    expect(batches).toEqual([30, 100, 100, 50]);
  });

  it("starts the next transaction before answering the one that committed", async () => {
    const events: string[] = [];
    const commits: (() => void)[] = [];
    const writer = new BatchWriter(async (records) => {
      events.push(`start ${records.map((r) => r.dedupKey)}`);
      await new Promise<void>((commit) => commits.push(commit));
      return records.map(() => as("stored"));
    }, { maxBatch: 10 });
    const a = writer.write(record("a")).then(() => events.push("answer a"));
    // b arrives while a's transaction is in flight (waited for, not guessed with a timer: on a loaded machine
    // a 1 ms timer could fire before a's transaction started, and the two went out as one batch).
    await vi.waitFor(() => expect(commits).toHaveLength(1));
    const b = writer.write(record("b")).then(() => events.push("answer b"));
    commits.shift()!();
    await a;
    expect(commits).toHaveLength(1);
    commits.shift()!();
    await b;
    expect(events).toEqual(["start a", "start b", "answer a", "answer b"]);
  });

  it("answers each request with its own record's outcome, in order", async () => {
    const writer = new BatchWriter(async (records) => records.map((r) => as(r.dedupKey.startsWith("dup") ? "duplicate" : "stored")), { maxBatch: 10 });
    expect(await outcomes(Promise.all(["x", "dup1", "y"].map((k) => writer.write(record(k)))))).toEqual(["stored", "duplicate", "stored"]);
  });

  it("splits a batch the database refuses for its content until the bad record is alone, quarantines it, stores the rest", async () => {
    const transactions: string[][] = [];
    const stored: string[] = [];
    const quarantined: [string, string, string][] = [];
    const writer = new BatchWriter(async (records) => {
      transactions.push(records.map((r) => r.dedupKey));
      if (records.some((r) => r.dedupKey === "bad")) throw Object.assign(new Error("value out of range"), { code: "22003" });
      stored.push(...records.map((r) => r.dedupKey));
      return records.map(() => as("stored"));
    }, { maxBatch: 100, quarantine: async (r, reason, sqlstate) => void quarantined.push([r.dedupKey, reason, sqlstate]) });
    const keys = Array.from({ length: 16 }, (_, i) => (i === 5 ? "bad" : `r${i}`));
    const written = await Promise.all(keys.map((k) => writer.write(record(k))));
    expect(written[5]).toEqual({ outcome: "quarantined", reason: "the database refused it: value out of range (SQLSTATE 22003)" });
    expect(written.filter((w) => w.outcome === "stored")).toHaveLength(15);
    expect(stored.sort()).toEqual(keys.filter((k) => k !== "bad").sort());
    expect(quarantined).toEqual([["bad", "the database refused it: value out of range (SQLSTATE 22003)", "22003"]]);
    // Halves, not one transaction per record: 16 → 8 → 4 → 2 → 1, plus the good halves.
    expect(transactions.length).toBeLessThanOrEqual(1 + 2 * Math.log2(16));
  });

  it("sets a refused record aside in the file when the quarantine table refuses it too", async () => {
    const file: [string, string][] = [];
    const writer = new BatchWriter(async () => {
      throw Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" });
    }, {
      maxBatch: 10,
      quarantine: async () => {
        throw Object.assign(new Error("invalid byte sequence"), { code: "22021" });
      },
      setAside: async (r, reason) => void file.push([r.dedupKey, reason]),
    });
    expect(await writer.write(record("nul"))).toEqual({ outcome: "quarantined", reason: expect.stringMatching(/refused it too: invalid byte sequence$/) });
    expect(file).toEqual([["nul", expect.stringMatching(/^the database refused it: unsupported Unicode escape sequence \(SQLSTATE 22P05\); the quarantine/)]]);
  });

  it("fails a refused record when there is nowhere to keep it (no quarantine configured)", async () => {
    const writer = new BatchWriter(async () => {
      throw Object.assign(new Error("value out of range"), { code: "22003" });
    }, { maxBatch: 10 });
    await expect(writer.write(record("bad"))).rejects.toThrow("value out of range");
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
      return records.map(() => as("stored"));
    }, { maxBatch: 3 });
    for (let i = 0; i < 7; i++) void writer.write(record(`r${i}`));
    await writer.flush();
    expect(stored).toBe(7);
  });
});
