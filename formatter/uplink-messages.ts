// Every message the 16ASPM sends, by command code: how many data bytes follow the code and what
// they decode to. This table is the whole uplink protocol (the GET commands are named after it too).
// It is data, built on first use: evaluating the script costs nothing, and a lone keep-alive never needs it.
import { AT_BYTE, type Bytes, hexByte, temperature, toHex, u16, u32 } from "./bytes";

export type Fields = Record<string, unknown>;
export type Warn = (message: string) => void;

/**
 * How the data bytes read:
 * - absent: one unsigned number of the row's length;
 * - [key, size, key, size…]: an object of unsigned numbers;
 * - a letter: k the keep-alive, t a temperature, v versions, j join-retry minutes, f the FUOTA address,
 *   or an enumeration, r relay, m manual switch, g region (an undocumented byte passes through as a number).
 */
export type Layout = string | (string | number)[] | undefined;

/** [code, name (its `data` field; "keepAlive" for the keep-alive), data bytes after the code, layout] */
export type UplinkRow = [number, string, number, Layout?];

function rows(): UplinkRow[] {
  return [
    [0x01, "keepAlive", 11, "k"],
    [0x04, "deviceVersions", 2, "v"],
    [0x12, "keepAliveTime", 1],
    [0x19, "joinRetryPeriod", 1, "j"],
    [0x1b, "uplinkType", 1],
    [0x1d, "watchDogParams", 2, ["wdpC", 1, "wdpUc", 1]],
    [0x1f, "overheatingThresholds", 2, ["trigger", 1, "recovery", 1]],
    [0x21, "overvoltageThreshold", 3, ["trigger", 2, "recovery", 1]],
    [0x23, "overcurrentThreshold", 1],
    [0x25, "overpowerThreshold", 2],
    [0x54, "relayStateChangeReason", 1],
    [0x56, "relayTimerInMilliseconds", 3, ["state", 1, "time", 2]],
    [0x58, "relayTimerInSeconds", 3, ["state", 1, "time", 2]],
    [0x5a, "afterOverheatingProtectionRecovery", 1],
    [0x5c, "ledIndicationMode", 1],
    [0x5d, "manualChangeRelayState", 1, "m"],
    [0x5f, "relayRecoveryState", 1],
    [0x60, "overheatingEvents", 2, ["events", 1, "temperature", 1]],
    [0x61, "overvoltageEvents", 3, ["events", 1, "voltage", 2]],
    [0x62, "overcurrentEvents", 3, ["events", 1, "current", 2]],
    [0x63, "overpowerEvents", 3, ["events", 1, "power", 2]],
    [0x70, "overheatingRecoveryTime", 2],
    [0x71, "overvoltageRecoveryTime", 2],
    [0x72, "overcurrentRecoveryTemp", 1, "t"],
    [0x73, "overpowerRecoveryTemp", 1, "t"],
    [0xa0, "fuota", 4, "f"],
    [0xa4, "region", 1, "g"],
    [0xb1, "relayState", 1, "r"],
  ];
}

var all: UplinkRow[] | undefined;
var byCode: UplinkRow[] = [];

/** The table, built on first use. */
export function uplinkRows(): UplinkRow[] {
  if (!all) {
    all = rows();
    for (var i = 0; i < all.length; i++) byCode[all[i][0]] = all[i];
  }
  return all;
}

/** The row of a command code, or undefined for a code the device does not send. */
export function uplinkRow(code: number): UplinkRow | undefined {
  uplinkRows();
  return byCode[code];
}

// Made once: the keep-alive's straight path reads it on every call.
export var RELAY_STATES = ["OFF", "ON"];

/**
 * The keep-alive's fields, read from the 11 bytes at `at`, but for the relay's state, its last byte, which the
 * caller reads: the table decoder as an enumeration (an undocumented byte is kept, with a warning), the straight
 * path, which has checked the byte, by a plain lookup (about 20 fewer V8 instructions per call under callgrind).
 */
export function keepAlive(b: Bytes, at: number, relayState: unknown): Fields {
  // u32 and u16 written out: the script compiles this on every call, and every function it holds costs QuickJS
  // and otto about 6 µs to compile, besides the calls (npm run bench:codec).
  var energy = ((b[at + 1] << 8) | b[at + 2]) * 65536 + ((b[at + 3] << 8) | b[at + 4]);
  return {
    internalTemperature: temperature(b[at]),
    energy_kWh: energy / 1000,
    energy_Wh: energy,
    power_W: (b[at + 5] << 8) | b[at + 6],
    acVoltage_V: b[at + 7],
    acCurrent_mA: (b[at + 8] << 8) | b[at + 9],
    relayState: relayState,
  };
}

/** What the data bytes of `row` at `at` read as: the fields of the keep-alive, the value of any other message. */
export function readValue(row: UplinkRow, b: Bytes, at: number, warn: Warn): unknown {
  var layout = row[3];
  if (!layout) return row[2] === 2 ? u16(b, at) : b[at];
  if (typeof layout !== "string") {
    var value: Fields = {};
    for (var i = 0; i < layout.length; i += 2) {
      value[layout[i]] = layout[i + 1] === 2 ? u16(b, at) : b[at];
      at += layout[i + 1] as number;
    }
    return value;
  }
  if (layout === "k") return keepAlive(b, at, enumeration(RELAY_STATES, b, at + 10, warn));
  if (layout === "t") return temperature(b[at]);
  if (layout === "j") return b[at] / 12; // units of 5 s, in minutes
  if (layout === "v") return { hardware: version(b[at]), software: version(b[at + 1]) };
  if (layout === "f") return { fuota_address: u32(b, at), fuota_address_raw: toHex(b, at, at + 4) };
  return enumeration(layout === "g" ? ["EU868", "AS923", "AU915", "US915"] : layout === "m" ? [false, true] : RELAY_STATES, b, at, warn);
}

/** "major.minor" from the high and low nibble: 0x1A → "1.10". */
function version(byte: number): string {
  return (byte >> 4) + "." + (byte & 15);
}

/** An undocumented byte of an enumeration passes through as a number, with a warning. */
function enumeration(values: unknown[], b: Bytes, at: number, warn?: Warn): unknown {
  var v = b[at];
  if (v < values.length) return values[v];
  if (warn) warn("byte 0x" + hexByte(v) + AT_BYTE + at + " is undocumented, kept as a number");
  return v;
}

export interface UplinkMessage {
  code: number;
  name: string;
  /** Data bytes after the code. */
  length: number;
}

function uplinkMessages(): UplinkMessage[] {
  return rows().map(function (row) { return { code: row[0], name: row[1], length: row[2] }; });
}

/** The table for TypeScript users (the webhook); not part of the bundle. */
export var UPLINK_MESSAGES: UplinkMessage[] = /* @__PURE__ */ uplinkMessages();
