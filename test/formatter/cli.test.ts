import { spawnSync } from "node:child_process";
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

  it("accepts 0x-prefixed hex and base64 without its padding", () => {
    const keepAlive = runCli(["decode", "011C034A241805D9E7195201"]);
    expect(JSON.parse(keepAlive.output).data).toMatchObject({ energy_Wh: 55190552 });
    expect(runCli(["decode", "0x011C034A241805D9E7195201"])).toEqual(keepAlive);
    expect(runCli(["decode", "0X01 1C 03 4A 24 18 05 D9 E7 19 52 01"])).toEqual(keepAlive);
    // 12 bytes: base64 needs no padding; 14 bytes: "==" left off; 13 bytes: "=" left off.
    expect(runCli(["decode", "ARwDSiQYBdnnGVIB"])).toEqual(keepAlive);
    expect(runCli(["decode", "Eg8BHANKJBgF2ecZUgE"])).toEqual(runCli(["decode", "Eg8BHANKJBgF2ecZUgE="]));
    expect(runCli(["decode-downlink", "Ag8S"])).toEqual(runCli(["decode-downlink", "020F12"]));
  });

  it("refuses input that is neither hex byte pairs nor exact base64, rather than guessing", () => {
    expect(runCli(["decode", "zz!"])).toEqual({ code: 2, output: 'neither hex byte pairs nor base64: "zz!"' });
    // Hex digits only, odd count: a digit is missing; base64 would decode it to other bytes.
    expect(runCli(["decode", "011C034A241805D9E719520"])).toEqual({ code: 2, output: 'not hex byte pairs (23 hex digits): "011C034A241805D9E719520"; add --base64 if it is base64' });
    expect(runCli(["decode", "0x01G2"]).output).toBe('0x must be followed by hex byte pairs: "0x01G2"');
    expect(runCli(["decode", "0x"]).code).toBe(2);
    // Base64 whose last character carries bits no byte uses, padding where none fits, a lone character.
    for (const bad of ["Ag9", "Ag9=", "Ag=", "A", "Ag8S=", "Ag-S"]) expect(runCli(["decode", bad]), bad).toMatchObject({ code: 2 });
    expect(runCli(["decode", "0102", "--base64"])).toEqual(runCli(["decode", "d34d36"]));
    expect(runCli(["decode", "01 02 0", "--base64"])).toEqual({ code: 2, output: 'not base64: "01 02 0"' });
    expect(runCli(["decode", "   "])).toEqual({ code: 2, output: "the payload is empty" });
  });

  it("exits non-zero with the codec's errors or a usage message, and 0 for --help", () => {
    expect(runCli(["encode", '{"setKeepAlive":0}'])).toMatchObject({ code: 1 });
    expect(runCli(["encode", "{setKeepAlive"]).output).toMatch(/^encode needs downlink JSON: /);
    expect(runCli(["decode", "020F", "--port", "x"]).code).toBe(2);
    expect(runCli([])).toMatchObject({ code: 2, output: expect.stringMatching(/^usage:/) });
    expect(runCli(["--help"])).toMatchObject({ code: 0, output: expect.stringMatching(/^usage:/) });
    expect(runCli(["decode", "--help"])).toMatchObject({ code: 0 });
  });

  it("runs as npm run codec (the compiled build/codec.js)", () => {
    const npm = (...args: string[]) => spawnSync("npm", ["run", "--silent", "codec", "--", ...args], { encoding: "utf8" });
    const encoded = npm("encode", '{"setRelayState":1}');
    expect(encoded.status).toBe(0);
    expect(JSON.parse(encoded.stdout)).toMatchObject({ hex: "C101", base64: "wQE=" });
    const help = npm("--help");
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage:/);
    const refused = npm("decode", "xyz!");
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('neither hex byte pairs nor base64: "xyz!"');
  });
});
