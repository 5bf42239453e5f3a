// Real bodies from The Things Stack's and ChirpStack's own documents and from captures users published
// (test/webhook/corpus/*.json, each with its source), sent in file-name order over a real socket to the
// service on each database: every one is answered 2xx and stored as its file expects.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../webhook/db/database";
import { type ApiApp, startApiApp } from "../support/api-app";
import { DATABASES } from "../support/databases";
import { TOKEN } from "../support/messages";
import { partial } from "../support/partial";

interface Expectation {
  status: "stored" | "duplicate" | "quarantined";
  devEui?: string;
  /** Columns of the device's newest uplink (`decode_warnings`: ones it must include). */
  uplink?: Record<string, unknown>;
  /** An event of the device with this kind and (a subset of) this data. */
  event?: { kind: string; data: Record<string, unknown> };
  /** The newest quarantine row; `reason` is a part of its reason. */
  quarantine?: Record<string, unknown> & { reason: string };
}

interface CorpusFile {
  source: string;
  note: string;
  path: string;
  expect: Expectation;
  body: unknown;
}

const DIR = join(import.meta.dirname, "corpus");
const CORPUS = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort()
  .map((file): [string, CorpusFile] => [file, JSON.parse(readFileSync(join(DIR, file), "utf8"))]);

describe("the corpus", () => {
  it("has 25+ bodies, each with its source and what it must become", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(25);
    for (const [, file] of CORPUS) {
      expect(file.source).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[0-9a-f]{40}\//);
      expect(file.expect.status).toMatch(/^(stored|duplicate|quarantined)$/);
    }
  });
});

describe.each(DATABASES)("real network-server bodies over HTTP on %s", (_name, factory) => {
  let service: ApiApp;
  let base: string;
  let db: Database;

  beforeAll(async () => {
    service = await startApiApp(factory);
    ({ base, db } = service);
  });
  afterAll(() => service.close());

  const rows = async (sql: string, params: unknown[] = []) => (await db.query<Record<string, unknown>>(sql, params)).rows;

  it.each(CORPUS)("%s", async (_file, { path, body, expect: wanted }) => {
    const response = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json() as { status: string; devEui: string | null };
    expect(response.status, JSON.stringify(answer)).toBe(wanted.status === "quarantined" ? 202 : 200);
    expect(answer.status).toBe(wanted.status);
    if (wanted.devEui) expect(answer.devEui).toBe(wanted.devEui);

    if (wanted.uplink) {
      const [uplink] = await rows(`
        SELECT f_cnt::integer, f_port, encode(payload, 'hex') AS payload, rssi, snr, gateway_count, spreading_factor, bandwidth_hz,
          frequency::text, simulated, received_at, decode_warnings
        FROM uplinks WHERE dev_eui = $1 ORDER BY xmin::text::bigint DESC LIMIT 1`, [answer.devEui]);
      // Warnings are checked by inclusion: the codec's wording of the others is its own business.
      const { received_at: receivedAt, decode_warnings: warnings, ...columns } = wanted.uplink;
      expect({ ...uplink, received_at: (uplink.received_at as Date).toISOString() }).toEqual(partial({ ...columns, ...(receivedAt ? { received_at: receivedAt } : {}) }));
      if (warnings) expect(uplink.decode_warnings).toEqual(expect.arrayContaining(warnings as string[]));
    }
    if (wanted.event) {
      const events = await rows("SELECT kind, data FROM device_events WHERE dev_eui = $1 AND kind = $2", [answer.devEui, wanted.event.kind]);
      expect(events).toEqual(expect.arrayContaining([partial(wanted.event)]));
    }
    if (wanted.quarantine) {
      const [row] = await rows("SELECT kind, device_name, application, dev_eui, reason FROM quarantine ORDER BY id DESC LIMIT 1");
      const { reason, ...columns } = wanted.quarantine;
      expect(row).toEqual(partial({ ...columns, reason: expect.stringContaining(reason) }));
    }
  });

  it("kept every accepted message: each is a row in uplinks, device_events or quarantine", async () => {
    const [{ n }] = await rows(`SELECT (SELECT count(*) FROM uplinks WHERE dedup_key NOT LIKE '%#%')
      + (SELECT count(*) FROM device_events WHERE dedup_key NOT LIKE '%#%') + (SELECT count(*) FROM quarantine) AS n`);
    const duplicates = CORPUS.filter(([, f]) => f.expect.status === "duplicate").length;
    expect(Number(n)).toBe(CORPUS.length - duplicates);
  });
});
