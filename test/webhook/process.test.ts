// The service and the tools as a user runs them: `npm start` on the embedded default, signals sent to npm
// itself, DATA_DIR held by one process, start-up and migrate failures told in one line.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, connect, createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { pglite } from "../../webhook/db/database";
import { TOKEN, ttsUplink, unique } from "../support/messages";
import { finished, startProgram } from "../support/process";

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/**
 * One DATA_DIR for the tests of this file, used in turn as a user's would be: making an embedded
 * database costs seconds of CPU, so it is made once. `stored` counts the readings it should hold.
 */
let shared: string | undefined;
let stored = 0;
async function sharedDir(): Promise<string> {
  shared ??= await freshDir();
  return shared;
}

async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "aspm16-process-"));
  dirs.push(dir);
  return dir;
}

const randomPort = () => 20000 + Math.floor(Math.random() * 20000);
const serviceEnv = (dataDir: string, port: number) => ({
  DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn", WEBHOOK_TOKENS: "", API_TOKENS: "", DATABASE_URL: "",
});

/** `npm run <script>` as a user types it; npm is the process signals go to. */
function npm(script: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  const child = spawn("npm", ["run", "--silent", script, ...(args.length ? ["--", ...args] : [])], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return child;
}

/** Posts n distinct uplinks; resolves to the statuses. */
async function postUplinks(port: number, token: string, n: number): Promise<number[]> {
  const first = stored;
  stored += n;
  const responses = await Promise.all(Array.from({ length: n }, (_, i) =>
    fetch(`http://127.0.0.1:${port}/ttn`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(ttsUplink({ fCnt: first + i, id: unique(), time: new Date(Date.UTC(2026, 10, 21, 10) + (first + i) * 60_000).toISOString() })),
    })));
  return responses.map((r) => r.status);
}

async function readingsIn(dataDir: string): Promise<number> {
  const db = await pglite(join(dataDir, "pglite"));
  try {
    return (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM readings")).rows[0].n;
  } finally {
    await db.close();
  }
}

/** Whether something accepts connections on the port. */
const listening = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, "127.0.0.1", () => (socket.destroy(), resolve(true)));
  socket.on("error", () => resolve(false));
});

/** Waits for the service's start-up message on stdout; returns all it printed. */
async function started(child: ChildProcess): Promise<string> {
  let stdout = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  for (let i = 0; i < 600 && !stdout.includes("Health:"); i++) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(stdout).toContain("Health:");
  return stdout;
}

/** Every file and folder under `dir` with its permission bits. */
function modes(dir: string): Map<string, number> {
  const found = new Map<string, number>([[dir, statSync(dir).mode & 0o777]]);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    found.set(path, statSync(path).mode & 0o777);
  }
  return found;
}

