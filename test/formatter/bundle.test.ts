// The file users paste is what is tested here: dist/formatter.js, built by `npm run build`.
import { parse } from "acorn";
import fc from "fast-check";
import { statSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import * as codec from "../../formatter/index";
import { BUDGET, ENTRY_POINTS, FORMATTER_BUNDLE } from "../../scripts/build-formatter";
import { hex } from "../support/hex";
import { bareContext, chirpstackModule, type EntryPoint, readBundle, runInContext, runInQuickJS } from "../support/runtimes";

let script = "";
beforeAll(() => {
  script = readBundle();
});

const byte = fc.integer({ min: 0, max: 255 });
const uplinkInputs: unknown[] = [
  { bytes: hex("01 1C 03 4A 24 18 05 D9 E7 19 52 01"), fPort: 2 },
  { bytes: hex("12 0F 01 85 03 4A 24 18 05 D9 E7 19 52 01"), fPort: 2 },
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
];
const encodeInputs: unknown[] = [
  { data: { setKeepAlive: 15, getKeepAliveTime: true } },
  { data: { setOvervoltageThresholds: { trigger: 275, recovery: 250 }, setJoinRetryPeriod: 3.5 } },
  { data: { setKeepAlive: 0, unknownKey: 1 } },
  { data: { fPort: 3, setRelayState: 1 } },
  { data: { sendCustomHexCommand: "12".repeat(60) } },
  { data: "0212" },
  ...fc.sample(
    fc.dictionary(fc.constantFrom(...codec.DOWNLINK_COMMANDS.map((c) => c.key)), fc.oneof(fc.boolean(), fc.integer({ min: -5, max: 400 })), { maxKeys: 5 }).map((data) => ({ data })),
    { numRuns: 80, seed: 18 },
  ),
];
const decodeDownlinkInputs: unknown[] = [
  { bytes: hex("02 0F 20 00 FA F5 26 01 12"), fPort: 1 },
  { bytes: hex("02 0A FE 01"), fPort: 5 },
  { bytes: hex("20 00"), fPort: 1 },
  ...fc.sample(fc.record({ bytes: fc.array(byte, { maxLength: 20 }), fPort: fc.constant(1) }), { numRuns: 60, seed: 19 }),
];
const CASES: [EntryPoint, unknown[]][] = [
  ["decodeUplink", uplinkInputs],
  ["encodeDownlink", encodeInputs],
  ["decodeDownlink", decodeDownlinkInputs],
];

/** What the TypeScript gives, as JSON (the form every runtime's result is compared in). */
function expected(fn: EntryPoint, input: unknown): unknown {
  return JSON.parse(JSON.stringify((codec[fn] as (x: unknown) => unknown)(input)));
}

describe("dist/formatter.js", () => {
  it("parses as ECMAScript 5 and fits the project's budget (8,192 bytes; TTS allows 40,960)", () => {
    expect(() => parse(script, { ecmaVersion: 5, sourceType: "script" })).not.toThrow();
    expect(statSync(FORMATTER_BUNDLE).size).toBeLessThanOrEqual(BUDGET);
    expect(script.startsWith("/* MClimate 16ASPM codec")).toBe(true);
  });

  it("evaluates without building anything: only literals and functions at the top of the script", () => {
    // Each ChirpStack v4 call evaluates the script afresh; the tables are built on first use instead.
    type Node = { type: string; [key: string]: unknown };
    const ast = parse(script, { ecmaVersion: 5, sourceType: "script" }) as unknown as { body: Node[] };
    expect(ast.body.map((node) => node.type)).toEqual(["VariableDeclaration", "ExpressionStatement"]);
    const iife = ((ast.body[1].expression as Node).callee as Node).body as { body: Node[] };
    const literal = (node: Node | null): boolean =>
      node === null || node.type === "Literal" || (node.type === "ArrayExpression" && (node.elements as Node[]).every(literal));
    const entryAssignment = (node: Node) =>
      node.type === "ExpressionStatement" && (node.expression as Node).type === "AssignmentExpression" &&
      (ENTRY_POINTS as readonly string[]).includes(((node.expression as Node).left as { name: string }).name);
    for (const node of iife.body) {
      const ok = node.type === "FunctionDeclaration" || entryAssignment(node) ||
        (node.type === "VariableDeclaration" && (node.declarations as { init: Node | null }[]).every((d) => literal(d.init)));
      expect(ok, script.slice(node.start as number, (node.start as number) + 80)).toBe(true);
    }
    const context = bareContext(false);
    runInContext(context, script, "(function () { return 0; })", []);
    for (const name of ENTRY_POINTS) expect(runInContext(context, "", `(function () { return typeof ${name}; })`, [])).toBe("function");
  });

  it("is valid strict-mode code inside ChirpStack's module wrapper", () => {
    expect(() => parse(chirpstackModule(script, "decodeUplink"), { ecmaVersion: 2020, sourceType: "module" })).not.toThrow();
  });

  for (const [fn, inputs] of CASES) {
    it(`${fn} in QuickJS, wrapped as ChirpStack v4 wraps it, equals the TypeScript (${inputs.length} inputs)`, async () => {
      for (const input of inputs) expect(await runInQuickJS(script, fn, input)).toEqual(expected(fn, input));
    });

    it(`${fn} in a bare vm context equals the TypeScript`, () => {
      for (const input of inputs) expect(runInContext(bareContext(false), script, fn, [input])).toEqual(expected(fn, input));
    });

    it(`${fn} with only the ES5 library (no ES2015 globals or methods) equals the TypeScript`, () => {
      const context = bareContext(true);
      expect(runInContext(context, "", "(function () { return [typeof Symbol, typeof Object.assign, typeof [].includes]; })", [])).toEqual(["undefined", "undefined", "undefined"]);
      for (const input of inputs) expect(runInContext(context, script, fn, [input])).toEqual(expected(fn, input));
    });
  }

  it("exposes the ChirpStack v3 and TTN v2 entry points", () => {
    const context = bareContext(true);
    const keepAlive = hex("12 0F 01 1C 03 4A 24 18 05 D9 E7 19 52 01");
    expect(runInContext(context, script, "Decode", [2, keepAlive, {}])).toEqual(codec.Decode(2, keepAlive, {}));
    expect(runInContext(context, script, "Decoder", [keepAlive, 2])).toEqual({ keepAliveTime: 15, ...codec.decodeUplink({ bytes: keepAlive.slice(2) }).data });
    expect(runInContext(context, script, "Decoder", [[0x01], 2])).toEqual({
      errors: ["keepAlive (0x01) at byte 0 is cut short: needs 12 bytes, only 1 left"],
    });
    expect(runInContext(context, script, "Encode", [1, { setKeepAlive: 15 }, {}])).toEqual([0x02, 0x0f]);
    expect(runInContext(context, script, "Encoder", [{ setKeepAlive: 15, setRelayState: 1 }, 1])).toEqual([0x02, 0x0f, 0xc1, 0x01]);
    expect(runInContext(context, script, "Encoder", [{ setKeepAlive: 0 }, 1])).toEqual([]);
  });
});
