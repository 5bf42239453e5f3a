// The file users paste is what is tested here: dist/formatter.js, built by `npm run build`.
import { parse } from "acorn";
import fc from "fast-check";
import { statSync } from "node:fs";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import * as codec from "../../formatter/index";
import { BUDGET, ENTRY_POINTS, FORMATTER_BUNDLE } from "../../scripts/build-formatter";
import { hex } from "../support/hex";
import { bareContext, chirpstackModule, readBundle, runInContext, runInQuickJS } from "../support/runtimes";
import { CASES, expected } from "./cases";
import { nearKeepAlive } from "./near-tiers";

let script = "";
beforeAll(() => {
  script = readBundle();
});

describe("dist/formatter.js", () => {
  it("parses as ECMAScript 5 and fits the project's budget (16,384 bytes; TTS allows 40,960)", () => {
    expect(() => parse(script, { ecmaVersion: 5, sourceType: "script" })).not.toThrow();
    expect(BUDGET).toBe(16384);
    expect(statSync(FORMATTER_BUNDLE).size).toBeLessThanOrEqual(BUDGET);
    expect(script.startsWith("/* MClimate 16ASPM codec")).toBe(true);
  });

  it("evaluates without building anything: only literals and functions at the top of the script", () => {
    // Each ChirpStack v4 call evaluates the script afresh; the tables are built on first use instead.
    type Node = { type: string; [key: string]: unknown };
    const ast = parse(script, { ecmaVersion: 5, sourceType: "script" }) as unknown as { body: Node[] };
    expect(ast.body.map((node) => node.type)).toEqual(["VariableDeclaration", "ExpressionStatement"]);
    // !function(){…}(): the function's body.
    const iife = ((((ast.body[1].expression as Node).argument as Node).callee as Node).body) as { body: Node[] };
    const literal = (node: Node | null): boolean =>
      node === null || node.type === "Literal" || (node.type === "ArrayExpression" && (node.elements as Node[]).every(literal)) ||
      (node.type === "ObjectExpression" && !(node.properties as Node[]).length);
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

  it("compiles only the keep-alive's straight path; the rest is text, compiled on the first call that needs it (tiers.test.ts: which)", () => {
    // A context that refuses to compile strings shows what each call compiles, and that even then nothing throws.
    const context = vm.createContext({}, { codeGeneration: { strings: false } });
    const keepAlive = hex("01 1C 03 4A 24 18 05 D9 E7 19 52 01");
    expect(runInContext(context, script, "decodeUplink", [{ bytes: keepAlive, fPort: 2 }])).toEqual(codec.decodeUplink({ bytes: keepAlive, fPort: 2 }));
    expect(runInContext(context, "", "Decode", [2, keepAlive, {}])).toEqual(codec.Decode(2, keepAlive, {}));
    const refused = { data: {}, bytes: [], errors: ["internal error: EvalError: Code generation from strings disallowed for this context"] };
    expect(runInContext(context, "", "decodeUplink", [{ bytes: hex("12 0F"), fPort: 2 }])).toEqual(refused);
    expect(runInContext(context, "", "decodeUplink", [{ bytes: keepAlive, fPort: 5 }])).toEqual(refused);
    // The straight path answers the response that confirms a keep-alive period too; every downlink is text.
    const confirmed = hex("12 0F 01 1C 03 4A 24 18 05 D9 E7 19 52 01");
    expect(runInContext(context, "", "decodeUplink", [{ bytes: confirmed, fPort: 2 }])).toEqual(codec.decodeUplink({ bytes: confirmed, fPort: 2 }));
    expect(runInContext(context, "", "encodeDownlink", [{ data: { setKeepAlive: 15 } }])).toEqual(refused);
    // The legacy encoders return bytes: none.
    expect(runInContext(context, "", "Encoder", [{ setKeepAlive: 5 }, 1])).toEqual([]);
    // Where strings compile, the same script answers those calls with the whole codec.
    const full = bareContext(true);
    expect(runInContext(full, script, "decodeUplink", [{ bytes: hex("12 0F"), fPort: 2 }])).toEqual(codec.decodeUplink({ bytes: hex("12 0F"), fPort: 2 }));
  });

  it("answers nearly-keep-alives exactly as the whole codec does, and never throws (fast-check)", () => {
    // The script's straight path checks its input itself: any doubt must leave the answer to the whole codec.
    const context = bareContext(false);
    vm.runInContext(script, context);
    const call = vm.runInContext("(function (fn, args) { return JSON.stringify(this[fn].apply(null, args)); })", context) as (fn: string, args: unknown[]) => string;
    // near-tiers.ts: a keep-alive, alone or after a response, maybe one element made a near-byte or anything at all.
    fc.assert(fc.property(nearKeepAlive, ({ bytes: b, fPort: port }) => {
      expect(JSON.parse(call("decodeUplink", [{ bytes: b, fPort: port }]))).toEqual(JSON.parse(JSON.stringify(codec.decodeUplink({ bytes: b, fPort: port }))));
      expect(JSON.parse(call("Decode", [port, b, {}]))).toEqual(JSON.parse(JSON.stringify(codec.Decode(port, b, {}))));
    }), { numRuns: 1000, seed: 21 });
    fc.assert(fc.property(fc.anything(), fc.anything(), (x, y) => {
      for (const fn of ["decodeUplink", "decodeDownlink", "encodeDownlink"]) expect(() => call(fn, [x])).not.toThrow();
      for (const fn of ["Decode", "Decoder", "Encode", "Encoder"]) expect(() => call(fn, [x, y, {}])).not.toThrow();
    }), { numRuns: 400, seed: 22 });
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
