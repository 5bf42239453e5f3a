// Records the database refuses for their content, on a live request and on a spool replay: answered
// 2xx, kept with the reason (the quarantine table, else the set-aside file), counted, the rest of their
// batch stored, and stored after a fix by `npm run quarantine -- retry`.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../webhook/app";
import { type Database, pglite } from "../../webhook/db/database";
import { migrate } from "../../webhook/db/migrate";
import { retryQuarantine } from "../../webhook/store/reingest";
import { Spool } from "../../webhook/store/spool";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES, freshPostgres } from "../support/databases";
import { TOKEN, ttsUplink, unique } from "../support/messages";

/** An uplink whose f_port is within TTS's uint32 but over the integer column. */
function overflowing(devEui: string) {
  const body = ttsUplink({ devEui, id: unique() });
  body.uplink_message.f_port = 0xffff_ffff;
  return body;
}

/** A TTS event holding a string jsonb cannot store (\u0000). */
function nulEvent(devEui: string) {
  return { end_device_ids: { device_id: "plug-nul", dev_eui: devEui }, received_at: "2026-11-21T10:00:00Z", service_data: { note: "a\u0000b" } };
}

async function post(base: string, body: unknown) {
  const response = await fetch(`${base}/ttn`, {
    method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() as Record<string, unknown> };
}

const until = async (condition: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 500 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await condition()).toBe(true);
};

describe.each(DATABASES)("quarantine on %s", (_name, factory) => {
  let dir: string;
  let spool: Spool;
  let service: ApiApp;
  let base: string;
  let db: Database;
  let migrated: () => void;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "aspm16-quarantine-"));
    spool = await Spool.open(dir, 1 << 20);
    // Until `migrated` is called, everything is spooled (the service before its database answers).
    const ready = new Promise<void>((resolve) => {
      migrated = resolve;
    });
    service = await startApiApp(factory, { spool, databaseReady: ready, batchMax: 50 });
    ({ base, db } = service);
  });
  afterAll(async () => {
    await service.close();
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  const rows = async (sql: string, params: unknown[] = []) => (await db.query<Record<string, unknown>>(sql, params)).rows;
  const metric = async (labels: string) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return Number(text.match(new RegExp(`^webhook_quarantined_total\\{${labels}\\} (\\d+)`, "m"))?.[1] ?? 0);
  };

  it("quarantines a spooled record the database refuses on replay, and stores the rest", async () => {
    const spooled = await Promise.all([post(base, ttsUplink({ devEui: "70b3d52dd30002b1" })), post(base, overflowing("70b3d52dd30002b2"))]);
    expect(spooled.map((a) => [a.status, a.body.status])).toEqual([[202, "spooled"], [202, "spooled"]]);
    migrated();
    await until(() => spool.depth().records === 0);
    expect(await rows("SELECT dev_eui FROM uplinks WHERE dev_eui IN ('70b3d52dd30002b1', '70b3d52dd30002b2')")).toEqual([{ dev_eui: "70b3d52dd30002b1" }]);
    expect(await rows("SELECT dev_eui, sqlstate FROM quarantine WHERE dev_eui = '70b3d52dd30002b2'")).toEqual([{ dev_eui: "70b3d52dd30002b2", sqlstate: "22003" }]);
  });

  it("answers 2xx for every request of a batch, stores all but the refused ones, and quarantines those with the reason", async () => {
    const devEuis = Array.from({ length: 40 }, (_, i) => `70b3d52dd3000${(0x300 + i).toString(16)}`);
    const before = await metric('network="ttn",cause="data_error",kept_in="table"');
    const answers = await Promise.all(devEuis.map((devEui, i) => post(base, i === 7 ? overflowing(devEui) : i === 23 ? nulEvent(devEui) : ttsUplink({ devEui }))));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([202, 202]);
    expect(answers[7].body).toMatchObject({ status: "quarantined", reason: expect.stringContaining("(SQLSTATE 22003)") });
    expect(answers[23].body).toMatchObject({ status: "quarantined", reason: expect.stringContaining("(SQLSTATE 22P05)") });
    const [{ n }] = await rows("SELECT count(*)::integer AS n FROM uplinks WHERE dev_eui = ANY($1)", [devEuis]);
    expect(n).toBe(38);
    const kept = await rows("SELECT dev_eui, kind, sqlstate, record FROM quarantine WHERE dev_eui = ANY($1) ORDER BY dev_eui", [devEuis]);
    expect(kept.map(({ record: _, ...r }) => r)).toEqual([
      { dev_eui: devEuis[7], kind: "uplink", sqlstate: "22003" }, { dev_eui: devEuis[23], kind: "service_data", sqlstate: "22P05" },
    ]);
    // Kept whole: the NUL character is in the record.
    expect(JSON.parse(kept[1].record as string).data).toEqual({ note: "a\u0000b" });
    expect(await metric('network="ttn",cause="data_error",kept_in="table"')).toBe(before + 2);
  });

  it("sets a record aside in the spool's file when even the quarantine table refuses it", async () => {
    // A device id with a NUL character: no text column takes it.
    const body = { ...ttsUplink({ devEui: "70b3d52dd30002c1" }), end_device_ids: { device_id: "plug\u0000x", dev_eui: "70b3d52dd30002c1" } };
    const answer = await post(base, body);
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ status: "quarantined", reason: expect.stringContaining("the quarantine table refused it too") });
    const lines = (await readFile(join(dir, "set-aside.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toEqual([expect.objectContaining({ reason: answer.body.reason, record: expect.objectContaining({ deviceName: "plug\u0000x", dedupKey: expect.any(String) }) })]);
    expect(await metric('network="ttn",cause="data_error",kept_in="file"')).toBe(1);
    // A retry cannot move it into the table either: it stays in the file.
    const report = await retryQuarantine(db, { ids: [], setAsideFile: join(dir, "set-aside.jsonl") });
    expect(report.fromFile).toBe(0);
    expect((await readFile(join(dir, "set-aside.jsonl"), "utf8")).trim().split("\n")).toHaveLength(1);
  });

  it("stores quarantined records once the cause is fixed, each exactly once", async () => {
    // A rule the data breaks (class 23, integrity): here a constraint a DBA added, and the fix is dropping it.
    await db.query("ALTER TABLE uplinks ADD CONSTRAINT f_cnt_below_million CHECK (f_cnt < 1000000) NOT VALID");
    const devEui = "70b3d52dd30002d1";
    const body = ttsUplink({ devEui, fCnt: 4_000_000, id: unique() });
    expect((await post(base, body)).body).toMatchObject({ status: "quarantined", reason: expect.stringContaining("(SQLSTATE 23514)") });
    // Sent again: still one quarantined record, tried twice.
    expect((await post(base, body)).body.status).toBe("quarantined");
    expect(await rows("SELECT attempts FROM quarantine WHERE dev_eui = $1", [devEui])).toEqual([{ attempts: 2 }]);

    const [{ id }] = await rows("SELECT id::text FROM quarantine WHERE dev_eui = $1", [devEui]);
    const unchanged = await retryQuarantine(db, { ids: [id as string] });
    expect(unchanged).toMatchObject({ stored: 0, kept: [{ id, reason: expect.stringContaining("(SQLSTATE 23514)") }] });
    await db.query("ALTER TABLE uplinks DROP CONSTRAINT f_cnt_below_million");
    expect(await retryQuarantine(db, { ids: [id as string] })).toMatchObject({ stored: 1, kept: [] });
    expect(await rows("SELECT f_cnt::integer, f_port FROM uplinks WHERE dev_eui = $1", [devEui])).toEqual([{ f_cnt: 4_000_000, f_port: 2 }]);
    expect(await rows("SELECT count(*)::integer AS n FROM quarantine WHERE dev_eui = $1", [devEui])).toEqual([{ n: 0 }]);
    // Stored once: a second retry finds nothing, and the same message sent again is a duplicate.
    expect(await retryQuarantine(db, { ids: [id as string] })).toMatchObject({ stored: 0, kept: [] });
    expect((await post(base, body)).body.status).toBe("duplicate");
  });
});

