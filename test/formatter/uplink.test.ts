import { describe, expect, it } from "vitest";
import { decodeUplink, UPLINK_MESSAGES } from "../../formatter/index";
import { hex } from "../support/hex";
import { KEEP_ALIVE, KEEP_ALIVE_DATA, RESPONSES } from "./vectors";

function decode(payload: string, fPort = 2) {
  return decodeUplink({ bytes: hex(payload), fPort });
}

describe("decodeUplink: the spec's examples", () => {
  it("decodes the worked keep-alive example", () => {
    expect(decode(KEEP_ALIVE)).toEqual({ data: KEEP_ALIVE_DATA });
  });

  it("decodes the keep-alive after a GET of the period", () => {
    expect(decode("12 0F " + KEEP_ALIVE)).toEqual({ data: { keepAliveTime: 15, ...KEEP_ALIVE_DATA } });
  });

  it.each(RESPONSES)("decodes %s", (payload, data) => {
    expect(decode(payload)).toEqual({ data });
  });

  it("covers every message of the table", () => {
    const covered = new Set(RESPONSES.map(([payload]) => hex(payload)[0]).concat([0x01]));
    expect(UPLINK_MESSAGES.map((m) => m.code).filter((code) => !covered.has(code))).toEqual([]);
  });
});

describe("decodeUplink: the vendor codec's mistakes, fixed", () => {
  it("honours the temperature's sign bit in the keep-alive: 0x85 is −5 °C", () => {
    expect(decode("01 85 03 4A 24 18 05 D9 E7 19 52 01").data.internalTemperature).toBe(-5);
    expect(decode("01 FF 00 00 00 00 00 00 E6 00 00 00").data.internalTemperature).toBe(-127);
    expect(Object.is(decode("01 80 00 00 00 00 00 00 E6 00 00 00").data.internalTemperature, 0)).toBe(true);
  });

  it("honours the sign bit in the overcurrent and overpower recovery temperatures", () => {
    expect(decode("72 8A").data).toEqual({ overcurrentRecoveryTemp: -10 });
    expect(decode("73 81").data).toEqual({ overpowerRecoveryTemp: -1 });
  });

  it("decodes a response-only uplink without inventing a keep-alive", () => {
    expect(decode("12 0F 1F 5A 3C 21 00 FA F5 25 07 D0")).toEqual({
      data: {
        keepAliveTime: 15,
        overheatingThresholds: { trigger: 90, recovery: 60 },
        overvoltageThreshold: { trigger: 250, recovery: 245 },
        overpowerThreshold: 2000,
      },
    });
  });

  it("reads versions as nibbles, not decimal digits: 0x1A is 1.10", () => {
    expect(decode("04 1A 13").data).toEqual({ deviceVersions: { hardware: "1.10", software: "1.3" } });
  });

  it("keeps the exact Wh counter above 2^31", () => {
    const data = decode("01 1C FF FF FF FF 00 00 E6 00 00 00").data;
    expect(data.energy_Wh).toBe(4294967295);
    expect(data.energy_kWh).toBe(4294967.295);
  });
});

describe("decodeUplink: several messages in one uplink", () => {
  it("decodes the 2025 firmware's timer responses in front of the keep-alive", () => {
    // The vendor helper's test "keepalive with response of new commands" (MClimate/mclimate-payload-helper).
    expect(decode("56 00 00 FF 58 00 00 01 " + KEEP_ALIVE)).toEqual({
      data: {
        relayTimerInMilliseconds: { state: 0, time: 255 },
        relayTimerInSeconds: { state: 0, time: 1 },
        ...KEEP_ALIVE_DATA,
      },
    });
    expect(decode("54 03 " + KEEP_ALIVE).data).toEqual({ relayStateChangeReason: 3, ...KEEP_ALIVE_DATA });
  });

  it("decodes RESPONSES then the keep-alive", () => {
    expect(decode("04 12 10 1D 02 0C B1 01 " + KEEP_ALIVE).data).toEqual({
      deviceVersions: { hardware: "1.2", software: "1.0" },
      watchDogParams: { wdpC: 2, wdpUc: 12 },
      ...KEEP_ALIVE_DATA,
    });
  });

  it("decodes a keep-alive with a manual-switch message", () => {
    expect(decode("5D 00 01 1C 03 4A 24 18 00 00 E7 00 00 00").data).toEqual({
      manualChangeRelayState: false,
      ...KEEP_ALIVE_DATA, power_W: 0, acCurrent_mA: 0, relayState: "OFF",
    });
    expect(decode(KEEP_ALIVE + " 5D 01").data).toEqual({ ...KEEP_ALIVE_DATA, manualChangeRelayState: true });
  });

  it("decodes a protection event with a keep-alive in the middle of RESPONSES", () => {
    expect(decode("61 03 01 04 " + KEEP_ALIVE + " 71 00 1A").data).toEqual({
      overvoltageEvents: { events: 3, voltage: 260 }, ...KEEP_ALIVE_DATA, overvoltageRecoveryTime: 26,
    });
  });
});

