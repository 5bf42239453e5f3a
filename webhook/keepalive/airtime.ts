// What a keep-alive costs on air and the shortest periods the limits allow (keepalive-airtime.md).
// migrations/007 holds the same formula in SQL for dashboards; test/webhook/airtime.test.ts keeps them equal.

/** LoRaWAN framing around the application payload: MHDR 1, FHDR 7, FPort 1, MIC 4. */
export const LORAWAN_OVERHEAD_BYTES = 13;
/** A bare keep-alive (12 bytes) in its LoRaWAN frame. */
export const KEEPALIVE_PHY_BYTES = 12 + LORAWAN_OVERHEAD_BYTES;
/** TTN fair use: uplink airtime per device and day. */
export const FAIR_USE_SECONDS_PER_DAY = 30;
/** TTN fair use: downlinks per device and day. */
export const FAIR_USE_DOWNLINKS_PER_DAY = 10;
/** EU868 sub-bands g/g1/g2: 1 % duty cycle, so after T seconds on air the device waits 99·T. */
export const DUTY_CYCLE = 0.01;

/** Time on air of one frame of `phyBytes` in milliseconds (Semtech AN1200.13: CR 4/5, explicit header, CRC, 8-symbol preamble). */
export function timeOnAirMs(phyBytes: number, spreadingFactor: number, bandwidthHz: number): number {
  const symbolMs = (2 ** spreadingFactor / bandwidthHz) * 1000;
  const lowDataRate = spreadingFactor >= 11 && bandwidthHz === 125_000 ? 1 : 0;
  const codingRate = 1;
  const header = 0;
  const payloadSymbols = 8 + Math.max(
    Math.ceil((8 * phyBytes - 4 * spreadingFactor + 28 + 16 - 20 * header) / (4 * (spreadingFactor - 2 * lowDataRate))) * (codingRate + 4),
    0,
  );
  return (8 + 4.25 + payloadSymbols) * symbolMs;
}

export interface Airtime {
  spreadingFactor: number;
  bandwidthHz: number;
  /** One keep-alive on air. */
  keepAliveMs: number;
  /** Keep-alives alone, per day, at `periodMinutes`. */
  secondsPerDay: number;
  /** The shortest period the 1 % duty cycle lets the plug keep (100 × T). */
  minMinutesDutyCycle: number;
  /** The shortest period whose keep-alives fit TTN's 30 s a day (48 × T minutes, T in seconds). */
  minMinutesFairUse: number;
}

/** The keep-alive's airtime at a spreading factor and bandwidth, for a plug sending every `periodMinutes`. */
export function keepAliveAirtime(spreadingFactor: number, bandwidthHz: number, periodMinutes: number): Airtime {
  const seconds = timeOnAirMs(KEEPALIVE_PHY_BYTES, spreadingFactor, bandwidthHz) / 1000;
  return {
    spreadingFactor,
    bandwidthHz,
    keepAliveMs: seconds * 1000,
    secondsPerDay: (1440 / periodMinutes) * seconds,
    minMinutesDutyCycle: seconds / DUTY_CYCLE / 60,
    minMinutesFairUse: (1440 * seconds) / FAIR_USE_SECONDS_PER_DAY,
  };
}
