// The spool on a real file system, and the writer falling back on it.
import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type IngestRecord, type Outcome, type Received, recordToJson, type Written } from "../../webhook/ingest/records";
import { Spool, SpoolError, SpoolFullError, unreadablePath } from "../../webhook/store/spool";
import { BatchWriter } from "../../webhook/store/writer";
import { uplinkRecord } from "../support/keepalives";
import { mountTmpfs, type Tmpfs, tmpfsUnavailable } from "../support/tmpfs";

const record = (n: number): IngestRecord => uplinkRecord("70b3d52dd3000abc", new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(), new Uint8Array([0x12, n & 0xff]), n);
const keys = (records: Received[]) => records.map((r) => r.dedupKey);
const as = (outcome: Outcome): Written => ({ outcome });
const until = async (condition: () => boolean) => {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
};
const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

/** A database for BatchWriter that refuses connections until `up` is set, then stores, keeping the stored keys;
 *  `check` may refuse a batch for its content first. */
function database(check: (records: Received[]) => void = () => undefined) {
  const db = {
    up: false,
    stored: [] as string[],
    write: async (records: Received[]): Promise<Written[]> => {
      if (!db.up) throw refused();
      check(records);
      db.stored.push(...keys(records));
      return records.map(() => as("stored"));
    },
  };
  return db;
}

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