describe("npm run quarantine", () => {
  function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", "webhook/quarantine-cli.ts", ...args], { env: { ...process.env, DATABASE_URL: "", ...env } });
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => resolve({ code, out, err }));
    });
  }

  // On PostgreSQL when there is one (fast); else on PGlite in DATA_DIR, a few seconds per command.
  it("lists, shows and retries the quarantine of the configured database", { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "aspm16-qcli-"));
    const server = process.env.TEST_DATABASE_URL ? await freshPostgres(process.env.TEST_DATABASE_URL) : undefined;
    const env: Record<string, string> = server ? { DATABASE_URL: server.url! } : { DATA_DIR: dataDir };
    try {
      const db = server?.db ?? await pglite(join(dataDir, "pglite"));
      await migrate(db);
      const app = await buildApp({ db, tokens: [TOKEN] });
      const base = await app.listen({ port: 0, host: "127.0.0.1" });
      expect((await post(base, { ...ttsUplink({ id: "abp-1" }), end_device_ids: { device_id: "plug-abp", application_ids: { application_id: "energy" } } })).status).toBe(202);
      await app.close();
      if (!server) await db.close();

      const list = await cli([], env);
      expect(list.code).toBe(0);
      expect(list.out).toMatch(/: 1 quarantined\n {2}1 {2}\S+ {2}ttn energy\/plug-abp {2}uplink at 2026-11-21T10:00:01.001Z {2}\(1×\) {2}no DevEUI, and no device ttn application "energy" device "plug-abp" is known yet/);
      const show = await cli(["show", "1"], env);
      expect(JSON.parse(show.out)).toMatchObject({ type: "uplink", network: "ttn", devEui: null, deviceName: "plug-abp", fPort: 2 });
      const retry = await cli(["retry"], env);
      expect(retry.out).toMatch(/: 0 stored, 0 already stored, 1 still quarantined\n {2}1 {2}no DevEUI/);
      const bad = await cli(["retry", "x"], env);
      expect([bad.code, bad.err.trim()]).toEqual([1, "npm run quarantine failed: ids are whole numbers (the first column of the list); got x"]);
    } finally {
      await server?.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
