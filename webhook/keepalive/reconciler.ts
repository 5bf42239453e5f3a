// The keep-alive reconciler: while a plug has not reported its desired period, it sends `02 NN 12` again after
// a few periods, a bounded number of times with growing waits, then marks the round failed; a plug that reports
// another period later (in sync before, or after a failed round) gets a new round. It also fails the round
// whose downlink the network refused or lost. Passes run on a timer, one at a time.
import type { FastifyBaseLogger } from "fastify";
import { ApiError } from "../api/errors";
import type { Database } from "../db/database";
import type { DownlinkService } from "../downlinks/service";
import { attemptFailed, attemptSent, claimAttempt, failByDownlink, failRound, type Round, roundsToReconcile, settle } from "./store";

export interface KeepaliveRetry {
  /** Periods to wait for the report after the first downlink of a round. */
  waitPeriods: number;
  /** Each further wait is this many times the one before. */
  backoff: number;
  /** Downlinks per round; after the last one's wait the round fails. */
  maxAttempts: number;
}

export const DEFAULT_KEEPALIVE_RETRY: KeepaliveRetry = { waitPeriods: 3, backoff: 2, maxAttempts: 4 };

/** How soon a pass follows stored uplinks (adaptive plugs are judged again at once, in batches). */
const NUDGE_MS = 500;

/** The downlink of a round: set the period, then ask the plug to report it. */
export const keepaliveData = (minutes: unknown) => ({ setKeepAlive: minutes, getKeepAliveTime: true });

export interface ReconcilerOptions {
  db: Database;
  downlinks: Pick<DownlinkService, "send" | "onChange">;
  log: FastifyBaseLogger;
  retry?: KeepaliveRetry;
  /** How often a pass runs. */
  intervalMs?: number;
  /** The clock (tests move it on). */
  now?: () => Date;
  /** Resolves once the database is migrated; passes start then. */
  ready?: Promise<unknown>;
  /** Runs first in every pass: adaptive mode's judging (./adapt-pass.ts). */
  judge?: (at: Date) => Promise<void>;
  /** True when the round's next downlink must wait (TTN's 10 a day, adaptive plugs): asked again next pass. */
  holdSend?: (round: Round) => Promise<boolean>;
}

export class Reconciler {
  readonly now: () => Date;
  private readonly retry: KeepaliveRetry;
  private running: Promise<void> | null = null;
  private readonly listening = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private nudged: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => new Date());
    this.retry = options.retry ?? DEFAULT_KEEPALIVE_RETRY;
    options.downlinks.onChange((downlink) => {
      if (downlink.purpose !== "keepalive" || downlink.state !== "failed") return;
      const done = failByDownlink(options.db, downlink.id, this.now(), `downlink ${downlink.id} failed: ${downlink.error ?? "the network gave no reason"}`)
        .catch((error: unknown) => options.log.error({ err: error, downlink: downlink.id }, "could not record a failed keep-alive downlink"))
        .finally(() => this.listening.delete(done));
      this.listening.add(done);
    });
    (options.ready ?? Promise.resolve()).then(() => this.schedule(), () => {});
  }

  /** When to send again if the plug has not reported by then: the report rides on a keep-alive at either period. */
  nextAttempt(at: Date, attempt: number, minutes: number, reported: number | null): Date {
    const { waitPeriods, backoff } = this.retry;
    return new Date(at.getTime() + waitPeriods * backoff ** (attempt - 1) * Math.max(minutes, reported || 10) * 60_000);
  }

  /** One pass over the rounds that need it; a pass already running is waited for, not doubled. */
  async reconcile(): Promise<void> {
    while (this.running) await this.running;
    this.running = (async () => {
      const at = this.now();
      await this.options.judge?.(at);
      for (const round of await roundsToReconcile(this.options.db, at)) {
        await this.reconcileRound(round, at).catch((error: unknown) =>
          this.options.log.warn({ err: error, devEui: round.devEui }, "keep-alive reconciliation failed; retried on the next pass"));
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** A pass soon (within NUDGE_MS), not one per call: ingest calls it after storing uplinks. */
  nudge(): void {
    if (this.closed || this.nudged || !this.options.judge) return;
    this.nudged = setTimeout(() => {
      this.nudged = undefined;
      this.reconcile().catch((error: unknown) => this.options.log.warn({ err: error }, "keep-alive reconciler pass failed"));
    }, NUDGE_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.nudged);
    // A pass that failed (the database went away) was logged by whoever started it.
    await this.running?.catch(() => {});
    await Promise.all(this.listening);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.reconcile()
      .catch((error: unknown) => this.options.log.warn({ err: error }, "keep-alive reconciler pass failed"))
      .finally(() => this.schedule()), this.options.intervalMs ?? 30_000);
  }

  private async reconcileRound(round: Round, at: Date): Promise<void> {
    const { db, downlinks } = this.options;
    if (round.state === "in_sync") return settle(db, round);
    // Nothing scheduled while pending: the plug was in sync and now reports another period. Failed and
    // picked: it reported another period since the round failed. Either way a new round.
    const fresh = round.state === "failed" || round.nextAttemptAt === null;
    if (!fresh && round.attempts >= this.retry.maxAttempts) {
      const reported = round.reported === null ? "has not reported its period" : `reports ${round.reported} min`;
      return failRound(db, round, at, `the plug ${reported}, not ${round.minutes}, after ${round.attempts} downlinks`);
    }
    if (await this.options.holdSend?.(round)) return;
    const attempt = fresh ? 1 : round.attempts + 1;
    if (!(await claimAttempt(db, round, fresh, at, this.nextAttempt(at, attempt, round.minutes, round.reported)))) return;
    try {
      await downlinks.send({
        devEui: round.devEui, data: keepaliveData(round.minutes), purpose: "keepalive",
        record: (tx, downlink) => attemptSent(tx, round.devEui, at, downlink.id),
      });
    } catch (error) {
      // A 409 (no downlink route any more) ends the round; anything else is retried at the next attempt.
      if (error instanceof ApiError) await attemptFailed(db, round.devEui, at, error.message);
      else throw error;
    }
  }
}
