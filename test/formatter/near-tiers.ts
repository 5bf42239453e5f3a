// Inputs at the edges of the formatter's first tiers (plain-uplink.ts, plain-downlink.ts): mostly what they
// answer, then each changed a little (a byte, the port, a key, a value), so that a tier that answers a call it
// should leave to the whole codec shows. Shared by tiers.test.ts and the comparisons in every engine (cases.ts).
import fc from "fast-check";
import { DOWNLINK_COMMANDS, UPLINK_MESSAGES } from "../../formatter/index";

const byte = fc.integer({ min: 0, max: 255 });
const odd = fc.oneof(
  fc.constantFrom(-1, 256, 1.5, -0, NaN, Infinity, "1", "", true, false, null, undefined, [1], {}, 0, 1, 2, 3, 255, 65535, 3681),
  fc.anything(),
);

/** Messages back to back, keep-alives among them (relay byte 0..3), maybe one element changed, cut, or extended. */
export const nearPlainUplink = fc.tuple(
  fc.array(
    fc.oneof(
      fc.constantFrom(...UPLINK_MESSAGES).chain((m) => fc.array(byte, { minLength: m.length, maxLength: m.length }).map((d) => [m.code, ...d])),
      fc.tuple(fc.array(byte, { minLength: 10, maxLength: 10 }), fc.constantFrom(0, 1, 1, 2, 3)).map(([d, relay]) => [1, ...d, relay]),
    ),
    { minLength: 1, maxLength: 4 },
  ).map((parts) => parts.flat() as unknown[]),
  fc.option(fc.oneof(
    fc.tuple(fc.constant("set"), fc.nat(60), odd),
    fc.tuple(fc.constant("cut"), fc.nat(60), fc.constant(0)),
    fc.tuple(fc.constant("add"), byte, fc.constant(0)),
  ), { nil: undefined, freq: 2 }),
  fc.oneof(fc.constant(2), fc.constant(2), fc.constant(undefined), fc.constant("2"), fc.integer({ min: 0, max: 5 }), fc.anything()),
).map(([bytes, change, fPort]) => {
  const b = [...bytes];
  if (change?.[0] === "set") b[change[1] % (b.length + 1)] = change[2];
  if (change?.[0] === "cut") b.length = change[1] % b.length;
  if (change?.[0] === "add") b.push(change[1]);
  return { bytes: b, fPort };
});

const keys = [...DOWNLINK_COMMANDS.map((c) => c.key), "fPort", "sendCustomHexCommand", "__proto__", "toString", "getKeepAliveTime,18|setKeepAlive", "2", ""];

/** One to five commands: valid values mostly, else values just out of range, of another type, or odd keys. */
export const nearPlainDownlink = fc.array(
  fc.tuple(
    fc.oneof(fc.constantFrom(...keys), fc.constant("setKeepAlive")),
    fc.oneof(
      fc.constant(true),
      fc.integer({ min: 0, max: 12 }),
      fc.integer({ min: -2, max: 300 }),
      fc.integer({ min: 90, max: 3700 }),
      odd,
    ),
  ),
  { minLength: 1, maxLength: 5 },
).map((entries) => {
  const data: Record<string, unknown> = {};
  // defineProperty: an own "__proto__" key, as JSON.parse makes it.
  for (const [key, value] of entries) Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
  return { data };
});
