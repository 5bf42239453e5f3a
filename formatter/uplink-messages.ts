// Every message the 16ASPM sends, by command code: how many data bytes follow the code
// and which `data` fields they decode into. This table is the whole uplink protocol.
import { type Bytes, hexByte, nibbleVersion, temperature, toHex, u16, u32, u8 } from "./bytes";

export type Fields = Record<string, unknown>;
export type Warn = (message: string) => void;

export interface UplinkMessage {
  code: number;
  /** Data bytes after the code byte. */
  length: number;
  /** The message's name: its `data` field, or "keepAlive" for the keep-alive. */
  name: string;
  /** Reads the data bytes starting at `at` (the byte after the code). */
  decode: (b: Bytes, at: number, warn: Warn) => Fields;
}

type Reader = (b: Bytes, at: number, warn: Warn) => unknown;

/** A message whose data is the single field `name`. */
function field(code: number, length: number, name: string, read: Reader): UplinkMessage {
  return {
    code: code, length: length, name: name,
    decode: function (b, at, warn) {
      var fields: Fields = {};
      fields[name] = read(b, at, warn);
      return fields;
    },
  };
}

/** A message whose data is an object of consecutive numbers, `sizes` bytes each. */
function record(code: number, name: string, keys: string[], sizes: number[]): UplinkMessage {
  var length = 0;
  for (var k = 0; k < sizes.length; k++) length += sizes[k];
  return field(code, length, name, function (b, at) {
    var value: Fields = {};
    for (var j = 0; j < keys.length; j++) {
      value[keys[j]] = sizes[j] === 2 ? u16(b, at) : u8(b, at);
      at += sizes[j];
    }
    return value;
  });
}

/** A one-byte enumeration; an undocumented byte is passed through as a number, with a warning. */
function enumeration(names: unknown[], what: string): Reader {
  return function (b, at, warn) {
    var v = b[at];
    if (v < names.length) return names[v];
    warn(what + " byte 0x" + hexByte(v) + " at byte " + at + " is not documented; passed through as a number");
    return v;
  };
}

var relayState = enumeration(["OFF", "ON"], "relay state");

function keepAlive(b: Bytes, at: number, warn: Warn): Fields {
  var energy = u32(b, at + 1);
  return {
    internalTemperature: temperature(b, at),
    energy_kWh: energy / 1000,
    energy_Wh: energy,
    power_W: u16(b, at + 5),
    acVoltage_V: u8(b, at + 7),
    acCurrent_mA: u16(b, at + 8),
    relayState: relayState(b, at + 10, warn),
  };
}

export var UPLINK_MESSAGES: UplinkMessage[] = [
  { code: 0x01, length: 11, name: "keepAlive", decode: keepAlive },
  field(0x04, 2, "deviceVersions", function (b, at) {
    return { hardware: nibbleVersion(b[at]), software: nibbleVersion(b[at + 1]) };
  }),
  field(0x12, 1, "keepAliveTime", u8),
  field(0x19, 1, "joinRetryPeriod", function (b, at) { return (b[at] * 5) / 60; }),
  field(0x1b, 1, "uplinkType", u8),
  record(0x1d, "watchDogParams", ["wdpC", "wdpUc"], [1, 1]),
  record(0x1f, "overheatingThresholds", ["trigger", "recovery"], [1, 1]),
  record(0x21, "overvoltageThreshold", ["trigger", "recovery"], [2, 1]),
  field(0x23, 1, "overcurrentThreshold", u8),
  field(0x25, 2, "overpowerThreshold", u16),
  field(0x54, 1, "relayStateChangeReason", u8),
  record(0x56, "relayTimerInMilliseconds", ["state", "time"], [1, 2]),
  record(0x58, "relayTimerInSeconds", ["state", "time"], [1, 2]),
  field(0x5a, 1, "afterOverheatingProtectionRecovery", u8),
  field(0x5c, 1, "ledIndicationMode", u8),
  field(0x5d, 1, "manualChangeRelayState", enumeration([false, true], "manual relay state")),
  field(0x5f, 1, "relayRecoveryState", u8),
  record(0x60, "overheatingEvents", ["events", "temperature"], [1, 1]),
  record(0x61, "overvoltageEvents", ["events", "voltage"], [1, 2]),
  record(0x62, "overcurrentEvents", ["events", "current"], [1, 2]),
  record(0x63, "overpowerEvents", ["events", "power"], [1, 2]),
  field(0x70, 2, "overheatingRecoveryTime", u16),
  field(0x71, 2, "overvoltageRecoveryTime", u16),
  field(0x72, 1, "overcurrentRecoveryTemp", temperature),
  field(0x73, 1, "overpowerRecoveryTemp", temperature),
  field(0xa0, 4, "fuota", function (b, at) {
    return { fuota_address: u32(b, at), fuota_address_raw: toHex(b, at, at + 4) };
  }),
  field(0xa4, 1, "region", enumeration(["EU868", "AS923", "AU915", "US915"], "region")),
  field(0xb1, 1, "relayState", relayState),
];

/** The table indexed by code, built once. */
export var UPLINK_BY_CODE: { [code: number]: UplinkMessage } = {};
for (var m = 0; m < UPLINK_MESSAGES.length; m++) UPLINK_BY_CODE[UPLINK_MESSAGES[m].code] = UPLINK_MESSAGES[m];
