// The first tiers of dist/formatter.js (plain-uplink.ts, plain-downlink.ts) answer exactly as the whole codec
// does, or leave the call to it; and the bundle compiles only the tier a call needs.
import { parse as acornParseWith } from "acorn";
import fc from "fast-check";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import * as codec from "../../formatter/index";
import { plainDownlink, plainDownlinkTable } from "../../formatter/plain-downlink";
import { plainUplink, plainUplinkTable } from "../../formatter/plain-uplink";
import { keepAlive } from "../../formatter/uplink-messages";
import { constantExpressions } from "../../scripts/build-formatter";
import { hex } from "../support/hex";
import { readBundle } from "../support/runtimes";
import { nearPlainDownlink, nearPlainUplink } from "./near-tiers";
import { KEEP_ALIVE } from "./vectors";

const json = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;

describe("plainUplink", () => {
  const table = plainUplinkTable();

  it("answers as decodeUplink does, without warnings or errors, or leaves the call to it (fast-check)", () => {
    let answered = 0;
    fc.assert(fc.property(nearPlainUplink, (input) => {
      const data = plainUplink(input, keepAlive, table);
      const whole = codec.decodeUplink(input);
      if (data !== undefined) {
        answered++;
        expect(json({ data })).toEqual(json(whole));
      } else if (!whole.warnings && !whole.errors) {
        // What it leaves: only messages that are not a number or an object of numbers.
        const kinds = codec.readMessages(input.bytes as number[]).messages.map((m) => m.code);
        expect(kinds.some((code) => code !== 1 && !table.includes(`|${code},`))).toBe(true);
      }
    }), { numRuns: 3000, seed: 24 });
    expect(answered).toBeGreaterThan(300);
  });

  it("reads the response + keep-alive the plug sends after a downlink", () => {
    const bytes = hex("12 0F " + KEEP_ALIVE);
    expect(plainUplink({ bytes, fPort: 2 }, keepAlive, table)).toEqual(codec.decodeUplink({ bytes, fPort: 2 }).data);
  });

  it("leaves inputs that only look like byte arrays to the codec", () => {
    const bytes = hex("12 0F");
    for (const input of [{ bytes: { length: "2", 0: 0x12, 1: 0x0f } }, { bytes: { length: 2.5, 0: 0x12, 1: 0x0f, 2: 1 } },
      Object.assign(() => 0, { bytes }), { bytes: Object.assign(() => 0, { 0: 0x12, 1: 0x0f }) }, { bytes: "\x12\x0f" }, null]) {
      expect(plainUplink(input as never, keepAlive, table)).toBeUndefined();
    }
  });
});

describe("plainDownlink", () => {
  const table = plainDownlinkTable();

  it("answers as encodeDownlink does, or leaves the call to it (fast-check)", () => {
    let answered = 0;
    let warned = 0;
    fc.assert(fc.property(nearPlainDownlink, (input) => {
      const out = plainDownlink(input, table);
      if (out !== undefined) {
        answered++;
        if (out.warnings) warned++;
        expect(json(out)).toEqual(json(codec.encodeDownlink(input)));
      }
    }), { numRuns: 3000, seed: 25 });
    expect(answered).toBeGreaterThan(100);
    expect(warned).toBeGreaterThan(5);
  });

  it("encodes the calls of the bench, the warning included", () => {
    for (const minutes of [15, 5, 2]) {
      const input = { data: { setKeepAlive: minutes } };
      expect(plainDownlink(input, table)).toEqual(codec.encodeDownlink(input));
    }
    expect(plainDownlink({ data: { getKeepAliveTime: "" } }, table)).toEqual({ bytes: [0x12], fPort: 1 });
  });

  it("leaves object values, scaled values, booleans, custom hex and fPort to the codec", () => {
    for (const data of [{ setWatchDogParams: { confirmedUplinks: 1, unconfirmedUplinks: 2 } }, { setJoinRetryPeriod: 5 },
      { setRelayState: true }, { sendCustomHexCommand: "12" }, { setKeepAlive: 15, fPort: 2 }, { getKeepAliveTime: false }]) {
      expect(plainDownlink({ data }, table)).toBeUndefined();
    }
    expect(plainDownlink(Object.assign(() => 0, { data: { getKeepAliveTime: true } }) as never, table)).toBeUndefined();
  });
});

describe("dist/formatter.js, tier by tier", () => {
  let script = "";
  beforeAll(() => {
    script = readBundle();
  });

  /** The lengths of the texts each call compiles with Function(), in a context that records them. */
  function compiles(calls: [string, unknown][]): number[][] {
    const context = vm.createContext({});
    vm.runInContext(`var __compiled = []; Function = (function (F) {
      return function () { __compiled.push(arguments[arguments.length - 1].length); return F.apply(this, arguments); };
    })(Function);`, context);
    vm.runInContext(script, context);
    return calls.map(([fn, input]) => {
      vm.runInContext("__compiled.length = 0", context);
      (vm.runInContext(fn, context) as (x: unknown) => unknown)(input);
      return [...(vm.runInContext("__compiled", context) as number[])];
    });
  }

  it("compiles per call only what the call needs: a keep-alive nothing, a response or a plain downlink its tier", () => {
    const [keep, response, again, encode, warns, object, decodeDownlink] = compiles([
      ["decodeUplink", { bytes: hex(KEEP_ALIVE), fPort: 2 }],
      ["decodeUplink", { bytes: hex("12 0F " + KEEP_ALIVE), fPort: 2 }],
      ["decodeUplink", { bytes: hex("12 0F " + KEEP_ALIVE), fPort: 2 }],
      ["encodeDownlink", { data: { setKeepAlive: 15 } }],
      ["encodeDownlink", { data: { setKeepAlive: 5 } }],
      ["encodeDownlink", { data: { setOverheatingThresholds: { trigger: 60, recovery: 50 } } }],
      ["decodeDownlink", { bytes: [2, 15] }],
    ]);
    expect(keep).toEqual([]);
    expect(response).toHaveLength(1);
    expect(again).toEqual([]);
    expect(encode).toHaveLength(1);
    expect(warns).toEqual([]);
    // The whole codec, compiled once for both: the text that unpacks it (formatter/unpack.ts), then the codec.
    expect(object).toHaveLength(2);
    expect(object[1]).toBeGreaterThan(4 * Math.max(response[0], encode[0]));
    expect(decodeDownlink).toEqual([]);
  });

  it("holds no constant expression, in any part, that goja folds by building a runtime", () => {
    // goja folds the first constant expression of a compiled unit (void 0, !0, -1, "a" + "b") in a new runtime.
    expect(constantExpressions('var a = void 0, b = !0, c = -1, d = "a" + "b", e = x - 1, f = undefined, g = 1;'))
      .toEqual(["void 0", "!0", "-1", '"a" + "b"']);
    const texts = [script];
    const literals = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(literals);
      if (!node || typeof node !== "object") return;
      const n = node as { type?: string; value?: unknown };
      if (n.type === "Literal" && typeof n.value === "string" && n.value.startsWith("(function(){")) texts.push(n.value);
      for (const value of Object.values(n)) if (typeof value === "object") literals(value);
    };
    literals(acornParseWith(script, { ecmaVersion: 5 }));
    expect(texts).toHaveLength(4);
    for (const text of texts) expect(constantExpressions(text)).toEqual([]);
  });
});
