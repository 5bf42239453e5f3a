// Lose nothing: PostgreSQL cut off behind a TCP proxy while uplinks keep arriving, and the service
// killed with SIGKILL under load. Every uplink answered 2xx must end up in the database exactly once.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { load, type LoadResult } from "../../bench/load";
import { buildApp } from "../../webhook/app";
import { type Database, postgres } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { Spool } from "../../webhook/store/spool";
import { freshPostgres, type TestDatabase } from "../support/databases";
import { TOKEN, ttsUplink } from "../support/messages";
import { startProgram, waitUntilOk } from "../support/process";
import { type Cut, TcpProxy } from "../support/tcp-proxy";

const server = process.env.TEST_DATABASE_URL!;
const headers = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Distinct uplinks of 20 devices; `tag` keeps the phases of one test apart. */
const uplink = (tag: string) => (n: number) => JSON.stringify(ttsUplink({
  devEui: `70b3d52dd30f${(n % 20).toString(16).padStart(4, "0")}`,
  id: `${tag}-${n}`, fCnt: n, time: new Date(Date.UTC(2026, 10, 1) + n * 1000).toISOString(),
}));

/** Runs a closed-loop load until stop() is called. */
function startLoad(base: string, tag: string, connections = 8) {
  const controller = new AbortController();
  const result = load(`${base}/ttn`, connections, controller.signal, uplink(tag), headers);
  return { stop: async (): Promise<LoadResult> => (controller.abort(), result) };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  for (let i = 0; i < seconds * 10; i++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Resolves once the service's spool is empty and its database answers. */
const drained = (base: string) => waitFor("the spool to drain", async () => {
  const response = await fetch(`${base}/readyz`);
  const body = await response.json() as { spool: { records: number } };
  return response.ok && body.spool.records === 0 ? true : undefined;
});

/** Each acknowledged uplink of `tag` is stored exactly once; returns how many were. */
async function expectStoredOnce(db: Database, tag: string, acked: number[]): Promise<void> {
  const { rows } = await db.query<{ key: string; copies: number }>(
    `SELECT dedup_key AS key, count(*)::int AS copies FROM uplinks WHERE dedup_key LIKE $1 GROUP BY dedup_key`, [`tts:as:up:${tag}-%`]);
  const copies = new Map(rows.map((r) => [r.key, r.copies]));
  const missing = acked.filter((n) => copies.get(`tts:as:up:${tag}-${n}`) !== 1);
  expect(missing, `acknowledged uplinks not stored exactly once (of ${acked.length})`).toEqual([]);
  for (const [, n] of copies) expect(n).toBe(1);
}

describe.runIf(server)("faults on PostgreSQL (needs TEST_DATABASE_URL)", () => {
  let test: TestDatabase;
  let proxy: TcpProxy;
  const dirs: string[] = [];

  beforeAll(async () => {
    test = await freshPostgres(server);
    await migrate(test.db);
    proxy = await TcpProxy.start("127.0.0.1", Number(new URL(server).port || 5432));
  });
  afterAll(async () => {
    await proxy.close();
    await test.drop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => proxy.restore());

  const dataDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "aspm16-faults-"));
    dirs.push(dir);
    return dir;
  };

  describe.each<Cut>(["reset", "blackhole"])("the database cut off (%s) while uplinks keep arriving", (mode) => {
    let app: FastifyInstance;
    let db: Database;
    let spool: Spool;
    let base: string;

    beforeAll(async () => {
      db = postgres(proxy.url(test.url!), 4);
      spool = await Spool.open(join(await dataDir(), "spool"), 64 * 1024 * 1024);
      app = await buildApp({ db, tokens: [TOKEN], spool, writeTimeoutMs: 1000 });
      base = await app.listen({ port: 0, host: "127.0.0.1" });
    });
    afterAll(async () => {
      await app.close();
      await spool.close();
      await db.close();
    });

    it("answers every uplink 2xx, and stores each once when the database is back", async () => {
      const tag = `cut-${mode}-${Date.now()}`;
      const running = startLoad(base, tag);
      await sleep(700);
      proxy.cut(mode);
      await sleep(2500);
      // From /metrics, which never waits on the database.
      const depth = await waitFor("uplinks in the spool", async () => {
        const records = Number(/^webhook_spool_records (\d+)$/m.exec(await (await fetch(`${base}/metrics`)).text())?.[1]);
        return records > 0 ? records : undefined;
      });
      // The readiness probe says so, soon: its SELECT 1 once hung in the blackhole for half a minute.
      const asked = Date.now();
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect((await ready.json() as { spool: { records: number } }).spool.records).toBeGreaterThan(0);
      expect(Date.now() - asked).toBeLessThan(3500);
      proxy.restore();
      await sleep(700);
      const result = await running.stop();

      expect(depth).toBeGreaterThan(0);
      expect(result.statuses[0] ?? 0, "requests without an answer").toBe(0);
      expect(result.failed, `non-2xx answers: ${JSON.stringify(result.statuses)}`).toBe(0);
      expect(result.statuses[202], "uplinks answered 202 (spooled)").toBeGreaterThan(0);
      await drained(base);
      await expectStoredOnce(test.db, tag, result.acked);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^webhook_spooled_total [1-9]/m);
      expect(metrics).toMatch(/^webhook_spool_records 0$/m);
    }, 90_000);
  });

  describe("the service stopped under load: SIGKILL, or SIGTERM with the database unreachable", () => {
    const port = 21000 + Math.floor(Math.random() * 20000);
    const base = `http://127.0.0.1:${port}`;
    let child: ChildProcess | undefined;
    afterEach(async () => {
      if (child && child.exitCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
    });

    async function startService(dir: string): Promise<ChildProcess> {
      const started = startProgram("main", {
        DATABASE_URL: proxy.url(test.url!), DATA_DIR: dir, PORT: String(port), HOST: "127.0.0.1",
        WEBHOOK_TOKENS: TOKEN, LOG_LEVEL: "fatal", WRITE_TIMEOUT_MS: "1000",
      }, ["ignore", "ignore", "inherit"]);
      await waitUntilOk(`${base}/healthz`, 60);
      return started;
    }

    async function kill(service: ChildProcess): Promise<void> {
      service.kill("SIGKILL");
      await once(service, "exit");
    }

    it("loses nothing it acknowledged, with the database up", async () => {
      const dir = await dataDir();
      const tag = `kill-up-${Date.now()}`;
      child = await startService(dir);
      const running = startLoad(base, tag, 16);
      await sleep(2000);
      await kill(child);
      const result = await running.stop();
      expect(result.acked.length).toBeGreaterThan(0);

      child = await startService(dir);
      await drained(base);
      await expectStoredOnce(test.db, tag, result.acked);
    }, 90_000);

    it("loses nothing it acknowledged into the spool while the database was cut off, and restarts without it", async () => {
      const dir = await dataDir();
      const tag = `kill-down-${Date.now()}`;
      child = await startService(dir);
      proxy.cut("reset");
      const running = startLoad(base, tag, 16);
      await sleep(2000);
      await kill(child);
      const result = await running.stop();
      expect(result.statuses[202]).toBeGreaterThan(0);

      // Back up while the database is still unreachable: it takes uplinks into the spool again.
      child = await startService(dir);
      const more = startLoad(base, `${tag}-after`, 4);
      await sleep(1000);
      const after = await more.stop();
      expect(after.failed, JSON.stringify(after.statuses)).toBe(0);
      proxy.restore();
      await drained(base);
      await expectStoredOnce(test.db, tag, result.acked);
      await expectStoredOnce(test.db, `${tag}-after`, after.acked);
    }, 90_000);

    /** Sends SIGTERM; resolves to the exit code and the seconds it took. */
    async function terminate(service: ChildProcess): Promise<{ code: number | null; seconds: number }> {
      const start = performance.now();
      const exited = once(service, "exit");
      service.kill("SIGTERM");
      const [code] = await exited as [number | null];
      return { code, seconds: (performance.now() - start) / 1000 };
    }

    it.each<[string, Cut]>([
      ["never reached since start-up (connections refused)", "reset"],
      ["gone silent under load (a dead link: connections hang)", "blackhole"],
    ])("ends within 10 s of SIGTERM with the database %s and uplinks in the spool, which are stored after the restart", async (_what, mode) => {
      const dir = await dataDir();
      const tag = `term-${mode}-${Date.now()}`;
      if (mode === "reset") proxy.cut("reset");
      child = await startService(dir);
      if (mode === "blackhole") {
        await sleep(500);
        proxy.cut("blackhole");
      }
      const running = startLoad(base, tag, 8);
      // /metrics, not /readyz: a readiness probe waits on the silent database itself.
      await waitFor("uplinks in the spool", async () => {
        const metrics = await (await fetch(`${base}/metrics`)).text();
        return /^webhook_spool_records [1-9]/m.test(metrics) ? true : undefined;
      });
      // Requests are still arriving and in flight when the signal comes.
      const stopped = await terminate(child);
      const result = await running.stop();
      expect(stopped.seconds).toBeLessThan(10);
      expect(stopped.code).toBe(0);
      expect(result.statuses[202], "uplinks answered 202 (spooled)").toBeGreaterThan(0);

      proxy.restore();
      child = await startService(dir);
      await drained(base);
      await expectStoredOnce(test.db, tag, result.acked);
    }, 90_000);
  });
});
