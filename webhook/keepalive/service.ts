// Keep-alive management (contract §4, keepalive-airtime.md): a period set through the API is recorded as the
// plug's desired period and sent as `02 NN 12` (set it, then report it); the reconciler sends again while the
// report does not come, a bounded number of times with growing waits, then marks the round failed; a plug
// that later reports another period is corrected in a new round.
import type { FastifyBaseLogger } from "fastify";
import { encodeDownlink } from "../../formatter/index";
import { getDevice, listDevices, unknownDevice } from "../api/devices";
import { ApiError } from "../api/errors";
import type { Database } from "../db/database";
import { type AirtimePolicy, judgePeriod } from "./policy";
import { attemptFailed, attemptSent, claimAttempt, failByDownlink, failRound, type Round, roundsToReconcile, settle, startRound } from "./store";

/** What the keep-alive needs of the downlink service (webhook/downlinks/service.ts). */
export interface KeepaliveDownlinks {
  send(request: { devEui: string; data: Record<string, unknown>; purpose?: string }): Promise<{ downlink: SentDownlink; warnings: string[] }>;
  onChange(listener: (downlink: SentDownlink) => void): void;
}
interface SentDownlink {
  id: string;
  state: string;
  purpose: string;
  error?: string;
}

export interface KeepaliveRetry {
  /** Periods to wait for the report after the first downlink of a round. */
  waitPeriods: number;
  /** Each further wait is this many times the one before. */
  backoff: number;
  /** Downlinks per round; after the last one's wait the round fails. */
  maxAttempts: number;
}

export const DEFAULT_KEEPALIVE_RETRY: KeepaliveRetry = { waitPeriods: 3, backoff: 2, maxAttempts: 4 };

export interface KeepaliveOptions {
  db: Database;
  downlinks: KeepaliveDownlinks;
  policy: AirtimePolicy;
  log: FastifyBaseLogger;
  retry?: KeepaliveRetry;
  /** How often the reconciler looks at the rounds. */
  intervalMs?: number;
  /** The clock (tests move it on). */
  now?: () => Date;
  /** Resolves once the database is migrated; the reconciler starts then. */
  ready?: Promise<unknown>;
}

export interface SetRequest {
  minutes: unknown;
  /** Set a period the airtime policy refuses, with a warning. */
  force?: boolean;
}

export interface BulkResult {
  devEui: string;
  /** The single-device answer's HTTP status: 202 queued, 400 refused, 404 unknown, 409 no downlink route. */
  status: number;
  downlink?: SentDownlink;
  warnings?: string[];
  error?: string;
}

export interface KeepaliveService {
  /** Validates (400), finds the device (404), applies the policy (400 without force), sends and records. */
  set(devEui: string, request: SetRequest): Promise<{ downlink: SentDownlink; warnings: string[] }>;
  /** The same for a list of devices or a whole application; one result per device. */
  setMany(request: SetRequest & ({ devices: string[] } | { application: string })): Promise<BulkResult[]>;
  /** One pass of the reconciler. */
  reconcile(): Promise<void>;
  close(): Promise<void>;
}

const keepaliveData = (minutes: unknown) => ({ setKeepAlive: minutes, getKeepAliveTime: true });

/** `minutes` as the codec judges it: an ApiError(400) with its own message when out of range or not an integer. */
function checkMinutes(minutes: unknown): { minutes: number; warnings: string[] } {
  const out = encodeDownlink({ data: keepaliveData(minutes) });
  if (out.errors) throw new ApiError(400, `body/minutes: ${out.errors.join("; ")}`);
  return { minutes: minutes as number, warnings: out.warnings ?? [] };
}

