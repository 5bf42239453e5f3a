// The README's quick start as a new user follows it: `npm start` (build/main.js as a process, on PGlite in
// ./data of its working folder), then the README's first curl block, pasted as it is into a shell in that
// folder; the plug is then in the API the console reads. And the curl `npm start` prints does the same.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIRST_UPLINK } from "../../webhook/first-uplink";

const readme = readFileSync("README.md", "utf8");
/** The README's shell blocks, in order. */
const shellBlocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
const firstCurl = shellBlocks.find((block) => /^curl /m.test(block))!;

describe("the README's quick start", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("comes before any other section, posts the uplink the service prints, and names the token file npm start makes", () => {
    expect(readme.indexOf(firstCurl)).toBeLessThan(readme.indexOf("## The formatter"));
    const body = firstCurl.match(/-d '([^']+)'/)?.[1];
    expect(JSON.parse(body!)).toEqual(FIRST_UPLINK);
    expect(firstCurl).toContain('"Authorization: Bearer $(cat data/webhook-token)"');
    expect(firstCurl).toContain("http://localhost:8080/ttn");
  });

  it("its first curl block, run against npm start, stores the plug's uplink, which the console's API then shows", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "aspm16-readme-"));
    dirs.push(cwd);
    const port = 20000 + Math.floor(Math.random() * 20000);
    // PORT, HOST and LOG_LEVEL aside, the environment of a fresh shell: no tokens, no database URL, DATA_DIR ./data.
    const env = { PATH: process.env.PATH!, HOME: cwd, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" };
    const service = spawn(process.execPath, [resolve("build/main.js")], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    service.stdout.on("data", (chunk) => (stdout += chunk));
    service.stderr.on("data", (chunk) => (stderr += chunk));
    try {
      for (let i = 0; i < 900 && !stdout.includes("Health:"); i++) {
        if (service.exitCode !== null) throw new Error(`npm start exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stdout, stderr).toContain("Health:");

      // The block as written, but on this test's port.
      const run = (script: string) => spawnSync("sh", ["-c", script.replaceAll("localhost:8080", `localhost:${port}`)], { cwd, env, encoding: "utf8" });
      const pasted = run(firstCurl);
      expect(pasted.stderr).toBe("");
      expect(JSON.parse(pasted.stdout)).toEqual({ status: "stored", type: "uplink", devEui: "70b3d52dd3000001" });

      // What the console's fleet page reads, signed in with the api token npm start made.
      const apiToken = readFileSync(join(cwd, "data", "api-token"), "utf8").trim();
      const devices = await (await fetch(`http://127.0.0.1:${port}/api/devices`, { headers: { authorization: `Bearer ${apiToken}` } })).json() as { devices: Record<string, unknown>[] };
      expect(devices.devices).toEqual([expect.objectContaining({
        devEui: "70b3d52dd3000001", name: "my-first-plug", application: "my-app", online: true, power_W: 1497, acVoltage_V: 231, relayState: "ON",
      })]);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);

      // npm start printed the same post with its token written out; it runs as printed.
      const printed = stdout.match(/^ *(curl -sS http:\/\/127\.0\.0\.1:\d+\/ttn [^\n]*\\\n[^\n]*)$/m)?.[1];
      expect(printed).toContain(`Bearer ${readFileSync(join(cwd, "data", "webhook-token"), "utf8").trim()}`);
      const again = spawnSync("sh", ["-c", printed!], { cwd, env, encoding: "utf8" });
      expect(JSON.parse(again.stdout)).toMatchObject({ type: "uplink", devEui: "70b3d52dd3000001" });
    } finally {
      service.kill("SIGTERM");
    }
  }, 120_000);
});
