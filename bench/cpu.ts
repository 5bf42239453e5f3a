// CPU time from /proc, to split a run's CPU between PostgreSQL, the service and the load generator:
// the figures say where an uplink's cost goes, which requests/s alone cannot.
import { readFileSync } from "node:fs";
import type { Queryable } from "../webhook/db/database";

const TICK_SECONDS = 0.01; // USER_HZ is 100 on Linux (getconf CLK_TCK)

/** User + system CPU seconds of a process so far; 0 once it has exited. */
export function processCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_SECONDS;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (every process, every core). */
export function machineCpu(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8").split("\n")[0].split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_SECONDS;
}

export interface PostgresPids {
  /** Backends connected to the benchmark's database. */
  backends: number[];
  /** The server's own processes (WAL writer, checkpointer, …), shared by every database on it. */
  auxiliary: number[];
}

export async function postgresPids(admin: Queryable, database: string): Promise<PostgresPids> {
  const { rows } = await admin.query<{ pid: number; datname: string | null; backend_type: string }>(
    "SELECT pid, datname, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()");
  return {
    backends: rows.filter((r) => r.datname === database && r.backend_type === "client backend").map((r) => r.pid),
    auxiliary: rows.filter((r) => r.datname === null).map((r) => r.pid),
  };
}

/** CPU seconds of each group of processes between start() and the stop() it returns. */
export function cpuMeter(groups: () => Promise<Record<string, number[]>>) {
  const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + processCpu(pid), 0);
  return async () => {
    const before = await groups();
    // Per pid, so that processes started during the run count from zero.
    const start = new Map(Object.values(before).flat().map((pid) => [pid, processCpu(pid)]));
    const self = process.cpuUsage();
    const machine = machineCpu();
    const t0 = performance.now();
    return async () => {
      const seconds = (performance.now() - t0) / 1000;
      const usage = process.cpuUsage(self);
      const totals: Record<string, number> = { "load generator": (usage.user + usage.system) / 1e6 };
      const after = await groups();
      for (const [name, pids] of Object.entries(after)) {
        totals[name] = cpuOf(pids) - pids.reduce((sum, pid) => sum + (start.get(pid) ?? 0), 0);
      }
      const ours = Object.values(totals).reduce((a, b) => a + b, 0);
      totals["other processes"] = Math.max(0, machineCpu() - machine - ours);
      return { seconds, totals };
    };
  };
}
