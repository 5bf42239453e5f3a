// Keep-alive management (contract §4, keepalive-airtime.md): a period set through the API is judged by the codec
// and the airtime policy, sent as `02 NN 12` (set it, then report it) and recorded as the plug's desired period;
// the reconciler (./reconciler.ts) then sees it through.
import { getDevice, listDevices, unknownDevice } from "../api/devices";
import { ApiError } from "../api/errors";
import { nextTurn } from "../db/turns";
import { encode } from "../downlinks/encode";
import type { Downlink, DownlinkService } from "../downlinks/service";
import { FAIR_USE_DOWNLINKS_PER_DAY } from "./airtime";
import { type AirtimePolicy, judgePeriod } from "./policy";
import { keepaliveData, Reconciler, type ReconcilerOptions } from "./reconciler";
import { startRound } from "./store";

export interface KeepaliveOptions extends ReconcilerOptions {
  downlinks: Pick<DownlinkService, "send" | "list" | "onChange">;
  policy: AirtimePolicy;
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
  close(): Promise<void>;
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
  const reconciler = new Reconciler(options);

  async function set(devEui: string, request: SetRequest) {
    const { minutes, warnings: codecWarnings } = checkMinutes(request.minutes);
    const device = await getDevice(db, devEui);
    if (!device) throw unknownDevice(devEui);
    const verdict = judgePeriod(policy, minutes, device.airtime);
    if (verdict.refusal && !request.force) throw new ApiError(400, verdict.refusal);
    const at = reconciler.now();
    const reported = device.keepalive.reported;
    const { downlink, warnings: sendWarnings } = await downlinks.send({
      devEui: device.devEui, data: keepaliveData(minutes), purpose: "keepalive",
      record: (tx, queued) => startRound(tx, { devEui: device.devEui, minutes, reported, downlinkId: queued.id, at, next: reconciler.nextAttempt(at, 1, minutes, reported) }),
    });
    const warnings = [...new Set([...codecWarnings, ...sendWarnings, ...verdict.warnings])];
    if (verdict.refusal) warnings.push(`set with force: AIRTIME_POLICY=${policy} allows ${verdict.leastAllowedMinutes} min or more for this plug`);
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

  return { set, setMany, reconcile: () => reconciler.reconcile(), close: () => reconciler.close() };
}
