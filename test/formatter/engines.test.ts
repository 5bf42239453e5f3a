// dist/formatter.js in the Go engines the network servers run it in: goja (The Things Stack) and
// otto (ChirpStack v3), a fresh runtime per call. Every result must equal the TypeScript's.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import * as codec from "../../formatter/index";
import { FORMATTER_BUNDLE } from "../../scripts/build-formatter";
import { enginesBinary, GO_ENGINES, goEnginesMissing, runInGoEngines } from "../support/engines";
import { hex } from "../support/hex";
import { CASES, expected } from "./cases";
import { KEEP_ALIVE } from "./vectors";

const missing = goEnginesMissing();

describe.skipIf(missing !== "")(`dist/formatter.js in goja and otto${missing ? ` (skipped: ${missing})` : ""}`, () => {
  beforeAll(() => {
    enginesBinary();
  }, 240_000);

  for (const [fn, inputs] of CASES) {
    it(`${fn} equals the TypeScript on ${inputs.length} inputs in both engines`, () => {
      const results = runInGoEngines(FORMATTER_BUNDLE, inputs.map((input) => ({ fn, args: [input] })));
      for (const engine of GO_ENGINES) {
        inputs.forEach((input, i) => {
          expect(results[engine][i], `${engine} ${JSON.stringify(input)}`).toEqual(expected(fn, input));
        });
      }
    }, 180_000); // hundreds of fresh runtimes, many compiling the whole codec; the machine may be loaded
  }

  it("answers the ChirpStack v3 and TTN v2 entry points like the TypeScript", () => {
    const bytes = hex("12 0F " + KEEP_ALIVE);
    const calls = [
      { fn: "Decode", args: [2, bytes, {}], want: codec.Decode(2, bytes, {}) },
      { fn: "Decoder", args: [bytes, 2], want: codec.Decoder(bytes, 2) },
      { fn: "Decoder", args: [[0x01], 2], want: codec.Decoder([0x01], 2) },
      { fn: "Encode", args: [1, { setKeepAlive: 15, setRelayState: true }, {}], want: [0x02, 0x0f, 0xc1, 0x01] },
      { fn: "Encoder", args: [{ setKeepAlive: 0 }, 1], want: [] },
    ];
    const results = runInGoEngines(FORMATTER_BUNDLE, calls);
    for (const engine of GO_ENGINES) calls.forEach((call, i) => expect(results[engine][i], `${engine} ${call.fn}`).toEqual(call.want));
  });

  it("are the strict ES5.1 engines: ES2015 syntax, such as the vendor decoder's `let` and template literal, is refused", () => {
    const file = join(mkdtempSync(join(tmpdir(), "es2015-")), "codec.js");
    writeFileSync(file, "function decodeUplink(input) { let raw = `${input.bytes[0]}`; return { data: { raw: raw } }; }");
    const results = runInGoEngines(file, [{ fn: "decodeUplink", args: [{ bytes: [1] }] }]);
    for (const engine of GO_ENGINES) expect(results[engine][0]).toHaveProperty("threw");
  });
});
