import { describe, expect, it } from "vitest";
import { decodeDownlink, DOWNLINK_COMMANDS, encodeDownlink } from "../../formatter/index";
import { hex } from "../support/hex";
import { COMMANDS } from "./vectors";

describe("encodeDownlink and decodeDownlink: the spec's examples", () => {
  it.each(COMMANDS)("%j ⇄ %s", (data, bytes) => {
    expect(encodeDownlink({ data })).toEqual({ bytes: hex(bytes), fPort: 1 });
    expect(decodeDownlink({ bytes: hex(bytes), fPort: 1 })).toEqual({ data });
  });

  it("covers every command of the table", () => {
    const covered = new Set(COMMANDS.map(([data]) => Object.keys(data)[0]));
    expect(DOWNLINK_COMMANDS.map((c) => c.key).filter((key) => !covered.has(key))).toEqual([]);
  });

  it("takes a relay state as true / false as well as 1 / 0 (the vendor helper's booleans)", () => {
    expect(encodeDownlink({ data: { setRelayState: true } })).toEqual({ bytes: hex("C1 01"), fPort: 1 });
    expect(encodeDownlink({ data: { setRelayState: false } })).toEqual({ bytes: hex("C1 00"), fPort: 1 });
    expect(encodeDownlink({ data: { setRelayTimerInSeconds: { state: true, time: 60 } } })).toEqual({ bytes: hex("57 01 00 3C"), fPort: 1 });
    // Decoding shows the number the device got.
    expect(decodeDownlink({ bytes: hex("C1 01"), fPort: 1 })).toEqual({ data: { setRelayState: 1 } });
  });

  it("encodes several commands in the order given", () => {
    const data = { getRelayState: true, setKeepAlive: 10, setOverpowerThreshold: 3680, getKeepAliveTime: true };
    expect(encodeDownlink({ data })).toEqual({ bytes: hex("B1 02 0A 24 0E 60 12"), fPort: 1 });
    expect(decodeDownlink({ bytes: hex("B1 02 0A 24 0E 60 12"), fPort: 1 })).toEqual({ data });
  });

  it("uses the fPort named in the data and gives it back on decode", () => {
    expect(encodeDownlink({ data: { fPort: 10, setRelayState: 0 } })).toEqual({ bytes: hex("C1 00"), fPort: 10 });
    expect(decodeDownlink({ bytes: hex("C1 00"), fPort: 10 })).toEqual({ data: { fPort: 10, setRelayState: 0 } });
  });

  it("appends sendCustomHexCommand bytes as they are", () => {
    expect(encodeDownlink({ data: { setKeepAlive: 10, sendCustomHexCommand: "12 b1" } })).toEqual({
      bytes: hex("02 0A 12 B1"), fPort: 1,
    });
  });
});

describe("encodeDownlink: advice", () => {
  it("warns about a keep-alive below 3 minutes and below 10", () => {
    expect(encodeDownlink({ data: { setKeepAlive: 2 } }).warnings).toEqual([
      "setKeepAlive: below 3 minutes the device sends only when the duty cycle allows; 10 or more is recommended",
    ]);
    expect(encodeDownlink({ data: { setKeepAlive: 5 } }).warnings).toEqual([
      "setKeepAlive: 10 minutes or more is recommended for the duty cycle",
    ]);
    expect(encodeDownlink({ data: { setKeepAlive: 10 } }).warnings).toBeUndefined();
  });

  it("takes an overvoltage trigger up to 300 V, as firmware 1.2 does", () => {
    expect(encodeDownlink({ data: { setOvervoltageThresholds: { trigger: 275, recovery: 250 } } })).toEqual({ bytes: hex("20 01 13 FA"), fPort: 1 });
  });

  it("takes a join-retry period in minutes, in steps of 5 s", () => {
    expect(encodeDownlink({ data: { setJoinRetryPeriod: 3.5 } })).toEqual({ bytes: [0x10, 42], fPort: 1 });
  });

  it("warns when the frame is over 51 bytes", () => {
    const data = { sendCustomHexCommand: "12".repeat(52) };
    expect(encodeDownlink({ data }).warnings).toEqual([
      "52 bytes: over the 51 that fit at DR0 in most regions",
    ]);
  });
});

