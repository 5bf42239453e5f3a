import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runCli } from "../../formatter/cli";

describe("codec command line", () => {
  it("decodes hex and base64 uplinks alike", () => {
    const fromHex = runCli(["decode", "12 0F 01 1C 03 4A 24 18 05 D9 E7 19 52 01"]);
    const fromBase64 = runCli(["decode", "Eg8BHANKJBgF2ecZUgE="]);
    expect(fromHex.code).toBe(0);
    expect(JSON.parse(fromHex.output).data).toMatchObject({ keepAliveTime: 15, energy_Wh: 55190552, relayState: "ON" });
    expect(fromBase64).toEqual(fromHex);
  });

  it("encodes downlink JSON to the hex and base64 the consoles take", () => {
    const { code, output } = runCli(["encode", '{"setKeepAlive":15,"getKeepAliveTime":true}']);
    expect(code).toBe(0);
    expect(JSON.parse(output)).toEqual({ bytes: [2, 15, 18], fPort: 1, hex: "020F12", base64: "Ag8S" });
  });

  it("decodes a downlink", () => {
    expect(JSON.parse(runCli(["decode-downlink", "Ag8S"]).output)).toEqual({ data: { setKeepAlive: 15, getKeepAliveTime: true } });
  });

  it("exits non-zero with the codec's errors or a usage message", () => {
    expect(runCli(["encode", '{"setKeepAlive":0}'])).toMatchObject({ code: 1 });
    expect(runCli(["encode", "{setKeepAlive"]).output).toMatch(/^encode needs downlink JSON: /);
    expect(runCli(["decode", "zz!"])).toEqual({ code: 2, output: 'not hex byte pairs or base64: "zz!"' });
    expect(runCli(["decode", "020F", "--port", "x"]).code).toBe(2);
    expect(runCli([]).output).toMatch(/^usage:/);
  });

  it("runs as npm run codec", () => {
    const out = execFileSync("npx", ["tsx", "formatter/cli.ts", "encode", '{"setRelayState":1}'], { encoding: "utf8" });
    expect(JSON.parse(out)).toMatchObject({ hex: "C101", base64: "wQE=" });
  });
});
