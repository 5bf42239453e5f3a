// A full disk, as the trial found it: DATA_DIR on a small file system of its own (a tmpfs), PostgreSQL
// cut off behind a TCP proxy, uplinks until the disk refuses (ENOSPC). Every 2xx must be a whole record in
// the spool and stored exactly once when the database is back; the service (build/main.js, a process of
// its own) goes on taking what the database can take while the disk is full, and starts, without a
// restart loop, on a spool holding a torn line.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFile, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../../webhook/db/migrate";
import { freshPostgres, type TestDatabase } from "../support/databases";
import { TOKEN, ttsUplink } from "../support/messages";
import { startProgram, waitUntilOk } from "../support/process";
import { TcpProxy } from "../support/tcp-proxy";
import { mountTmpfs, type Tmpfs, tmpfsUnavailable } from "../support/tmpfs";

const server = process.env.TEST_DATABASE_URL;
const missing = !server ? "TEST_DATABASE_URL is not set" : tmpfsUnavailable();
if (missing) console.warn(`full-disk service test skipped: ${missing}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const key = (tag: string, n: number) => `tts:as:up:${tag}-${n}`;

interface Sent {
  acked: number[];
  statuses: Record<number, number>;
  /** The messages of the 503 answers. */
  refusals: string[];
}

/** Sends uplinks of `tag` from `workers` connections until `enough` says so (or `max` are sent). */
async function send(base: string, tag: string, enough: (sent: Sent) => boolean, max: number, workers = 4): Promise<Sent> {
  const sent: Sent = { acked: [], statuses: {}, refusals: [] };
  let next = 0;
  const worker = async () => {
    while (next < max && !enough(sent)) {
      const n = next++;
      const body = JSON.stringify(ttsUplink({
        devEui: `70b3d52dd30e${(n % 16).toString(16).padStart(4, "0")}`, id: `${tag}-${n}`, fCnt: n,
        time: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
      }));
      const response = await fetch(`${base}/ttn`, { method: "POST", headers, body });
      const answer = await response.json() as { message?: string };
      sent.statuses[response.status] = (sent.statuses[response.status] ?? 0) + 1;
      if (response.ok) sent.acked.push(n);
      if (response.status === 503) sent.refusals.push(answer.message ?? "");
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return sent;
}

describe.skipIf(missing !== undefined)(`a full disk under the spool, the service as a process${missing ? ` (skipped: ${missing})` : ""}`, () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  let disk: Tmpfs;
  let child: ChildProcess | undefined;
  const port = 21000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = () => join(disk.dir, "data");
  const spoolFile = () => join(dataDir(), "spool", "spool.jsonl");

  beforeAll(async () => {
    test = await freshPostgres(server!);
    await migrate(test.db);
    proxy = await TcpProxy.start("127.0.0.1", Number(new URL(server!).port || 5432));
    // About 1,400 spooled uplinks.
    disk = mountTmpfs(1024 * 1024) as Tmpfs;
  });
  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  });
  afterAll(async () => {
    disk?.unmount();
    await proxy?.close();
    await test?.drop();
  });

  async function startService(): Promise<ChildProcess> {
    const started = startProgram("main", {
      DATABASE_URL: proxy.url(test.url!), DATA_DIR: dataDir(), PORT: String(port), HOST: "127.0.0.1",
      WEBHOOK_TOKENS: TOKEN, API_TOKENS: "api-token-for-the-disk-full-test", LOG_LEVEL: "fatal", WRITE_TIMEOUT_MS: "1000",
    }, ["ignore", "ignore", "inherit"]);
    await waitUntilOk(`${base}/healthz`, 60);
    return started;
  }

  async function kill(service: ChildProcess): Promise<void> {
    service.kill("SIGKILL");
    await once(service, "exit");
  }

  async function drained(): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const response = await fetch(`${base}/readyz`).catch(() => undefined);
      if (response?.ok && (await response.json() as { spool: { records: number } }).spool.records === 0) return;
      await sleep(100);
    }
    throw new Error("the spool did not drain within 60 s");
  }

  async function expectStoredOnce(tag: string, acked: number[]): Promise<void> {
    const { rows } = await test.db.query<{ key: string; copies: number }>(
      `SELECT dedup_key AS key, count(*)::int AS copies FROM uplinks WHERE dedup_key LIKE $1 GROUP BY dedup_key`, [`tts:as:up:${tag}-%`]);
    const copies = new Map(rows.map((r) => [r.key, r.copies]));
    expect(acked.filter((n) => copies.get(key(tag, n)) !== 1), `acknowledged uplinks of ${tag} not stored exactly once (of ${acked.length})`).toEqual([]);
    expect(rows.every((r) => r.copies === 1)).toBe(true);
  }

  /** Fills what is left of the disk with a file of its own. */
  async function fillDisk(): Promise<void> {
    const filler = join(disk.dir, "filler");
    const chunk = Buffer.alloc(4096);
    for (;;) {
      try {
        await appendFile(filler, chunk);
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
        return;
      }
    }
  }

  it("answers 2xx only for whole records while the disk fills, 503 naming the cause after; stores each once when the database is back", async () => {
    child = await startService();
    proxy.cut("reset");
    const tag = `full-${Date.now()}`;
    const sent = await send(base, tag, (s) => s.refusals.length >= 20, 5000);
    expect(sent.acked.length, JSON.stringify(sent.statuses)).toBeGreaterThan(100);
    expect(Object.keys(sent.statuses).sort()).toEqual(["202", "503"]);
    for (const message of sent.refusals) {
      expect(message).toMatch(/^the message was not stored: the database is unavailable and the spool could not be written: (ENOSPC: no space left on device|only \d+ of \d+ bytes were written)/);
    }
    // Every acknowledged uplink is a whole line of the spool, and the spool holds nothing else.
    const text = await readFile(spoolFile(), "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const spooled = text.slice(0, -1).split("\n").map((line) => (JSON.parse(line) as { dedupKey: string }).dedupKey);
    expect(spooled.sort()).toEqual(sent.acked.map((n) => key(tag, n)).sort());

    // Space returns (the database too): the spool drains, each acknowledged uplink stored once.
    proxy.restore();
    await drained();
    await expectStoredOnce(tag, sent.acked);
    expect(child.exitCode).toBeNull();
  }, 120_000);

  it("takes live uplinks while the disk is full and the database up, also right after an outage the spool could not hold", async () => {
    child = await startService();
    await fillDisk();
    try {
      const tag = `live-${Date.now()}`;
      const up = await send(base, tag, () => false, 40);
      expect(up.statuses).toEqual({ 200: 40 });

      // The database goes: nowhere to keep an uplink, so 503, saying why.
      proxy.cut("reset");
      const down = await send(base, `${tag}-down`, () => false, 10);
      expect(down.statuses).toEqual({ 503: 10 });
      expect(down.refusals[0]).toMatch(/the database is unavailable and the spool could not be written: ENOSPC/);

      // It is back, the disk still full and the spool empty: uplinks are stored again at once.
      proxy.restore();
      const back = await send(base, `${tag}-back`, () => false, 40);
      expect(back.statuses).toEqual({ 200: 40 });
      await expectStoredOnce(tag, up.acked);
      await expectStoredOnce(`${tag}-back`, back.acked);
    } finally {
      await rm(join(disk.dir, "filler"));
    }
  }, 120_000);

  it("starts and stays up on a spool with a torn line in it, and stores every whole record (no restart loop)", async () => {
    child = await startService();
    proxy.cut("reset");
    const tag = `torn-${Date.now()}`;
    const sent = await send(base, tag, () => false, 30);
    expect(sent.statuses).toEqual({ 202: 30 });
    await kill(child);

    // As an older version left it: a write cut short by a full disk, the next record appended right after
    // it; and a line damaged on disk.
    const lines = (await readFile(spoolFile(), "utf8")).slice(0, -1).split("\n");
    const torn = JSON.stringify({ ...JSON.parse(lines[0]), dedupKey: "tts:as:up:never-acknowledged" }).slice(0, 281);
    lines[5] = `${torn}${lines[5]}`;
    lines.splice(10, 0, "{\"type\":\"uplink\",\u0000\u0000\u0000");
    await writeFile(spoolFile(), `${lines.join("\n")}\n`);

    child = await startService();
    await sleep(3000);
    expect(child.exitCode, "the service exited on the torn line").toBeNull();
    proxy.restore();
    await drained();
    await expectStoredOnce(tag, sent.acked);
    expect(child.exitCode).toBeNull();
    expect((await fetch(`${base}/healthz`)).ok).toBe(true);
    const unreadable = (await readFile(join(dataDir(), "spool", "unreadable.jsonl"), "utf8")).trim().split("\n")
      .map((line) => JSON.parse(line) as { reason: string; line: string });
    expect(unreadable.map((u) => u.line)).toEqual([torn, "{\"type\":\"uplink\",\u0000\u0000\u0000"]);
    for (const u of unreadable) expect(u.reason).toMatch(/^unreadable spool line: /);
  }, 120_000);
});
