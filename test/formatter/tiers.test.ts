// The first tiers of dist/formatter.js (plain-uplink.ts, plain-downlink.ts) answer exactly as the whole codec
// does, or leave the call to it; and the bundle compiles only the tier a call needs.
import { parse as acornParseWith } from "acorn";
import fc from "fast-check";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import * as codec from "../../formatter/index";
import { plainSetKeepAlive } from "../../formatter/downlink";
import { plainDownlink, plainDownlinkTable } from "../../formatter/plain-downlink";
import { plainUplink, plainUplinkTable } from "../../formatter/plain-uplink";
import { plainKeepAlive } from "../../formatter/uplink";
import { keepAlive } from "../../formatter/uplink-messages";
import { constantExpressions } from "../../scripts/build-formatter";
import { hex } from "../support/hex";
import { readBundle } from "../support/runtimes";
import { nearKeepAlive, nearPlainDownlink, nearPlainUplink } from "./near-tiers";
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

describe("the straight paths of a keep-alive change", () => {
  it("plainKeepAlive reads 12 NN and a keep-alive as decodeUplink does, or leaves the call to the tiers (fast-check)", () => {
    let answered = 0;
    fc.assert(fc.property(fc.oneof(nearKeepAlive, nearPlainUplink), (input) => {
      const data = plainKeepAlive(input);
      if (data !== undefined) {
        answered++;
        expect(json({ data })).toEqual(json(codec.decodeUplink(input)));
      }
    }), { numRuns: 3000, seed: 29 });
    expect(answered).toBeGreaterThan(100);
  });

  it("plainSetKeepAlive encodes {setKeepAlive: 10..255} alone as encodeDownlink does, or leaves the call to the tiers (fast-check)", () => {
    let answered = 0;
    const minutes = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 300 }), weight: 4 },
      fc.constantFrom(0, 1, 9, 10, 255, 256, 10.5, -0, NaN, "15", 15n, null, true, [15], { valueOf: () => 15 }), fc.anything());
    const data = fc.oneof(
      { arbitrary: minutes.map((m) => ({ setKeepAlive: m })), weight: 6 },
      fc.tuple(minutes, fc.constantFrom("getKeepAliveTime", "fPort", "setRelayState", "x")).map(([m, k]) => ({ setKeepAlive: m, [k]: true })),
      minutes.map((m) => Object.create({ setKeepAlive: m }) as unknown),
      minutes.map((m) => Object.defineProperty({}, "setKeepAlive", { value: m, enumerable: false })),
      minutes.map((m) => Object.assign([], { setKeepAlive: m })),
      minutes.map((m) => Object.assign(() => 0, { setKeepAlive: m })),
      minutes.map((m) => ({ setKeepAlive: m, toJSON: () => ({ setKeepAlive: m }) })),
      minutes.map((m) => Object.assign(Object.create(null) as object, { setKeepAlive: m })),
      minutes.map((m) => Object.assign(new Date(0), { setKeepAlive: m })),
      fc.anything(),
    );
    const input = fc.oneof({ arbitrary: data.map((d) => ({ data: d })), weight: 4 }, data.map((d) => Object.assign(() => 0, { data: d })), fc.anything());
    fc.assert(fc.property(input, (x) => {
      const out = plainSetKeepAlive(x as never);
      const whole = codec.encodeDownlink(x as never);
      if (out !== undefined) {
        answered++;
        expect(out).toEqual(whole);
      } else if (whole.bytes.length === 2 && whole.bytes[0] === 2 && !whole.warnings && !whole.errors) {
        // What it leaves that the codec encodes as 02 NN: only what is not {setKeepAlive: N} alone.
        expect(x).not.toEqual({ data: { setKeepAlive: whole.bytes[1] } });
      }
    }), { numRuns: 3000, seed: 28 });
    expect(answered).toBeGreaterThan(200);
  });
});

