import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeDownlink, decodeUplink, DOWNLINK_COMMANDS, encodeDownlink } from "../../formatter/index";
import type { DownlinkCommand, Param } from "../../formatter/downlink-commands";

const RUNS = { numRuns: 2000 };

function paramValue(param: Param): fc.Arbitrary<number> {
  const scale = param.scale ?? 1;
  return fc.integer({ min: param.min, max: param.max }).map((raw) => raw / scale);
}

function commandValue(command: DownlinkCommand): fc.Arbitrary<unknown> {
  const params = command.params;
  if (params.length === 0) return fc.constant(true);
  if (!params[0].key) return paramValue(params[0]);
  return fc.record(Object.fromEntries(params.map((p) => [p.key!, paramValue(p)])));
}

/** Any valid downlink: a subset of the commands, in any order, with or without an fPort other than 1. */
const validDownlink = fc
  .tuple(
    fc.shuffledSubarray(DOWNLINK_COMMANDS, { minLength: 1 }),
    fc.option(fc.oneof(fc.constant(2), fc.integer({ min: 4, max: 223 })), { nil: undefined }),
  )
  .chain(([commands, fPort]) =>
    fc.tuple(...commands.map((c) => commandValue(c).map((v) => [c.key, v] as const))).map((entries) => {
      const data: Record<string, unknown> = Object.fromEntries(entries);
      if (fPort !== undefined) data.fPort = fPort;
      return data;
    }),
  );

describe("properties", () => {
  it("decodeUplink never throws, whatever the input", () => {
    const input = fc.oneof(
      fc.anything(),
      fc.record({ bytes: fc.anything(), fPort: fc.anything() }, { requiredKeys: [] }),
      fc.record({ bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 60 }), fPort: fc.anything() }),
      fc.record({ bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 60 }), fPort: fc.constant(2) }),
    );
    fc.assert(
      fc.property(input, (x) => {
        const out = decodeUplink(x as never);
        expect(typeof out.data).toBe("object");
        // Either decoded data or a reason why not: never silence.
        expect(Object.keys(out.data).length > 0 || (out.errors?.length ?? 0) > 0).toBe(true);
      }),
      RUNS,
    );
  });

  it("encodeDownlink and decodeDownlink never throw, whatever the input", () => {
    const keys = fc.constantFrom(...DOWNLINK_COMMANDS.map((c) => c.key), "fPort", "sendCustomHexCommand", "toString", "__proto__");
    const input = fc.oneof(
      fc.anything(),
      fc.record({ data: fc.anything() }),
      fc.record({ data: fc.dictionary(keys, fc.anything()) }),
    );
    fc.assert(
      fc.property(input, (x) => {
        const out = encodeDownlink(x as never);
        expect(out.bytes.length > 0 || (out.errors?.length ?? 0) > 0).toBe(true);
        expect(out.bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)).toBe(true);
        decodeDownlink(x as never);
      }),
      RUNS,
    );
  });

  it("decodeDownlink(encodeDownlink(x)) gives back x for every valid x", () => {
    fc.assert(
      fc.property(validDownlink, (data) => {
        const encoded = encodeDownlink({ data });
        expect(encoded.errors).toBeUndefined();
        expect(encoded.fPort).toBe(data.fPort ?? 1);
        const decoded = decodeDownlink({ bytes: encoded.bytes, fPort: encoded.fPort });
        expect(decoded.errors).toBeUndefined();
        expect(decoded.warnings).toBeUndefined();
        expect(decoded.data).toEqual(data);
      }),
      RUNS,
    );
  });

  it("refuses every out-of-range or non-integer value, naming the key and the range", () => {
    const withParams = DOWNLINK_COMMANDS.filter((c) => c.params.length > 0);
    const badCase = fc.constantFrom(...withParams).chain((command) =>
      fc.integer({ min: 0, max: command.params.length - 1 }).chain((index) => {
        const param = command.params[index];
        const scale = param.scale ?? 1;
        const bad = fc.oneof(
          fc.integer({ min: -1e6, max: param.min - 1 }),
          fc.integer({ min: param.max + 1, max: 1e6 }),
          fc.integer({ min: param.min, max: param.max - 1 }).chain((raw) =>
            fc.double({ min: 0.01, max: 0.99, noNaN: true }).map((f) => raw + f),
          ),
        ).map((raw) => raw / scale);
        return fc.tuple(fc.constant(command), fc.constant(param), bad, ...command.params.map(paramValue)).map(
          ([c, p, value, ...valid]) => {
            const obj = Object.fromEntries(c.params.map((q, i) => [q.key, i === index ? value : valid[i]]));
            return { command: c, param: p, value, data: { [c.key]: p.key ? obj : value } };
          },
        );
      }),
    );
    fc.assert(
      fc.property(badCase, ({ command, param, data }) => {
        const out = encodeDownlink({ data });
        const scale = param.scale ?? 1;
        const range = `${Math.round((param.min / scale) * 1000) / 1000}..${Math.round((param.max / scale) * 1000) / 1000}`;
        const label = param.key ? `${command.key}.${param.key}` : command.key;
        expect(out.bytes).toEqual([]);
        expect(out.errors).toHaveLength(1);
        expect(out.errors![0].startsWith(`${label}: `)).toBe(true);
        expect(out.errors![0]).toContain(`allowed ${range} (`);
      }),
      RUNS,
    );
  });

  it("decodes any keep-alive to the values it was built from", () => {
    const keepAlive = fc.record({
      temperature: fc.integer({ min: -127, max: 127 }),
      energy: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      power: fc.integer({ min: 0, max: 65535 }),
      voltage: fc.integer({ min: 0, max: 255 }),
      current: fc.integer({ min: 0, max: 65535 }),
      on: fc.boolean(),
    });
    fc.assert(
      fc.property(keepAlive, (k) => {
        const bytes = Buffer.alloc(12);
        bytes[0] = 0x01;
        bytes[1] = (k.temperature < 0 ? 0x80 : 0) | Math.abs(k.temperature);
        bytes.writeUInt32BE(k.energy, 2);
        bytes.writeUInt16BE(k.power, 6);
        bytes[8] = k.voltage;
        bytes.writeUInt16BE(k.current, 9);
        bytes[11] = k.on ? 1 : 0;
        expect(decodeUplink({ bytes: [...bytes], fPort: 2 })).toEqual({
          data: {
            internalTemperature: k.temperature, energy_kWh: k.energy / 1000, energy_Wh: k.energy,
            power_W: k.power, acVoltage_V: k.voltage, acCurrent_mA: k.current, relayState: k.on ? "ON" : "OFF",
          },
        });
      }),
      RUNS,
    );
  });
});
