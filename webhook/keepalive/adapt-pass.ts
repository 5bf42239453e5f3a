// One pass of adaptive mode (./adaptive.ts's rules), run by the reconciler before its rounds: plugs heard with
// nothing desired take their application's target or KEEPALIVE_TARGET_MINUTES; adaptive plugs heard since they
// were last judged are judged again at their radio, and a change allowed by the day's budgets is sent as
// `02 NN 12`, starting a round the reconciler sees through like any other.
import type { FastifyBaseLogger } from "fastify";
import { ApiError } from "../api/errors";
import type { Database } from "../db/database";
import type { DownlinkService } from "../downlinks/service";
import { decide, judgeAdaptive, type Judgement } from "./adaptive";
import { adaptiveCandidates, adoptionCandidates, claimChange, markJudged, radioAirtime, recordUnsent, usedToday } from "./adaptive-store";
import type { AirtimePolicy } from "./policy";
import { keepaliveData } from "./reconciler";
import { startRound } from "./store";

export interface AdaptOptions {
  db: Database;
  downlinks: Pick<DownlinkService, "send">;
  policy: AirtimePolicy;
  /** KEEPALIVE_TARGET_MINUTES: the target of a plug heard with nothing desired; null: none. */
  fleetTarget: number | null;
  log: FastifyBaseLogger;
  /** When the round's first downlink is sent again without a report (the reconciler's rule). */
  nextAttempt(at: Date, attempt: number, minutes: number, reported: number | null): Date;
}

/** Thrown in the downlink's transaction when the row moved on since it was read: nothing is queued. */
class Moved extends Error {}

export async function adaptPass(options: AdaptOptions, at: Date): Promise<void> {
  const { db, policy, log } = options;
  for (const plug of await adoptionCandidates(db, options.fleetTarget, at)) {
    await change(options, { ...plug, minutes: undefined, judged_at: undefined }, judgeAdaptive(policy, plug.target, radioAirtime(plug)), "fleet", at)
      .catch((error: unknown) => log.warn({ err: error, devEui: plug.dev_eui }, "could not give a new plug its target; tried again on the next pass"));
  }
  for (const plug of await adaptiveCandidates(db, at)) {
    try {
      const judged = judgeAdaptive(policy, plug.target, radioAirtime(plug));
      const budget = judged.minutes === plug.minutes ? { radioChangesLast24h: 0, downlinksLast24h: null }
        : await usedToday(db, plug.dev_eui, at, policy === "ttn-fair-use" && plug.network === "ttn");
      const decision = decide(plug.minutes, judged, budget);
      if (decision.send) await change(options, plug, judged, "radio", at);
      else await markJudged(db, plug, decision.reason);
    } catch (error) {
      log.warn({ err: error, devEui: plug.dev_eui }, "could not judge an adaptive plug's period; judged again on the next pass");
    }
  }
}

/** Sends `judged` to the plug as its new desired period (claiming the row as it was read), or records why it could not be. */
async function change(options: AdaptOptions, plug: { dev_eui: string; minutes: number | undefined; judged_at: string | null | undefined; target: number; reported: number | null },
  judged: Judgement, cause: "fleet" | "radio", at: Date): Promise<void> {
  const { db, downlinks } = options;
  const devEui = plug.dev_eui;
  try {
    await downlinks.send({
      devEui, data: keepaliveData(judged.minutes), purpose: "keepalive",
      record: async (tx, queued) => {
        if (!(await claimChange(tx, plug, at))) throw new Moved();
        await startRound(tx, {
          devEui, minutes: judged.minutes, reported: plug.reported, downlinkId: queued.id, at,
          next: options.nextAttempt(at, 1, judged.minutes, plug.reported),
          mode: "adaptive", target: plug.target, reason: judged.reason, from: plug.minutes ?? null, cause,
        });
      },
    });
  } catch (error) {
    if (error instanceof Moved) return;
    if (!(error instanceof ApiError)) throw error;
    // No downlink route (409): the period is desired all the same, its round failed with the reason.
    await recordUnsent(db, { devEui, minutes: judged.minutes, target: plug.target, reason: judged.reason, reported: plug.reported, at, error: error.message });
  }
}
