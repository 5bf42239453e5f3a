// Keep-alive management (contract §4, keepalive-airtime.md): a period set through the API is judged by the codec
// and the airtime policy, sent as `02 NN 12` (set it, then report it) and recorded as the plug's desired period;
// the reconciler (./reconciler.ts) then sees it through. With `adapt`, `minutes` is a target (./adaptive.ts) and
// each reconciler pass (./adapt-pass.ts) judges the period again at the plug's radio.
import { getDevice, listDevices, unknownDevice } from "../api/devices";
import { ApiError } from "../api/errors";
import { nextTurn } from "../db/turns";
import { encode } from "../downlinks/encode";
import type { DownlinkService } from "../downlinks/service";
import type { Downlink } from "../downlinks/store";
import { adaptPass } from "./adapt-pass";
import { fixedReason, judgeAdaptive } from "./adaptive";
import { radioOf, setApplicationTarget, ttnDayIsFull } from "./adaptive-store";
import { FAIR_USE_DOWNLINKS_PER_DAY } from "./airtime";
import { type AirtimePolicy, judgePeriod } from "./policy";
import { keepaliveData, Reconciler, type ReconcilerOptions } from "./reconciler";
import { startRound } from "./store";

export interface KeepaliveOptions extends ReconcilerOptions {
  downlinks: Pick<DownlinkService, "send" | "list" | "onChange">;
  policy: AirtimePolicy;
  /** KEEPALIVE_TARGET_MINUTES: plugs heard with nothing desired become adaptive with this target; null: none. */
  fleetTarget?: number | null;
}

export interface SetRequest {
  minutes: unknown;
  /** Set a period the airtime policy refuses, with a warning. */
  force?: boolean;
  /** Adaptive mode: `minutes` is the target (contract §4); false or absent: fixed. Anything else: 400. */
  adapt?: unknown;
}

export interface BulkResult {
  devEui: string;
  /** The single-device answer's HTTP status: 202 queued, 400 refused, 404 unknown, 409 no downlink route. */
  status: number;
  downlink?: Downlink;
  warnings?: string[];
  error?: string;
}

export interface KeepaliveService {
  /** Validates (400), finds the device (404), applies the policy (400 without force), sends and records. */
  set(devEui: string, request: SetRequest): Promise<{ downlink: Downlink; warnings: string[] }>;
  /** The same for a list of devices or a whole application; one result per device. */
  setMany(request: SetRequest & ({ devices: string[] } | { application: string })): Promise<BulkResult[]>;
  /** One pass of the reconciler. */
  reconcile(): Promise<void>;
  /** Uplinks were stored: adaptive plugs are judged again in a pass soon. */
  heard(): void;
  close(): Promise<void>;
}

/** `adapt` and `force` together: 400 when adapt is not a boolean, or comes with force. */
function checkAdapt(request: SetRequest): boolean {
  if (request.adapt !== undefined && typeof request.adapt !== "boolean") {
    throw new ApiError(400, `body/adapt must be true or false, got ${JSON.stringify(request.adapt)}`);
  }
  if (request.adapt && request.force) throw new ApiError(400, 'body/force: not with "adapt": true (an adaptive period is never below what AIRTIME_POLICY allows)');
  return request.adapt === true;
}

/** `minutes` as the codec judges it: an ApiError(400) with its own message when out of range or not an integer. */
function checkMinutes(minutes: unknown): { minutes: number; warnings: string[] } {
  try {
    return { minutes: minutes as number, warnings: encode(keepaliveData(minutes)).warnings };
  } catch (error) {
    throw error instanceof ApiError ? new ApiError(400, `body/minutes: ${error.message}`) : error;
  }
}

