// The inputs every runtime's results are compared on: the spec's vectors, odd and bad inputs, and
// fast-check frames (fixed seeds, so every engine sees the same ones).
import fc from "fast-check";
import * as codec from "../../formatter/index";
import { hex } from "../support/hex";
import type { EntryPoint } from "../support/runtimes";
import { nearPlainDownlink, nearPlainUplink } from "./near-tiers";
import { COMMANDS, KEEP_ALIVE, RESPONSES } from "./vectors";

const byte = fc.integer({ min: 0, max: 255 });

/** Inputs at the edges of the first tiers, as JSON carries them: an engine gets each as a literal, where a
 *  "__proto__" key would set the prototype instead, and otto's JSON.stringify (Go's) writes &, <, > and
 *  non-ASCII characters of the error messages that quote them escaped. */
function nearTiers(arbitrary: fc.Arbitrary<unknown>, seed: number): unknown[] {
  return fc.sample(arbitrary, { numRuns: 150, seed }).map((x) => JSON.stringify(x))
    .filter((text) => !text.includes("__proto__") && !/[&<>]|[^\x20-\x7e]/.test(text))
    .map((text) => JSON.parse(text) as unknown);
}
const uplinkInputs: unknown[] = [
  ...RESPONSES.map(([payload]) => ({ bytes: hex(payload + " " + KEEP_ALIVE), fPort: 2 })),
  ...RESPONSES.map(([payload]) => ({ bytes: hex(payload), fPort: 2 })),
  { bytes: hex("01 1C 03 4A 24 18 05 D9 E7 19 52 01"), fPort: 2 },
  { bytes: hex("12 0F 01 85 03 4A 24 18 05 D9 E7 19 52 01"), fPort: 2 },
  // The straight path's edges: 12 NN before a keep-alive, any NN, no port; a relay byte it leaves to the codec.
  { bytes: hex("12 00 01 1C 03 4A 24 18 05 D9 E7 19 52 01") },
  { bytes: hex("12 FF 01 1C 03 4A 24 18 05 D9 E7 19 52 00"), fPort: 2 },
  { bytes: hex("12 0F 01 1C 03 4A 24 18 05 D9 E7 19 52 02"), fPort: 2 },
  { bytes: hex("04 1A 10 19 C6 1D 02 0C 21 00 FA F5 62 03 19 52 72 8A A0 01 02 03 04 A4 03"), fPort: 2 },
  { bytes: hex("12 0F EE 01 1C 03 4A 24 18 05 D9 E7 19 52 01"), fPort: 2 },
  { bytes: hex("01 1C 03"), fPort: 2 },
  { bytes: [], fPort: 2 },
  { bytes: "011C", fPort: 2 },
  { bytes: hex("B1 01"), fPort: 7 },
  ...fc.sample(fc.record({ bytes: fc.array(byte, { maxLength: 40 }), fPort: fc.constant(2) }), { numRuns: 60, seed: 16 }),
  ...fc.sample(
    fc.array(fc.constantFrom(...codec.UPLINK_MESSAGES)).chain((messages) =>
      fc.tuple(...messages.map((m) => fc.array(byte, { minLength: m.length, maxLength: m.length }).map((d) => [m.code, ...d]))),
    ).map((parts) => ({ bytes: parts.flat(), fPort: 2 })),
    { numRuns: 60, seed: 17 },
  ),
  ...nearTiers(nearPlainUplink, 26),
];
const encodeInputs: unknown[] = [
  ...COMMANDS.map(([data]) => ({ data })),
  { data: { setKeepAlive: 15, getKeepAliveTime: true } },
  // The straight path's edges: 10 and 255 minutes it encodes, 9 (a warning) and 256 (an error) it leaves.
  ...[10, 255, 9, 256, 10.5, "15"].map((minutes) => ({ data: { setKeepAlive: minutes } })),
  { data: { setOvervoltageThresholds: { trigger: 275, recovery: 250 }, setJoinRetryPeriod: 3.5 } },
  { data: { setKeepAlive: 0, unknownKey: 1 } },
  { data: { fPort: 3, setRelayState: 1 } },
  { data: { sendCustomHexCommand: "12".repeat(60) } },
  { data: "0212" },
  ...fc.sample(
    fc.dictionary(fc.constantFrom(...codec.DOWNLINK_COMMANDS.map((c) => c.key)), fc.oneof(fc.boolean(), fc.integer({ min: -5, max: 400 })), { maxKeys: 5 }).map((data) => ({ data })),
    { numRuns: 80, seed: 18 },
  ),
  ...nearTiers(nearPlainDownlink, 27),
];
const decodeDownlinkInputs: unknown[] = [
  ...COMMANDS.map(([, bytes]) => ({ bytes: hex(bytes), fPort: 1 })),
  { bytes: hex("02 0F 20 00 FA F5 26 01 12"), fPort: 1 },
  { bytes: hex("02 0A FE 01"), fPort: 5 },
  { bytes: hex("20 00"), fPort: 1 },
  ...fc.sample(fc.record({ bytes: fc.array(byte, { maxLength: 20 }), fPort: fc.constant(1) }), { numRuns: 60, seed: 19 }),
];
export const CASES: [EntryPoint, unknown[]][] = [
  ["decodeUplink", uplinkInputs],
  ["encodeDownlink", encodeInputs],
  ["decodeDownlink", decodeDownlinkInputs],
];

/** What the TypeScript gives, as JSON (the form every runtime's result is compared in). */
export function expected(fn: EntryPoint, input: unknown): unknown {
  return JSON.parse(JSON.stringify((codec[fn] as (x: unknown) => unknown)(input)));
}

