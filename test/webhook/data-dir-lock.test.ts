// The DATA_DIR lock on its own: who is refused, what is taken over, what release removes.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirInUseError, lockDataDir } from "../../webhook/db/data-dir-lock";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "aspm16-lock-"));
  dirs.push(dir);
  return dir;
}
const writeLock = (dir: string, holder: object) => writeFileSync(join(dir, "lock"), JSON.stringify(holder));
const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, "lock"), "utf8"));

describe("lockDataDir", () => {
  it("refuses while another live process holds the directory, naming it and the process", async () => {
    const dir = await freshDir();
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    try {
      writeLock(dir, { pid: holder.pid, purpose: "the webhook service", since: "2026-11-23T08:00:00.000Z", host: hostname() });
      const attempt = () => lockDataDir(dir, "npm run migrate");
      expect(attempt).toThrow(DataDirInUseError);
      expect(attempt).toThrow(`DATA_DIR ${dir} is in use by process ${holder.pid} (the webhook service, since 2026-11-23T08:00:00.000Z); stop it first, or use another DATA_DIR`);
      expect(lockOf(dir).pid).toBe(holder.pid);
    } finally {
      holder.kill("SIGKILL");
      await once(holder, "exit");
    }
    // Now gone: taken over.
    const lock = lockDataDir(dir, "npm run migrate");
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, purpose: "npm run migrate", host: hostname() });
    lock.release();
  });

  it("judges a lock from another host name by its pid: a container recreated under a new name takes its volume back", async () => {
    const dir = await freshDir();
    const gone = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    writeLock(dir, { pid: gone, purpose: "the webhook service", since: "2026-11-23T08:00:00.000Z", host: "3f2a1c9be0d4" });
    const lock = lockDataDir(dir, "the webhook service");
    expect(lockOf(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
  });

  it("takes over a lock from a process that is gone, one left by this very pid, and one that cannot be read", async () => {
    const dir = await freshDir();
    const gone = Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout);
    for (const stale of [{ pid: gone, host: hostname() }, { pid: process.pid, host: hostname() }, "not json"]) {
      writeFileSync(join(dir, "lock"), typeof stale === "string" ? stale : JSON.stringify({ ...stale, purpose: "x", since: "y" }));
      const lock = lockDataDir(dir, "the webhook service");
      expect(lockOf(dir).pid).toBe(process.pid);
      lock.release();
      expect(() => statSync(join(dir, "lock"))).toThrow(/ENOENT/);
    }
  });

  it("leaves the directory owner-only, and release removes only its own lock", async () => {
    const dir = await freshDir();
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, "webhook-token"), "t".repeat(32), { mode: 0o644 });
    chmodSync(join(dir, "webhook-token"), 0o644);
    const lock = lockDataDir(dir, "the webhook service");
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "webhook-token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "lock")).mode & 0o777).toBe(0o600);
    // Another process took the directory over meanwhile (this one was thought gone): its lock stays.
    writeLock(dir, { pid: 1, purpose: "the webhook service", since: "z", host: hostname() });
    lock.release();
    expect(lockOf(dir).pid).toBe(1);
  });
});
