// AIRTIME_POLICY: which keep-alive periods are refused (without `force`), and the warnings every answer carries
// when a period breaks a limit, whatever the policy (contract §4).
import type { Airtime } from "./airtime";

export const AIRTIME_POLICIES = ["duty-cycle", "ttn-fair-use", "none"] as const;
export type AirtimePolicy = (typeof AIRTIME_POLICIES)[number];

export interface PolicyVerdict {
  /** Set when the policy refuses the period: says why and the least period it allows. */
  refusal?: string;
  warnings: string[];
  /** The least whole number of minutes the policy allows (1 when it allows everything). */
  leastAllowedMinutes: number;
}

/** A period in minutes as the answers print it: 2 decimals below 10, else 1. */
export const figure = (minutes: number) => (minutes < 10 ? minutes.toFixed(2) : minutes.toFixed(1));
const radio = (a: Airtime) => `SF${a.spreadingFactor} at ${a.bandwidthHz / 1000} kHz (${a.keepAliveMs.toFixed(1)} ms per keep-alive)`;

/** The least whole period the policy allows at this airtime. */
export function leastAllowedMinutes(policy: AirtimePolicy, airtime: Airtime | null): number {
  if (!airtime || policy === "none") return 1;
  const minimum = policy === "duty-cycle" ? airtime.minMinutesDutyCycle : Math.max(airtime.minMinutesDutyCycle, airtime.minMinutesFairUse);
  return Math.max(1, Math.ceil(minimum - 1e-9));
}

/** Judges `minutes` for a plug whose keep-alives take `airtime` (null: no uplink has said its spreading factor yet). */
export function judgePeriod(policy: AirtimePolicy, minutes: number, airtime: Airtime | null): PolicyVerdict {
  if (!airtime) {
    return {
      warnings: ["the plug's spreading factor is not known yet (no uplink with radio metadata): the airtime limits were not checked"],
      leastAllowedMinutes: 1,
    };
  }
  const breaksDutyCycle = minutes < airtime.minMinutesDutyCycle;
  const breaksFairUse = minutes < airtime.minMinutesFairUse;
  const warnings: string[] = [];
  if (breaksDutyCycle) {
    warnings.push(`${minutes} min is below the 1 % duty-cycle minimum of ${figure(airtime.minMinutesDutyCycle)} min at ${radio(airtime)}: the plug will send late`);
  }
  if (breaksFairUse) {
    const perDay = (1440 / minutes) * airtime.keepAliveMs / 1000;
    warnings.push(`${minutes} min uses ${perDay.toFixed(1)} s of airtime a day at ${radio(airtime)}, over TTN's fair-use 30 s; its minimum is ${figure(airtime.minMinutesFairUse)} min`);
  }
  const least = leastAllowedMinutes(policy, airtime);
  const refused = (policy === "duty-cycle" && breaksDutyCycle) || (policy === "ttn-fair-use" && (breaksDutyCycle || breaksFairUse));
  if (!refused) return { warnings, leastAllowedMinutes: least };
  const limit = policy === "duty-cycle" ? "the 1 % duty cycle" : "the duty cycle and TTN's fair-use policy";
  return {
    refusal: `minutes: ${minutes} is below the least period AIRTIME_POLICY=${policy} allows at ${radio(airtime)}: ${least} min ` +
      `(${limit}); send "force": true to set it anyway`,
    warnings,
    leastAllowedMinutes: least,
  };
}