describe("dist/formatter.js, tier by tier", () => {
  let script = "";
  beforeAll(() => {
    script = readBundle();
  });

  /** The texts each call compiles with Function(), in a context that records them. */
  function compiledTexts(calls: [string, unknown][]): string[][] {
    const context = vm.createContext({});
    vm.runInContext(`var __compiled = []; Function = (function (F) {
      return function () { __compiled.push(arguments[arguments.length - 1]); return F.apply(this, arguments); };
    })(Function);`, context);
    vm.runInContext(script, context);
    return calls.map(([fn, input]) => {
      vm.runInContext("__compiled.length = 0", context);
      (vm.runInContext(fn, context) as (x: unknown) => unknown)(input);
      return [...(vm.runInContext("__compiled", context) as string[])];
    });
  }
  /** Their lengths. */
  const compiles = (calls: [string, unknown][]) => compiledTexts(calls).map((texts) => texts.map((text) => text.length));

  /** Every string literal of the script: its value and its text as written. */
  function stringLiterals(): { value: string; raw: string }[] {
    const found: { value: string; raw: string }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (!node || typeof node !== "object") return;
      const n = node as { type?: string; value?: unknown; raw?: string };
      if (n.type === "Literal" && typeof n.value === "string") found.push({ value: n.value, raw: n.raw! });
      for (const value of Object.values(n)) if (typeof value === "object") walk(value);
    };
    walk(acornParseWith(script, { ecmaVersion: 5 }));
    return found;
  }

  it("compiles per call only what the call needs: a keep-alive, alone or after 12 NN, nothing; {setKeepAlive: 10..255} its straight path; another plain message its tier", () => {
    // Each call in a context of its own: a text is compiled once per runtime, as a network server's is per call.
    const [[keep], [response], [other], [encode], [warns], [object], [decodeDownlink]] = [
      ["decodeUplink", { bytes: hex(KEEP_ALIVE), fPort: 2 }],
      ["decodeUplink", { bytes: hex("12 0F " + KEEP_ALIVE), fPort: 2 }],
      ["decodeUplink", { bytes: hex("12 0F"), fPort: 2 }],
      ["encodeDownlink", { data: { setKeepAlive: 15 } }],
      ["encodeDownlink", { data: { setKeepAlive: 5 } }],
      ["encodeDownlink", { data: { setOverheatingThresholds: { trigger: 60, recovery: 50 } } }],
      ["decodeDownlink", { bytes: [2, 15] }],
    ].map((call) => compiles([call as [string, unknown]]));
    expect(keep).toEqual([]);
    expect(response).toEqual([]);
    expect(other).toHaveLength(1);
    // A downlink: the straight path of {setKeepAlive: 10..255}, a few hundred bytes, then the tier.
    expect(encode).toHaveLength(1);
    expect(encode[0]).toBeLessThan(300);
    expect(warns).toEqual([encode[0], expect.any(Number)]);
    // The whole codec, after the texts that leave it: the text that unpacks it (formatter/unpack.ts), then the codec.
    expect(object).toHaveLength(4);
    expect(object[3]).toBeGreaterThan(4 * Math.max(other[0], warns[1]));
    expect(decodeDownlink).toHaveLength(2);
    expect(decodeDownlink[1]).toBe(object[3]);
  });

  it("quotes its texts without an escape, but for the short word table (an escape slows otto and goja on the whole literal)", () => {
    const escaped = stringLiterals().filter((l) => l.raw.length - 2 !== l.value.length).map((l) => l.value.length);
    // The word table, and unpack.ts's text, which quotes its alphabet.
    expect(escaped).toHaveLength(2);
    expect(Math.max(...escaped)).toBeLessThan(600);
  });

  /** Every part compiled on its own: the script, the texts it carries, and the whole codec, unpacked. */
  function parts(): string[] {
    const carried = stringLiterals().map((l) => l.value).filter((value) => value.startsWith("!function(){"));
    // unpack.ts, the straight path of {setKeepAlive: N}, the two first tiers (not the codec, which opens packed).
    expect(carried).toHaveLength(4);
    const whole = compiledTexts([["decodeDownlink", { bytes: [2, 15] }]])[0].at(-1)!;
    expect(whole).toContain("$exports.decodeDownlink");
    return [script, ...carried, whole];
  }

  it("holds no constant expression, in any part, that goja folds by building a runtime", () => {
    // goja folds the first constant expression of a compiled unit (void 0, !0, -1, "a" + "b") in a new runtime.
    expect(constantExpressions('var a = void 0, b = !0, c = -1, d = "a" + "b", e = x - 1, f = undefined, g = 1;'))
      .toEqual(["void 0", "!0", "-1", '"a" + "b"']);
    for (const text of parts()) expect(constantExpressions(text)).toEqual([]);
  });

  it("opens no part with a parenthesis, which QuickJS reads to its end twice", () => {
    // At "(" QuickJS looks ahead for "=>" to the closing parenthesis, then parses it all: esbuild's (function(){…})();
    // made every call tokenize the whole script twice.
    for (const text of parts()) expect(text.replace(/^\/\*.*\*\/\nvar [^;]*;\n/, "")).toMatch(/^!function\(\)\{[^]*\}\(\);\n?$/);
  });
});