describe("npm start", () => {
  it.each(["SIGTERM", "SIGINT"] as const)("stops on %s sent to npm itself, after committing every accepted uplink", async (signal) => {
    const dataDir = await sharedDir();
    const port = randomPort();
    const child = npm("start", serviceEnv(dataDir, port));
    const stdout = await started(child);

    expect(stdout).toContain(`16ASPM webhook listening on http://127.0.0.1:${port}  (database: embedded PGlite in ${join(dataDir, "pglite")})`);
    const token = stdout.match(/Authorization: Bearer (\S+)\s+\(generated, kept in (\S+);/);
    expect(token?.[2]).toBe(join(dataDir, "webhook-token"));
    expect(await postUplinks(port, token![1], 25)).toEqual(Array(25).fill(200));

    const exited = once(child, "exit");
    child.kill(signal);
    const [code] = await exited;
    expect(code).toBe(0);
    // npm has exited: so must the service it ran.
    expect(await listening(port)).toBe(false);
    expect(await readingsIn(dataDir)).toBe(stored);
  }, 60_000);
});

describe("DATA_DIR belongs to one process", () => {
  it("refuses a second service, npm run migrate and npm run copy-to-postgres on it, and the first loses nothing", async () => {
    const dataDir = await sharedDir();
    const port = randomPort();
    const first = startProgram("main", { ...serviceEnv(dataDir, port), WEBHOOK_TOKENS: TOKEN });
    children.push(first);
    await started(first);
    const inUse = `DATA_DIR ${dataDir} is in use by process ${first.pid} (the webhook service, since `;

    // Uplinks keep arriving while the others try.
    const during = postUplinks(port, TOKEN, 40);
    const second = await finished(npm("start", serviceEnv(dataDir, randomPort())));
    const migrate = await finished(npm("migrate", { DATA_DIR: dataDir, DATABASE_URL: "" }));
    const copy = await finished(npm("copy-to-postgres", { DATA_DIR: dataDir, DATABASE_URL: "" }, ["postgres://nobody@127.0.0.1:1/none"]));
    expect(await during).toEqual(Array(40).fill(200));

    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`16ASPM webhook failed to start: ${inUse}`);
    expect(migrate.code).toBe(1);
    expect(migrate.stderr.trim().split("\n")).toEqual([expect.stringContaining(`npm run migrate failed: ${inUse}`)]);
    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain(`npm run copy-to-postgres failed: ${inUse}`);

    expect(await postUplinks(port, TOKEN, 10)).toEqual(Array(10).fill(200));
    first.kill("SIGTERM");
    expect((await finished(first)).code).toBe(0);

    // Readable by the owner only (looked at before this test opens the database itself); the lock is
    // gone with its holder.
    const found = modes(dataDir);
    expect(found.size).toBeGreaterThan(10);
    for (const [path, mode] of found) expect([path, mode]).toEqual([path, statSync(path).isDirectory() ? 0o700 : 0o600]);
    expect(found.has(join(dataDir, "lock"))).toBe(false);
    expect(await readingsIn(dataDir)).toBe(stored);
  }, 90_000);

  it("takes over the lock of a process that is gone", async () => {
    const dataDir = await sharedDir();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(join(dataDir, "lock"), JSON.stringify({ pid: Number(gone.stdout), purpose: "the webhook service", since: "2026-11-01T00:00:00Z", host: hostname() }));
    const migrate = await finished(npm("migrate", { DATA_DIR: dataDir, DATABASE_URL: "" }));
    expect(migrate.stderr).toBe("");
    expect(migrate.stdout.trim()).toBe(`embedded PGlite in ${join(dataDir, "pglite")}: up to date`);
    expect(readdirSync(dataDir)).not.toContain("lock");
  }, 60_000);
});

describe("start-up and migrate failures", () => {
  it("refuses a token with whitespace in it before opening anything", async () => {
    const dataDir = await freshDir();
    const result = await finished(startProgram("main", { ...serviceEnv(dataDir, randomPort()), WEBHOOK_TOKENS: `${TOKEN},abcdefgh ijklmnopq` }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("16ASPM webhook failed to start: WEBHOOK_TOKENS: token 2 contains whitespace, which an Authorization header cannot carry; separate tokens with commas");
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it("reports a busy port at once, before writing anything", async () => {
    const dataDir = await freshDir();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const begun = Date.now();
      const result = await finished(startProgram("main", serviceEnv(dataDir, port)));
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`16ASPM webhook failed to start: port ${port} on 127.0.0.1 is already in use by another program: stop it, or set PORT to a free port`);
      // No database migrated, no token generated, no lock left.
      expect(readdirSync(dataDir)).toEqual([]);
      expect(Date.now() - begun).toBeLessThan(5000);
    } finally {
      busy.close();
    }
  });

  it("npm run migrate says in one line why it cannot reach the database", async () => {
    const result = await finished(npm("migrate", { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("npm run migrate failed: PostgreSQL at 127.0.0.1:1/none: connect ECONNREFUSED 127.0.0.1:1");
  });

  it.runIf(process.env.TEST_DATABASE_URL)("npm run migrate says in one line what the server answered (needs TEST_DATABASE_URL)", async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = "/aspm16_no_such_database";
    const result = await finished(npm("migrate", { DATABASE_URL: url.toString() }));
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`npm run migrate failed: PostgreSQL at ${url.host}/aspm16_no_such_database: database "aspm16_no_such_database" does not exist`);
  });
});
