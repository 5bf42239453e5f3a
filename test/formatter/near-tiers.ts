// Inputs at the edges of the formatter's straight path and first tiers (uplink.ts plainKeepAlive, plain-uplink.ts,
// plain-downlink.ts): mostly what they answer, then each changed a little (a byte, the port, a key, a value), so
// that a path that answers a call it should leave to the whole codec shows. Shared by tiers.test.ts, bundle.test.ts
// and the comparisons in every engine (cases.ts).
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

/**
 * A keep-alive (relay byte 0..2), alone or after a response (12 NN mostly, or another two bytes), maybe one element
 * made a near-byte or anything at all, or one more; the port mostly 2: the edges of the script's straight path.
 */
export const nearKeepAlive = fc.tuple(
  fc.option(fc.tuple(fc.constantFrom(0x12, 0x12, 0x12, 0x11, 0x1d, 0x01), byte), { nil: undefined, freq: 2 }),
  fc.array(byte, { minLength: 10, maxLength: 10 }),
  fc.constantFrom(0, 1, 1, 2),
  fc.option(fc.tuple(fc.integer({ min: 0, max: 14 }),
    fc.oneof(fc.constantFrom(-1, 256, 1.5, -0, NaN, Infinity, "1", "01", "18", true, null, undefined, [1], { valueOf: 1 }), fc.anything())),
  { nil: undefined }),
  fc.oneof(fc.constant(2), fc.constant(2), fc.constant(undefined), fc.anything()),
).map(([before, middle, relay, change, fPort]) => {
  const bytes: unknown[] = [...(before ?? []), 1, ...middle, relay];
  if (change) bytes[change[0]] = change[1];
  return { bytes, fPort };
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