export function createKeepaliveService(options: KeepaliveOptions): KeepaliveService {
  const { db, downlinks, policy, log } = options;
  const retry = options.retry ?? DEFAULT_KEEPALIVE_RETRY;
  const now = options.now ?? (() => new Date());
  /** When to send again if the plug has not reported by then: the report rides on a keep-alive at either period. */
  const nextAttempt = (at: Date, attempt: number, minutes: number, reported: number | null) =>
    new Date(at.getTime() + retry.waitPeriods * retry.backoff ** (attempt - 1) * Math.max(minutes, reported || 10) * 60_000);

  async function set(devEui: string, request: SetRequest) {
    const { minutes, warnings: codecWarnings } = checkMinutes(request.minutes);
    const device = await getDevice(db, devEui);
    if (!device) throw unknownDevice(devEui);
    const verdict = judgePeriod(policy, minutes, device.airtime);
    if (verdict.refusal && !request.force) throw new ApiError(400, verdict.refusal);
    const { downlink, warnings: sendWarnings } = await downlinks.send({ devEui: device.devEui, data: keepaliveData(minutes), purpose: "keepalive" });
    const at = now();
    await startRound(db, { devEui: device.devEui, minutes, reported: device.keepalive.reported, downlinkId: downlink.id, at, next: nextAttempt(at, 1, minutes, device.keepalive.reported) });
    const warnings = [...new Set([...codecWarnings, ...sendWarnings, ...verdict.warnings])];
    if (verdict.refusal) warnings.push(`set with force: AIRTIME_POLICY=${policy} allows ${verdict.leastAllowedMinutes} min or more for this plug`);
    return { downlink, warnings };
  }

  async function setMany(request: SetRequest & ({ devices: string[] } | { application: string })): Promise<BulkResult[]> {
    checkMinutes(request.minutes);
    let targets: string[];
    if ("application" in request) {
      targets = (await listDevices(db, { application: request.application })).map((d) => d.devEui);
      if (targets.length === 0) throw new ApiError(404, `application ${JSON.stringify(request.application)} has no known devices`);
    } else {
      targets = [...new Set(request.devices.map((d) => d.toLowerCase()))];
    }
    const results: BulkResult[] = [];
    for (const devEui of targets) {
      try {
        results.push({ devEui, status: 202, ...(await set(devEui, request)) });
      } catch (error) {
        if (!(error instanceof ApiError)) log.error({ err: error, devEui }, "setting a keep-alive period failed");
        results.push({ devEui, status: error instanceof ApiError ? error.statusCode : 500, error: (error as Error).message });
      }
    }
    return results;
  }

  async function reconcileRound(round: Round, at: Date): Promise<void> {
    if (round.state === "in_sync") return settle(db, round);
    // Nothing scheduled while pending: the plug was in sync and now reports another period. Failed and
    // picked: it reported another period since the round failed. Either way a new round.
    const fresh = round.state === "failed" || round.nextAttemptAt === null;
    if (!fresh && round.attempts >= retry.maxAttempts) {
      const reported = round.reported === null ? "has not reported its period" : `reports ${round.reported} min`;
      return failRound(db, round, at, `the plug ${reported}, not ${round.minutes}, after ${round.attempts} downlinks`);
    }
    const attempt = fresh ? 1 : round.attempts + 1;
    if (!(await claimAttempt(db, round, fresh, at, nextAttempt(at, attempt, round.minutes, round.reported)))) return;
    try {
      const { downlink } = await downlinks.send({ devEui: round.devEui, data: keepaliveData(round.minutes), purpose: "keepalive" });
      await attemptSent(db, round.devEui, at, downlink.id);
    } catch (error) {
      // A 409 (no downlink route any more) ends the round; anything else is retried at the next attempt.
      if (error instanceof ApiError) await attemptFailed(db, round.devEui, at, error.message);
      else throw error;
    }
  }

  let running: Promise<void> | null = null;
  async function reconcile(): Promise<void> {
    // One pass at a time: a pass still running when the timer fires is waited for, not doubled.
    while (running) await running;
    running = (async () => {
      const at = now();
      for (const round of await roundsToReconcile(db, at)) {
        await reconcileRound(round, at).catch((error: unknown) => log.warn({ err: error, devEui: round.devEui }, "keep-alive reconciliation failed; retried on the next pass"));
      }
    })().finally(() => {
      running = null;
    });
    return running;
  }

  // The network refused or lost the round's downlink: the round fails (contract §4).
  const listening = new Set<Promise<void>>();
  downlinks.onChange((downlink) => {
    if (downlink.purpose !== "keepalive" || downlink.state !== "failed") return;
    const done = failByDownlink(db, downlink.id, now(), `downlink ${downlink.id} failed: ${downlink.error ?? "the network gave no reason"}`)
      .catch((error: unknown) => log.error({ err: error, downlink: downlink.id }, "could not record a failed keep-alive downlink"))
      .finally(() => listening.delete(done));
    listening.add(done);
  });

  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => void reconcile().catch((error: unknown) => log.warn({ err: error }, "keep-alive reconciler pass failed")).finally(schedule),
      options.intervalMs ?? 30_000);
  };
  (options.ready ?? Promise.resolve()).then(schedule, () => {});

  return {
    set,
    setMany,
    reconcile,
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
      await Promise.all(listening);
    },
  };
}
