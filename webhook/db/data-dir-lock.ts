// DATA_DIR belongs to one process: the embedded database, the spool and the tokens in it must never be
// opened by two. The holder writes DATA_DIR/lock (its pid) with O_EXCL; a second process stops at once,
// naming the directory and the holder. A lock whose process is gone (a crash, SIGKILL, a container
// restart) is taken over.
import { chmodSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export class DataDirInUseError extends Error {
  constructor(readonly dir: string, readonly holder: LockHolder) {
    super(`DATA_DIR ${dir} is in use by process ${holder.pid} (${holder.purpose}, since ${holder.since}); stop it first, or use another DATA_DIR`);
  }
}

export interface LockHolder {
  pid: number;
  purpose: string;
  since: string;
  host: string;
}

export interface DataDirLock {
  readonly dir: string;
  /** Leaves every file owner-only and removes the lock (only if it is still this process's). */
  release(): void;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `holder` is a live process other than this one. Judged by pid alone, on this machine: a
 * container recreated by `docker compose up` has a new host name but the same volume, and a lock left
 * by this very pid is from a previous life (a container's service is pid 1 every time). So DATA_DIR
 * must not be shared between machines (PGlite could not share it anyway).
 */
function alive(holder: LockHolder): boolean {
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Makes `dir` and everything in it readable by its owner only: 0700 folders, 0600 files. The umask
 * covers what this process creates from now on; PGlite's file system layer sets some modes of its own
 * while it runs, which the 0700 folder keeps everyone else out of, and the walk at release puts right.
 */
export function restrictToOwner(dir: string): void {
  process.umask(0o077);
  const walk = (path: string) => {
    chmodSync(path, 0o700);
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) chmodSync(child, 0o600);
    }
  };
  walk(dir);
}

/**
 * Takes DATA_DIR for this process, or throws DataDirInUseError. `purpose` says what holds it, for the
 * message another process shows ("the webhook service", "npm run migrate").
 */
export function lockDataDir(dir: string, purpose: string): DataDirLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  restrictToOwner(dir);
  const file = join(dir, "lock");
  const me: LockHolder = { pid: process.pid, purpose, since: new Date().toISOString(), host: hostname() };
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(file, content, { flag: "wx", mode: 0o600 });
      const release = () => {
        process.off("exit", release);
        if (readHolder(file)?.pid !== process.pid) return;
        restrictToOwner(dir);
        unlinkSync(file);
      };
      // Also on process.exit() from anywhere: the next start must not have to wonder.
      process.on("exit", release);
      return { dir, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readHolder(file);
    // A holder still writing its lock reads as undefined for an instant: look again.
    if (!holder) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      if (!readHolder(file)) takeOver(file, undefined);
      continue;
    }
    if (alive(holder)) throw new DataDirInUseError(dir, holder);
    takeOver(file, holder);
  }
  throw new Error(`DATA_DIR ${dir}: could not take ${file}; another process keeps replacing it`);
}

/**
 * Moves a stale lock out of the way. Renaming is atomic, so of two processes taking over at once only
 * one moves the stale file; should the other have moved a lock just made by the first, it puts it back.
 */
function takeOver(file: string, stale: LockHolder | undefined): void {
  const aside = `${file}.stale-${process.pid}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const moved = readHolder(aside);
  if (moved && moved.pid !== stale?.pid && alive(moved)) {
    try {
      linkSync(aside, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  unlinkSync(aside);
}