describe("decodeUplink: bad input gets errors that say what and where", () => {
  // Every truncation of every message, behind a response so the offset is not 0.
  for (const payload of [KEEP_ALIVE, ...RESPONSES.map(([p]) => p)]) {
    const bytes = hex(payload);
    for (let cut = 1; cut < bytes.length; cut++) {
      it(`${payload} cut to ${cut} bytes after 12 0F names the command and offset 2`, () => {
        const result = decodeUplink({ bytes: [0x12, 0x0f, ...bytes.slice(0, cut)], fPort: 2 });
        const code = bytes[0].toString(16).toUpperCase().padStart(2, "0");
        expect(result.errors).toHaveLength(1);
        expect(result.errors![0]).toMatch(new RegExp(`\\(0x${code}\\) at byte 2 is cut short: needs ${bytes.length} bytes, only ${cut} left`));
        expect(result.data).toEqual({ keepAliveTime: 15 });
      });
    }
  }

  it("refuses an empty payload", () => {
    expect(decodeUplink({ bytes: [], fPort: 2 })).toEqual({ data: {}, errors: ["empty payload"] });
  });

  it.each([
    [undefined, "input.bytes must be an array of numbers 0..255, got undefined"],
    ["011C", 'input.bytes must be an array of numbers 0..255, got "011C"'],
    [[1, 256], "input.bytes[1] must be an integer 0..255, got 256"],
    [[1, 2.5], "input.bytes[1] must be an integer 0..255, got 2.5"],
    [[1, "x"], 'input.bytes[1] must be an integer 0..255, got "x"'],
  ])("refuses bytes %j", (bytes, message) => {
    expect(decodeUplink({ bytes, fPort: 2 })).toEqual({ data: {}, errors: [message] });
  });

  it("refuses input that is not an object", () => {
    expect(decodeUplink(null as never).errors).toEqual(["input.bytes must be an array of numbers 0..255, got undefined"]);
  });

  it("accepts a Uint8Array", () => {
    expect(decodeUplink({ bytes: new Uint8Array(hex(KEEP_ALIVE)), fPort: 2 })).toEqual({ data: KEEP_ALIVE_DATA });
  });
});

describe("decodeUplink: unknown codes and ports", () => {
  it("keeps what came before an unknown code and warns with the code and offset", () => {
    expect(decode("12 0F 1B 01 EE 05")).toEqual({
      data: { keepAliveTime: 15, uplinkType: 1 },
      warnings: ["unknown command 0xEE at byte 4: reading stopped, 2 bytes left"],
    });
  });

  it("decodes a trailing keep-alive after an unknown code, and says so", () => {
    expect(decode("12 0F EE 05 " + KEEP_ALIVE)).toEqual({
      data: { keepAliveTime: 15, ...KEEP_ALIVE_DATA },
      warnings: [
        "unknown command 0xEE at byte 2: reading stopped, 14 bytes left",
        "the last 12 bytes read as the keep-alive at byte 4",
      ],
    });
  });

  it("gives errors when an unknown code leaves nothing decoded", () => {
    expect(decode("EE 01 02")).toEqual({
      data: {},
      warnings: ["unknown command 0xEE at byte 0: reading stopped, 3 bytes left"],
      errors: ["no known message"],
    });
  });

  it("decodes another fPort with a warning", () => {
    expect(decode(KEEP_ALIVE, 5)).toEqual({
      data: KEEP_ALIVE_DATA,
      warnings: ["fPort 5: expected 2; decoded anyway"],
    });
  });

  it("passes an undocumented enum byte through as a number, with a warning", () => {
    expect(decode("A4 07")).toEqual({
      data: { region: 7 },
      warnings: ["region (0xA4): byte 0x07 at byte 1 is undocumented, kept as a number"],
    });
    expect(decode("5D 02 " + KEEP_ALIVE)).toEqual({
      data: { manualChangeRelayState: 2, ...KEEP_ALIVE_DATA },
      warnings: ["manualChangeRelayState (0x5D): byte 0x02 at byte 1 is undocumented, kept as a number"],
    });
  });
});