describe("encodeDownlink: every bad value is refused with the key, the value and the range", () => {
  it.each([
    [{ setKeepAlive: 0 }, "setKeepAlive: 0 is out of range; allowed 1..255 (minutes)"],
    [{ setKeepAlive: 256 }, "setKeepAlive: 256 is out of range; allowed 1..255 (minutes)"],
    [{ setKeepAlive: 10.5 }, "setKeepAlive: 10.5 is not an integer; allowed 1..255 (minutes)"],
    [{ setKeepAlive: "10" }, 'setKeepAlive: expected a number in 1..255 (minutes), got "10"'],
    [{ setKeepAlive: NaN }, "setKeepAlive: expected a number in 1..255 (minutes), got NaN"],
    [{ setJoinRetryPeriod: 16.51 }, "setJoinRetryPeriod: 16.51 is not a multiple of 1/12; allowed 0.083..21.25 (minutes)"],
    [{ setJoinRetryPeriod: 22 }, "setJoinRetryPeriod: 22 is out of range; allowed 0.083..21.25 (minutes)"],
    [{ setOverheatingThresholds: { trigger: 101, recovery: 60 } }, "setOverheatingThresholds.trigger: 101 is out of range; allowed 30..100 (°C)"],
    [{ setOverheatingThresholds: { trigger: 90 } }, "setOverheatingThresholds.recovery: missing; allowed 30..100 (°C)"],
    [{ setOverheatingThresholds: { trigger: 90, recovery: 60, hysteresis: 5 } }, "setOverheatingThresholds.hysteresis: unknown key; expected {trigger,recovery}"],
    [{ setOverheatingThresholds: 90 }, "setOverheatingThresholds: expected an object {trigger,recovery}, got 90"],
    [{ setOvervoltageThresholds: { trigger: 301, recovery: 240 } }, "setOvervoltageThresholds.trigger: 301 is out of range; allowed 1..300 (V)"],
    [{ setOvervoltageThresholds: { trigger: 250, recovery: 256 } }, "setOvervoltageThresholds.recovery: 256 is out of range; allowed 1..255 (V)"],
    [{ setOvercurrentThreshold: 17 }, "setOvercurrentThreshold: 17 is out of range; allowed 1..16 (A)"],
    [{ setOverpowerThreshold: 99 }, "setOverpowerThreshold: 99 is out of range; allowed 100..3680 (W)"],
    [{ setRelayState: 2 }, "setRelayState: 2 is out of range; allowed 0..1 (0/false off, 1/true on)"],
    [{ setRelayState: "on" }, 'setRelayState: expected a number in 0..1 (0/false off, 1/true on), got "on"'],
    [{ setRelayTimerInMilliseconds: { state: 1, time: 65536 } }, "setRelayTimerInMilliseconds.time: 65536 is out of range; allowed 0..65535 (ms)"],
    [{ setRelayRecoveryState: 3 }, "setRelayRecoveryState: 3 is out of range; allowed 0..2 (0 last state, 1 on, 2 off)"],
    [{ setWatchDogParams: { confirmedUplinks: -1, unconfirmedUplinks: 0 } }, "setWatchDogParams.confirmedUplinks: -1 is out of range; allowed 0..255 (uplinks, 0 = off)"],
    [{ getKeepAliveTime: false }, "getKeepAliveTime: false sends nothing; use true"],
    [{ setKeepAlive: 10, turnOn: true }, '"turnOn": unknown command'],
    [{ fPort: 3, setRelayState: 1 }, "fPort 3 is not allowed: 1, 2 or 4..223"],
    [{ fPort: 224, setRelayState: 1 }, "fPort 224 is not allowed: 1, 2 or 4..223"],
    [{ sendCustomHexCommand: "123" }, 'sendCustomHexCommand: expected hex byte pairs, got "123"'],
    [{ sendCustomHexCommand: "zz" }, 'sendCustomHexCommand: expected hex byte pairs, got "zz"'],
    [{}, "input.data: no command"],
  ])("%j", (data, message) => {
    expect(encodeDownlink({ data })).toEqual({ bytes: [], fPort: 1, errors: [message] });
  });

  it("refuses input without a data object", () => {
    expect(encodeDownlink({ data: [2, 10] })).toEqual({ bytes: [], fPort: 1, errors: ["input.data must be an object, got an array"] });
    expect(encodeDownlink(undefined as never).errors).toEqual(["input.data must be an object, got undefined"]);
  });

  it("emits no byte when any key is refused, even after valid ones", () => {
    const result = encodeDownlink({ data: { setKeepAlive: 10, setRelayState: 5 } });
    expect(result.bytes).toEqual([]);
    expect(result.errors).toHaveLength(1);
  });
});

describe("decodeDownlink: bad and odd frames", () => {
  it("names the command and offset of a cut-short command", () => {
    expect(decodeDownlink({ bytes: hex("12 20 00 FA"), fPort: 1 })).toEqual({
      data: { getKeepAliveTime: true },
      errors: ["setOvervoltageThresholds (0x20) at byte 1 is cut short: needs 4 bytes, only 3 left"],
    });
  });

  it("shows bytes after an unknown code as sendCustomHexCommand", () => {
    expect(decodeDownlink({ bytes: hex("02 0A FE 01"), fPort: 1 })).toEqual({
      data: { setKeepAlive: 10, sendCustomHexCommand: "FE01" },
      warnings: ["unknown command 0xFE at byte 2: the rest is shown as sendCustomHexCommand"],
    });
  });

  it("shows a repeated command once, with its last value", () => {
    expect(decodeDownlink({ bytes: hex("02 0F 02 0A 26 01"), fPort: 1 })).toEqual({
      data: { setKeepAlive: 10, clearAccumulatedEnergy: true },
    });
  });

  it("names the command and offset of a clear-energy command cut short", () => {
    expect(decodeDownlink({ bytes: hex("12 26"), fPort: 1 })).toEqual({
      data: { getKeepAliveTime: true },
      errors: ["clearAccumulatedEnergy (0x26) at byte 1 is cut short: needs 2 bytes, only 1 left"],
    });
  });

  it("refuses an empty frame and bad bytes", () => {
    expect(decodeDownlink({ bytes: [], fPort: 1 }).errors).toEqual(["empty downlink"]);
    expect(decodeDownlink({ bytes: [-1], fPort: 1 }).errors).toEqual(["input.bytes[0] must be an integer 0..255, got -1"]);
    expect(decodeDownlink(null as never).errors).toEqual(["input.bytes must be an array of numbers 0..255, got undefined"]);
  });
});
