import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { runCli } from "../../formatter/cli";

/** A usage mistake's answer: {"errors": [message]} on stdout, exit code 2. */
const refusal = (message: string) => ({ code: 2, output: JSON.stringify({ errors: [message] }, null, 2) });

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
    expect(runCli(["decode", "zz!"])).toEqual(refusal('neither hex byte pairs nor base64: "zz!"'));
    // Hex digits only, odd count: a digit is missing; base64 would decode it to other bytes.
    expect(runCli(["decode", "011C034A241805D9E719520"])).toEqual(refusal('not hex byte pairs (23 hex digits): "011C034A241805D9E719520"; add --base64 if it is base64'));
    expect(runCli(["decode", "0x01G2"])).toEqual(refusal('not hex: "G" in byte 2 (G2); hex digits are 0-9 and A-F (add --base64 if "0x01G2" is base64)'));
    expect(runCli(["decode", "0x"]).code).toBe(2);
    // Base64 whose last character carries bits no byte uses, padding where none fits, a lone character.
    for (const bad of ["Ag9", "Ag9=", "Ag=", "A", "Ag8S=", "Ag-S"]) expect(runCli(["decode", bad]), bad).toMatchObject({ code: 2 });
    expect(runCli(["decode", "0102", "--base64"])).toEqual(runCli(["decode", "d34d36"]));
    expect(runCli(["decode", "01 02 0", "--base64"])).toEqual(refusal('not base64: "01 02 0"'));
    expect(runCli(["decode", "   "])).toEqual(refusal("the payload is empty"));
  });

  it("names a slip in hex (the letter O for the digit 0) rather than reading it as base64", () => {
    // …52O1 is also valid base64, which would decode to 18 other bytes.
    expect(Buffer.from("011C034A241805D9E71952O1", "base64")).toHaveLength(18);
    expect(runCli(["decode", "011C034A241805D9E71952O1"])).toEqual(refusal(
      'not hex: "O" in byte 12 (O1), the letter O, not the digit 0; hex digits are 0-9 and A-F (add --base64 if "011C034A241805D9E71952O1" is base64)'));
    expect(JSON.parse(runCli(["decode", "01 1C 03 4A 24 18 O5 D9 E7 19 52 01"]).output).errors[0]).toMatch(/^not hex: "O" in byte 7 \(O5\), the letter O/);
    // Base64 stays base64, and --base64 decides for a payload that is both.
    expect(runCli(["decode", "ARwDSiQYBdnnGVIB"]).code).toBe(0);
    expect(runCli(["decode", "011C034A241805D9E71952O1", "--base64"]).code).toBe(1);
  });

  it("names an unknown command or option, a --port without a number, and a payload too many", () => {
    expect(runCli(["decod", "0102"])).toMatchObject({ ...refusal('unknown command "decod": use decode, decode-downlink, encode'), usage: expect.stringMatching(/^usage:/) });
    expect(runCli(["decode", "011C034A241805D9E7195201", "--port"])).toMatchObject(refusal("--port needs a number: the fPort, 0..255 (e.g. --port 2)"));
    expect(runCli(["decode", "011C034A241805D9E7195201", "--port", "x"])).toMatchObject(refusal('--port needs a number 0..255, got "x"'));
    expect(runCli(["decode", "011C034A241805D9E7195201", "--port", "256"])).toMatchObject(refusal('--port needs a number 0..255, got "256"'));
    expect(runCli(["decode", "011C034A241805D9E7195201", "--prot", "3"])).toMatchObject(refusal('unknown option "--prot": the options are --port N, --base64 and --help'));
    expect(runCli(["decode", "01", "1C"])).toMatchObject(refusal('one payload at a time: "1C" is one argument too many (quote a payload with spaces)'));
    expect(runCli(["decode"])).toMatchObject(refusal("decode needs a payload in hex or base64"));
    // The options may come first; --port takes its value.
    const onPort3 = runCli(["decode", "--port", "3", "011C034A241805D9E7195201"]);
    expect(onPort3.code).toBe(0);
    expect(onPort3).toEqual(runCli(["decode", "011C034A241805D9E7195201", "--port=3"]));
    expect(JSON.parse(onPort3.output).warnings.join(" ")).toContain("3");
  });

  it("exits non-zero with the codec's errors or a usage message, and 0 for --help", () => {
    expect(runCli(["encode", '{"setKeepAlive":0}'])).toMatchObject({ code: 1 });
    expect(JSON.parse(runCli(["encode", "{setKeepAlive"]).output).errors[0]).toMatch(/^encode needs downlink JSON: /);
    expect(runCli(["decode", "020F", "--port", "x"]).code).toBe(2);
    expect(runCli([])).toMatchObject({ code: 2, usage: expect.stringMatching(/^usage:/) });
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
    // JSON on stdout whatever happened, so `| jq` sees it; the exit code tells.
    const refused = npm("decode", "xyz!");
    expect(refused.status).toBe(2);
    expect(JSON.parse(refused.stdout)).toEqual({ errors: ['neither hex byte pairs nor base64: "xyz!"'] });
    expect(refused.stderr).toBe("");
    const failed = npm("encode", '{"setKeepAlive":0}');
    expect(failed.status).toBe(1);
    expect(JSON.parse(failed.stdout).errors[0]).toContain("setKeepAlive");
    const unknown = npm("decod", "0102");
    expect(unknown.status).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({ errors: ['unknown command "decod": use decode, decode-downlink, encode'] });
    expect(unknown.stderr).toMatch(/^usage:/);
  });
});
