// The rules of adaptive mode (contract §4, issue 23): what period a plug should have at its radio, and whether a
// change may be sent now. Pure functions; ./adapt-pass.ts applies them to the plugs, ./service.ts to a PUT.
//
// - The desired period is the target, or the least period AIRTIME_POLICY allows at the plug's radio when that
//   is longer (leastAllowedMinutes).
// - The radio judged is the slowest (longest keep-alive on air) among the plug's uplinks of the last
//   HOLD_HOURS, or of HOLD_PERIODS of its desired period when that is longer (./store.ts, RADIO_WINDOW). One
//   slower uplink makes the window slower at once: a longer period is sent promptly. A shorter period needs
//   the whole window at the better radio: the better radio has held for 6 hours (hysteresis), so a plug at
//   the edge between two spreading factors stays on the longer period.
// - At most MAX_RADIO_CHANGES_PER_DAY changes for radio reasons per plug in any 24 hours; a shorter period is
//   sent only while two of them are left, so a longer one can always follow it (a worsening is never held up
//   by the bound after a flap).
// - On TTS under AIRTIME_POLICY=ttn-fair-use, a change is sent only while the plug has had fewer than TTN's
//   10 downlinks in 24 hours (every downlink: keep-alive rounds, their retries, the API's own), again keeping
//   one for a longer period after a shorter one.
import { type Airtime, FAIR_USE_DOWNLINKS_PER_DAY } from "./airtime";
import { type AirtimePolicy, figure, leastAllowedMinutes } from "./policy";

/** How long a better radio must hold before a shorter period is sent. */
export const HOLD_HOURS = 6;
/** The same in periods of the current desired period, when longer. */
export const HOLD_PERIODS = 3;
/** Radio changes per plug in any 24 hours. */
export const MAX_RADIO_CHANGES_PER_DAY = 4;

export interface Judgement {
  minutes: number;
  /** Why: a sentence with the figures. */
  reason: string;
}

const radio = (a: Airtime) => `SF${a.spreadingFactor}, ${a.bandwidthHz / 1000} kHz`;

/** The period an adaptive plug with `target` should have at `airtime` (null: its radio is not known yet). */
export function judgeAdaptive(policy: AirtimePolicy, target: number, airtime: Airtime | null): Judgement {
  if (!airtime) return { minutes: target, reason: `${target} min: the target; the plug's spreading factor is not known yet, so no airtime limit was applied` };
  const least = leastAllowedMinutes(policy, airtime);
  const onAir = `at ${radio(airtime)} a keep-alive takes ${airtime.keepAliveMs.toFixed(1)} ms`;
  const fairUseBinds = policy === "ttn-fair-use" && airtime.minMinutesFairUse >= airtime.minMinutesDutyCycle;
  const limit = fairUseBinds
    ? `TTN's fair use allows one every ${figure(airtime.minMinutesFairUse)} min`
    : `the 1 % duty cycle allows one every ${figure(airtime.minMinutesDutyCycle)} min`;
  if (least > target) return { minutes: least, reason: `${least} min: ${onAir}; ${limit}` };
  const allowed = policy === "none" ? "AIRTIME_POLICY=none sets no limit" : limit;
  return { minutes: target, reason: `${target} min: the target; ${onAir}, and ${allowed}` };
}

/** What a plug has used of its day: radio changes, and (on TTS under ttn-fair-use) downlinks. */
export interface Budget {
  radioChangesLast24h: number;
  /** Null when TTN's downlink limit does not apply (another network, or another policy). */
  downlinksLast24h: number | null;
}

export type Decision = { send: boolean; reason: string };

/**
 * Whether an adaptive plug whose desired period is `current` gets `judged` now. A longer period needs one
 * change and one downlink left in the day; a shorter one two of each, so a longer one can still follow.
 */
export function decide(current: number, judged: Judgement, budget: Budget): Decision {
  if (judged.minutes === current) return { send: false, reason: judged.reason };
  const needed = judged.minutes > current ? 1 : 2;
  const waits = (why: string): Decision => ({ send: false, reason: `${current} min until ${judged.minutes} min may be sent: ${why}. ${judged.reason}` });
  const shorter = needed === 2 ? " (a shorter period waits until two are left, so a longer one can follow it)" : "";
  if (budget.radioChangesLast24h + needed > MAX_RADIO_CHANGES_PER_DAY) {
    return waits(`${budget.radioChangesLast24h} of its ${MAX_RADIO_CHANGES_PER_DAY} adaptive changes a day are used${shorter}`);
  }
  if (budget.downlinksLast24h !== null && budget.downlinksLast24h + needed > FAIR_USE_DOWNLINKS_PER_DAY) {
    return waits(`it has had ${budget.downlinksLast24h} downlinks in 24 h, and TTN's fair use allows ${FAIR_USE_DOWNLINKS_PER_DAY} a day${shorter}`);
  }
  return { send: true, reason: judged.reason };
}

/** The reason of a fixed period. */
export function fixedReason(minutes: number, forced: boolean): string {
  return `${minutes} min: fixed, as set through the API${forced ? " (with force, below what AIRTIME_POLICY allows)" : ""}`;
}
