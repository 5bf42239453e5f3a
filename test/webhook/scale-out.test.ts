// Two service instances on one PostgreSQL, each with its own spool directory, as behind a load balancer: TTS and
// ChirpStack retry an uplink to any instance, so the same uplink reaches both, at once; every uplink is stored
// once and the rollups and the fleet summary count it once. A bulk keep-alive PUT on one while both reconcilers
// run on a clock racing ahead (every round due again and again): every downlink pushed to the stand-in TTS
// exactly once, and each round's attempts are its downlinks, none claimed twice.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { type Database, postgres } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { DEFAULT_KEEPALIVE_RETRY } from "../../webhook/keepalive/reconciler";
import { Spool } from "../../webhook/store/spool";
import { freshPostgres, type TestDatabase } from "../support/databases";
import { API_TOKEN, TOKEN, ttsUplink } from "../support/messages";
import { type TtsStandIn, ttsStandIn, until } from "../support/network-apis";

const SERVER = process.env.TEST_DATABASE_URL;
const PLUGS = 40;
const KEEP_ALIVE = (energyWh: number) => {
  const b = Buffer.from("011c034a241805d9e7195201", "hex");
  b.writeUInt32BE(energyWh, 2);
  return b.toString("base64");
};

interface Instance { app: FastifyInstance; base: string; db: Database; dir: string; spool: Spool }

describe.skipIf(!SERVER)("two instances on one PostgreSQL (skipped without TEST_DATABASE_URL: PGlite is one process's)", () => {
  let test: TestDatabase;
  let tts: TtsStandIn;
  const instances: Instance[] = [];
  // The reconcilers' clock: 40 minutes further every 50 ms, so rounds fall due while the PUT is still running.
  let skew = 0;
  const timer = setInterval(() => { skew += 40 * 60_000; }, 50);
  const now = () => new Date(Date.now() + skew);

  beforeAll(async () => {
    test = await freshPostgres(SERVER!);
    await migrate(test.db);
    tts = await ttsStandIn();
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(join(tmpdir(), `aspm16-instance-${i}-`));
      const spool = await Spool.open(join(dir, "spool"), 10_000_000);
      const db = postgres(test.url!, 4);
      const app = await buildApp({
        db, tokens: [TOKEN], apiTokens: [API_TOKEN], unauthenticatedPerMinute: 100_000, spool,
        downlinks: { tts: { apiUrl: tts.url, apiKey: "NNSXS.TESTKEY.0123456789ABCDEF", webhookId: "aspm16" } },
        keepalive: { intervalMs: 15, now },
      });
      instances.push({ app, base: await app.listen({ port: 0, host: "127.0.0.1" }), db, dir, spool });
    }
  });
  afterAll(async () => {
    clearInterval(timer);
    for (const i of instances) {
      await i.app.close();
      await i.spool.close();
      await i.db.close();
      await rm(i.dir, { recursive: true, force: true });
    }
    await tts?.close();
    await test?.drop();
  });

  const post = async (instance: Instance, body: unknown) => {
    const answer = await fetch(`${instance.base}/ttn`, {
      method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body),
    });
    await answer.arrayBuffer();
    return answer.status;
  };
  const devEui = (p: number) => `70b3d52dd40${p.toString(16).padStart(5, "0")}`;
  const count = async (sql: string, params: unknown[] = []) => Number((await test.db.query<{ n: string }>(sql, params)).rows[0].n);

  it("stores every uplink once, sent to both instances (the same uplink to both at once too)", async () => {
    const start = Date.parse("2026-11-20T00:00:00Z");
    const sends: Promise<number>[] = [];
    for (let k = 0; k < 12; k++) {
      for (let p = 0; p < PLUGS; p++) {
        const message = ttsUplink({ devEui: devEui(p).toUpperCase(), payload: KEEP_ALIVE(1000 + 7 * k), fCnt: k, time: new Date(start + k * 600_000).toISOString(), id: `up-${p}-${k}` });
        message.end_device_ids.device_id = `plug-${p}`;
        // Every third uplink goes to both (a retry that crossed the original), the others to one, alternately.
        const to = k % 3 === 0 ? instances : [instances[(p + k) % 2]];
        for (const instance of to) sends.push(post(instance, message));
      }
    }
    expect(new Set(await Promise.all(sends))).toEqual(new Set([200]));
    expect(await count("SELECT count(*) AS n FROM uplinks")).toBe(12 * PLUGS);
    expect(await count("SELECT count(*) AS n FROM readings")).toBe(12 * PLUGS);
    // 11 pairs of 7 Wh a plug, each counted once, in the rollups and in the fleet summary.
    expect(await count("SELECT sum(energy_wh) AS n FROM energy_daily")).toBe(PLUGS * 11 * 7);
    expect(await count("SELECT sum(energy_wh) AS n FROM fleet_energy_hourly")).toBe(PLUGS * 11 * 7);
    expect(await count("SELECT sum(plugs) AS n FROM fleet_energy_hourly WHERE gap > 0")).toBe(await count("SELECT count(*) AS n FROM readings_hourly"));
  });

  it("pushes every downlink exactly once while both reconcilers race over the rounds of a bulk PUT", async () => {
    const [a] = instances;
    const put = await fetch(`${a.base}/api/keepalive`, {
      method: "PUT", headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ minutes: 15, application: "energy-demo" }),
    });
    const { results } = await put.json() as { results: { status: number }[] };
    expect(put.status).toBe(202);
    expect(results.map((r) => r.status)).toEqual(Array(PLUGS).fill(202));
    // Every round retries until it fails (the plugs never report 15): then nothing more is sent.
    await until(async () => (await count("SELECT count(*) AS n FROM keepalive_desired WHERE failed_at IS NOT NULL")) === PLUGS, "every round failed", 30_000);
    // Pushed: the network API took it (its state moves on with the network's events, which this stand-in does not send).
    await until(async () => (await count("SELECT count(*) AS n FROM downlinks WHERE pushed_at IS NULL")) === 0, "every downlink pushed", 30_000);
    const downlinks = await count("SELECT count(*) AS n FROM downlinks");
    expect(downlinks).toBe(PLUGS * DEFAULT_KEEPALIVE_RETRY.maxAttempts); // the PUT's, and the retries before the round failed
    const refs = tts.calls.map((c) => (JSON.parse(c.body) as { downlinks: { correlation_ids: string[] }[] }).downlinks[0].correlation_ids[0]);
    expect(refs.length).toBe(downlinks);
    expect(new Set(refs).size).toBe(downlinks);
    // Each round's attempts are exactly its downlinks: no attempt was claimed by both instances.
    const { rows } = await test.db.query<{ dev_eui: string; attempts: number; sent: number }>(
      `SELECT k.dev_eui, k.attempts, (SELECT count(*)::integer FROM downlinks d WHERE d.dev_eui = k.dev_eui AND d.purpose = 'keepalive') AS sent
       FROM keepalive_desired k`);
    expect(rows).toHaveLength(PLUGS);
    for (const r of rows) expect(r.sent, r.dev_eui).toBe(r.attempts);
  }, 90_000);
});
