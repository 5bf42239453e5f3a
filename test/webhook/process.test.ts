// npm start as a newcomer runs it: embedded PGlite, a generated token printed, SIGTERM commits and exits.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pglite } from "../../webhook/db/database";
import { ttsUplink } from "../support/messages";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("the service process", () => {
  it("starts on PGlite, prints the header to configure, and commits every accepted uplink on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "aspm16-"));
    dirs.push(dataDir);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, ["--import", "tsx", "webhook/main.ts"], {
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", WEBHOOK_TOKENS: "", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    for (let i = 0; i < 300 && !stdout.includes("Health:"); i++) await new Promise((r) => setTimeout(r, 100));

    expect(stdout).toContain(`16ASPM webhook listening on http://127.0.0.1:${port}  (database: embedded PGlite in ${join(dataDir, "pglite")})`);
    expect(stdout).toContain(`Event endpoint URL http://127.0.0.1:${port}/chirpstack`);
    const token = stdout.match(/Authorization: Bearer (\S+)\s+\(generated, kept in (\S+);/);
    expect(token?.[2]).toBe(join(dataDir, "webhook-token"));

    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) =>
      fetch(`http://127.0.0.1:${port}/ttn`, {
        method: "POST",
        headers: { authorization: `Bearer ${token![1]}`, "content-type": "application/json" },
        body: JSON.stringify(ttsUplink({ fCnt: i, time: `2026-11-21T10:${String(i).padStart(2, "0")}:00Z` })),
      })));
    expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);

    const db = await pglite(join(dataDir, "pglite"));
    try {
      expect((await db.query("SELECT count(*)::int AS n FROM readings")).rows).toEqual([{ n: 25 }]);
    } finally {
      await db.close();
    }
  }, 60_000);
});
