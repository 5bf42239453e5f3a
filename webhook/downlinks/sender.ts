// Pushes queued downlinks to their network server, in the background: ingest never waits for it. A network API
// that is down or refuses is tried again with backoff, its error kept on the row, and the downlink is marked
// failed after the last try. Rows are claimed with a lease, so instances sharing a database do not send twice.
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../db/database";
import { nextTurn } from "../db/turns";
import type { Network } from "../ingest/records";
import { applyStoredEvents } from "./events";
import { PushError, type NetworkRoute } from "./delivery";
import { type Claimed, type Downlink, claimDue, markPushed, markPushFailed, nextDueInMs } from "./store";

export interface RetryPolicy {
  /** Pushes before a downlink is marked failed. */
  maxAttempts: number;
  /** The wait after the 1st, 2nd, … failed push; the last repeats. */
  delaysMs: number[];
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, delaysMs: [10_000, 30_000, 120_000, 600_000] };

/** Longer than a push may take (the routes time out at 10 s): a claimed row is not pushed twice meanwhile. */
const LEASE_MS = 60_000;
const BATCH = 20;
/** The database is asked again at least this often, for rows other instances queued. */
const IDLE_POLL_MS = 30_000;
/** After the database failed a pass. */
const ERROR_PAUSE_MS = 5_000;

export interface SenderOptions {
  db: Database;
  routes: Partial<Record<Network, NetworkRoute>>;
  retry: RetryPolicy;
  log: FastifyBaseLogger;
  /** Told of every row the sender changes. */
  changed: (downlink: Downlink) => void;
  /** Resolves once the database is migrated. */
  ready?: Promise<unknown>;
  /** Told of every push's outcome (metrics). */
  onPush?: (network: Network, outcome: PushOutcome) => void;
}

export type PushOutcome = "taken" | "retry" | "failed";

export class Sender {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SenderOptions) {
    (options.ready ?? Promise.resolve()).then(() => this.wake(), () => {});
  }

  /** Runs a pass now (or right after the one under way). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async run(): Promise<void> {
    let nextMs: number | null;
    try {
      for (;;) {
        const due = await claimDue(this.options.db, BATCH, LEASE_MS);
        if (due.length === 0 || this.closed) break;
        // Every push finishes before the pass goes on, even when one of them fails.
        const failed = (await Promise.allSettled(due.map((claimed) => this.push(claimed)))).find((r) => r.status === "rejected");
        if (failed) throw failed.reason;
      }
      nextMs = await nextDueInMs(this.options.db);
    } catch (error) {
      this.options.log.warn({ err: error }, "downlink sender: the database failed; trying again shortly");
      nextMs = ERROR_PAUSE_MS;
    }
    if (this.closed) return;
    this.timer = setTimeout(() => this.wake(), Math.min(nextMs ?? IDLE_POLL_MS, IDLE_POLL_MS));
    this.timer.unref();
  }

  private async push({ row, target }: Claimed): Promise<void> {
    const { db, routes, retry, log, changed, onPush } = this.options;
    const route = routes[row.network];
    let error: string;
    try {
      if (!route) throw new PushError(`no downlink route for ${row.network}`);
      const ref = await route.push(target, {
        fPort: row.f_port, bytes: Buffer.from(row.bytes, "hex"), confirmed: row.confirmed, ref: row.network_ref,
      });
      onPush?.(row.network, "taken");
      // A pass's pushes answer together: each records its outcome in a turn of its own, ingest between them.
      await nextTurn();
      changed(await markPushed(db, row.id, ref));
      // A reference learnt only now (ChirpStack's queue item id) may already be in stored events.
      if (ref && ref !== row.network_ref) for (const moved of await applyStoredEvents(db, row.dev_eui, ref)) changed(moved);
      return;
    } catch (e) {
      // Anything else is this service's own fault; still bounded by the attempts, never retried forever.
      error = e instanceof PushError ? e.message : `internal error while pushing: ${(e as Error).message}`;
    }
    await nextTurn();
    const last = row.attempts >= retry.maxAttempts;
    onPush?.(row.network, last ? "failed" : "retry");
    const delay = retry.delaysMs[Math.min(row.attempts - 1, retry.delaysMs.length - 1)];
    log.warn({ downlink: row.id, devEui: row.dev_eui, attempt: row.attempts, error }, last
      ? "downlink failed: the network API did not take it on the last try"
      : "downlink not taken by the network API; trying again");
    const failed = await markPushFailed(db, row.id, `attempt ${row.attempts} of ${retry.maxAttempts}: ${error}`, last ? null : delay);
    if (failed) changed(failed);
  }
}