describe("Spool: lines that cannot be read", () => {
  it("sets aside a torn piece in the middle (an older version's short write, appended after) with its reason, and keeps the records around it", async () => {
    // Record 2's write was cut short by a full disk; record 3 was appended right after the torn piece.
    const torn = recordToJson(record(2)).slice(0, 60);
    await writeFile(join(dir, "spool.jsonl"), `${recordToJson(record(1))}\n${torn}${recordToJson(record(3))}\n${recordToJson(record(4))}\n`);
    const spool = await Spool.open(dir, 1 << 20);
    expect(spool.depth().records).toBe(3);
    const first = await spool.peek(10);
    expect(keys(first.records)).toEqual(keys([record(1), record(3), record(4)]));
    expect(first.lines).toBe(3);
    expect(first.unreadable).toEqual([{ offset: recordToJson(record(1)).length + 1, reason: expect.stringMatching(/^unreadable spool line: .*JSON/), kept: true }]);
    // Peeked again (the database failed meanwhile): set aside once, not again.
    expect((await spool.peek(10)).unreadable).toEqual([]);
    await spool.commit(first.end, first.lines);
    expect(spool.depth()).toEqual({ records: 0, bytes: 0 });
    const kept = (await readFile(unreadablePath(dir), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { reason: string; line: string });
    expect(kept).toEqual([expect.objectContaining({ reason: first.unreadable[0].reason, line: torn })]);
    await spool.close();
  });

  it("sets aside a line that is JSON but no record, instead of handing it to the database", async () => {
    await writeFile(join(dir, "spool.jsonl"), `{"hello":"world"}\n${(await (async () => {
      const spool = await Spool.open(dir, 1 << 20);
      await spool.append([record(3)]);
      await spool.close();
      return readFile(join(dir, "spool.jsonl"), "utf8");
    })())}`);
    const spool = await Spool.open(dir, 1 << 20);
    const { records, unreadable } = await spool.peek(10);
    expect(keys(records)).toEqual(keys([record(3)]));
    expect(unreadable).toEqual([expect.objectContaining({ offset: 0, reason: expect.stringContaining("not a spooled record"), kept: true })]);
    await spool.close();
  });
});

const noTmpfs = tmpfsUnavailable();
if (noTmpfs) console.warn(`full-disk spool tests skipped: ${noTmpfs}`);

describe.skipIf(noTmpfs !== undefined)(`Spool on a full disk (a 64 KiB tmpfs)${noTmpfs ? ` (skipped: ${noTmpfs})` : ""}`, () => {
  let disk: Tmpfs;
  beforeEach(() => {
    disk = mountTmpfs(64 * 1024) as Tmpfs;
  });
  afterEach(() => disk.unmount());

  it("acknowledges only appends written whole; a short write is cut back and refused naming ENOSPC; after space returns it goes on", async () => {
    // Something else holds most of the disk.
    await writeFile(join(disk.dir, "filler"), Buffer.alloc(40 * 1024));
    const spool = await Spool.open(join(disk.dir, "spool"), 1 << 30);
    const acked: Received[] = [];
    let refusal: unknown;
    for (let n = 0; n < 1000 && !refusal; n++) {
      // Batches of 3: the last one is cut short inside a record.
      const batch = [record(3 * n), record(3 * n + 1), record(3 * n + 2)];
      try {
        await spool.append(batch);
        acked.push(...batch);
      } catch (error) {
        refusal = error;
      }
    }
    expect(refusal).toBeInstanceOf(SpoolError);
    expect((refusal as Error).message).toMatch(/^the spool could not be written: (ENOSPC|only \d+ of \d+ bytes were written)/);
    expect(acked.length).toBeGreaterThan(0);
    // The file holds exactly the acknowledged records, whole.
    const text = await readFile(join(disk.dir, "spool", "spool.jsonl"), "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.trim().split("\n").map((l) => JSON.parse(l).dedupKey)).toEqual(keys(acked));
    expect(spool.depth().records).toBe(acked.length);
    // Still full: refused again, the file unchanged.
    await expect(spool.append([record(9999)])).rejects.toThrow(SpoolError);
    expect(await readFile(join(disk.dir, "spool", "spool.jsonl"), "utf8")).toBe(text);

    // Space returns: appends are taken again, and everything acknowledged reads back once, in order.
    await rm(join(disk.dir, "filler"));
    await spool.append([record(10_000)]);
    const all: string[] = [];
    for (;;) {
      const { records, end, lines } = await spool.peek(7);
      if (lines === 0) break;
      all.push(...keys(records));
      await spool.commit(end, lines);
    }
    expect(all).toEqual(keys([...acked, record(10_000)]));
    await spool.close();
  });

  it("commits replay progress on a full disk (the offset is overwritten in place), so the spool drains and frees the space", async () => {
    const spool = await Spool.open(join(disk.dir, "spool"), 1 << 30);
    let n = 0;
    for (;;) {
      try {
        await spool.append([record(n++)]);
      } catch {
        break;
      }
    }
    const depth = spool.depth().records;
    const first = await spool.peek(5);
    await spool.commit(first.end, first.lines);
    expect(spool.depth().records).toBe(depth - 5);
    await spool.close();
    // The committed offset reached the disk: a reopen starts after it.
    const reopened = await Spool.open(join(disk.dir, "spool"), 1 << 30);
    expect(reopened.depth().records).toBe(depth - 5);
    const rest = await reopened.peek(100_000);
    await reopened.commit(rest.end, rest.lines);
    expect(reopened.depth()).toEqual({ records: 0, bytes: 0 });
    await reopened.close();
  });
});

describe("BatchWriter with a spool", () => {
  it("spools what the database refuses, answers at once, and replays it in order when the database is back", async () => {
    const spool = await Spool.open(dir, 1 << 20);
    const db = database();
    const writer = new BatchWriter(db.write, { maxBatch: 3, spool, timeoutMs: 1000 });

    const outcomes = await Promise.all(Array.from({ length: 7 }, (_, i) => writer.write(record(i))));
    expect(outcomes).toEqual(Array(7).fill(as("spooled")));
    expect(spool.depth().records).toBe(7);
    // While the database is down, new writes go straight to the spool, after the older ones.
    expect(await writer.write(record(7))).toEqual(as("spooled"));

    db.up = true;
    await until(() => spool.depth().records === 0);
    expect(db.stored).toEqual(keys(Array.from({ length: 8 }, (_, i) => record(i))));
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
    const rejected: string[] = [];
    const db = database((records) => {
      if (records.some((r) => r.dedupKey === record(2).dedupKey)) throw Object.assign(new Error("value out of range"), { code: "22003" });
    });
    const writer = new BatchWriter(db.write, { maxBatch: 10, spool, timeoutMs: 1000, quarantine: async (r) => void rejected.push(r.dedupKey) });
    await Promise.all([1, 2, 3].map((n) => writer.write(record(n))));
    db.up = true;
    await until(() => spool.depth().records === 0);
    expect(rejected).toEqual(keys([record(2)]));
    expect(db.stored).toEqual(keys([record(1), record(3)]));
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

  it("when the spool refuses a batch (full disk) while it believed the database down, gives it to the database, which is back", async () => {
    // Not even one record fits.
    const spool = await Spool.open(dir, 100);
    const db = database();
    const writer = new BatchWriter(db.write, { maxBatch: 10, spool, timeoutMs: 1000 });
    // The database fails and the spool is full: 503 (the writer now believes the database down).
    const first = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => writer.write(record(i))));
    expect(first.every((r) => r.status === "rejected" && r.reason instanceof SpoolFullError)).toBe(true);
    // The database is back, the spool is still empty: nothing replays to say so, yet live records are stored.
    db.up = true;
    expect(await writer.write(record(100))).toEqual(as("stored"));
    expect(await writer.write(record(101))).toEqual(as("stored"));
    expect(db.stored).toEqual(keys([record(100), record(101)]));
    await writer.close();
    await spool.close();
  });

  it("replays past a line that cannot be read, reporting it, instead of stopping there", async () => {
    await writeFile(join(dir, "spool.jsonl"), [
      recordToJson(record(1)), `{"type":"uplink","network":"ttn","dev`, `${recordToJson(record(9)).slice(0, 50)}${recordToJson(record(2))}`, recordToJson(record(3)), "",
    ].join("\n"));
    const spool = await Spool.open(dir, 1 << 20);
    const stored: string[] = [];
    const unreadable: unknown[] = [];
    const writer = new BatchWriter(async (records) => {
      stored.push(...keys(records));
      return records.map(() => as("stored"));
    }, { maxBatch: 10, spool, timeoutMs: 1000, onUnreadable: (line) => unreadable.push(line) });
    await until(() => spool.depth().records === 0);
    expect(stored).toEqual(keys([record(1), record(2), record(3)]));
    expect(unreadable).toHaveLength(2);
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