export function createKeepaliveService(options: KeepaliveOptions): KeepaliveService {
  const { db, downlinks, policy, log } = options;
  const reconciler: Reconciler = new Reconciler({
    ...options,
    judge: (at) => adaptPass({ db, downlinks, policy, fleetTarget: options.fleetTarget ?? null, log, nextAttempt: (...a) => reconciler.nextAttempt(...a) }, at),
    holdSend: async (round) => policy === "ttn-fair-use" && await ttnDayIsFull(db, round.devEui, reconciler.now()),
  });

  async function set(devEui: string, request: SetRequest) {
    const adapt = checkAdapt(request);
    const { minutes: target, warnings: codecWarnings } = checkMinutes(request.minutes);
    const device = await getDevice(db, devEui);
    if (!device) throw unknownDevice(devEui);
    const at = reconciler.now();
    // Adaptive: the target, or the least period the policy allows at the plug's radio (./adaptive.ts).
    const radio = adapt ? await radioOf(db, device.devEui, at, target) : device.airtime;
    const judged = adapt ? judgeAdaptive(policy, target, radio) : undefined;
    const minutes = judged?.minutes ?? target;
    const verdict = judgePeriod(policy, minutes, radio);
    if (verdict.refusal && !request.force && !judged) throw new ApiError(400, verdict.refusal);
    const reported = device.keepalive.reported;
    const desire = judged
      ? { mode: "adaptive" as const, target, reason: judged.reason }
      : { mode: "fixed" as const, target: null, reason: fixedReason(minutes, verdict.refusal !== undefined) };
    const { downlink, warnings: sendWarnings } = await downlinks.send({
      devEui: device.devEui, data: keepaliveData(minutes), purpose: "keepalive",
      record: (tx, queued) => startRound(tx, {
        devEui: device.devEui, minutes, reported, downlinkId: queued.id, at, next: reconciler.nextAttempt(at, 1, minutes, reported),
        ...desire, from: device.keepalive.desired, cause: "api",
      }),
    });
    const warnings = [...new Set([...codecWarnings, ...sendWarnings, ...verdict.warnings])];
    if (verdict.refusal && !judged) warnings.push(`set with force: AIRTIME_POLICY=${policy} allows ${verdict.leastAllowedMinutes} min or more for this plug`);
    if (device.network === "ttn") {
      // Rows carry the database's time, so this compares with the real clock, not the reconciler's.
      const dayAgo = Date.now() - 86_400_000;
      const recent = await downlinks.list(device.devEui, FAIR_USE_DOWNLINKS_PER_DAY + 1);
      if (recent.filter((d) => Date.parse(d.createdAt) > dayAgo).length > FAIR_USE_DOWNLINKS_PER_DAY) {
        warnings.push(`this plug has had more than ${FAIR_USE_DOWNLINKS_PER_DAY} downlinks in 24 h: TTN's fair-use policy allows ${FAIR_USE_DOWNLINKS_PER_DAY} a day`);
      }
    }
    return { downlink, warnings };
  }

  async function setMany(request: SetRequest & ({ devices: string[] } | { application: string })): Promise<BulkResult[]> {
    const adapt = checkAdapt(request);
    const { minutes } = checkMinutes(request.minutes);
    let targets: string[];
    if ("application" in request) {
      targets = (await listDevices(db, { application: request.application })).map((d) => d.devEui);
      if (targets.length === 0) throw new ApiError(404, `application ${JSON.stringify(request.application)} has no known devices`);
      // The application's target, for its plugs heard later; a fixed period for all of them removes it.
      await setApplicationTarget(db, request.application, adapt ? minutes : null);
    } else {
      targets = [...new Set(request.devices.map((d) => d.toLowerCase()))];
    }
    const results: BulkResult[] = [];
    for (const devEui of targets) {
      // Each plug takes its turn with ingest (on PGlite, a loop of queries would hold every uplink until its end).
      await nextTurn();
      try {
        results.push({ devEui, status: 202, ...(await set(devEui, request)) });
      } catch (error) {
        if (!(error instanceof ApiError)) log.error({ err: error, devEui }, "setting a keep-alive period failed");
        results.push({ devEui, status: error instanceof ApiError ? error.statusCode : 500, error: (error as Error).message });
      }
    }
    return results;
  }

  return { set, setMany, reconcile: () => reconciler.reconcile(), heard: () => reconciler.nudge(), close: () => reconciler.close() };
}
