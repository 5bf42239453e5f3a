// Every command the 16ASPM accepts, keyed by its JSON name: code, parameters and their ranges.
// This table drives encodeDownlink, decodeDownlink and the validation of every value.

export interface Param {
  /** Key inside the command's object value; absent when the value is a single number. */
  key?: string;
  bytes: 1 | 2;
  /** Allowed raw values (what goes on the air). */
  min: number;
  max: number;
  unit: string;
  /** Raw units per JSON unit (join-retry: 12 units of 5 s per minute). Default 1. */
  scale?: number;
  /** A relay state: `true` / `false` stand for 1 / 0 (the vendor's helper sends booleans). */
  flag?: boolean;
}

export interface DownlinkCommand {
  key: string;
  code: number;
  /** None: the value is `true` (a GET or an action); one without key: a number; otherwise an object. */
  params: Param[];
  /** Fixed data bytes after the code (clear energy is 26 01). */
  suffix?: number[];
  /** Advice about a valid value, such as a duty-cycle warning. */
  advise?: (value: unknown) => string;
}

/** A command without data: its value is `true`. */
function bare(key: string, code: number): DownlinkCommand {
  return { key: key, code: code, params: [] };
}

function set(key: string, code: number, params: Param[], advise?: (value: unknown) => string): DownlinkCommand {
  return { key: key, code: code, params: params, advise: advise };
}

function p(bytes: 1 | 2, min: number, max: number, unit: string, key?: string): Param {
  return { key: key, bytes: bytes, min: min, max: max, unit: unit };
}

/** A relay state, 0 / 1 or false / true. */
var RELAY: Param = { bytes: 1, min: 0, max: 1, unit: "0 or false off, 1 or true on", flag: true };

function relayState(key: string): Param {
  return { key: key, bytes: 1, min: 0, max: 1, unit: RELAY.unit, flag: true };
}

function adviseKeepAlive(minutes: unknown): string {
  if ((minutes as number) < 3) return "below 3 minutes the device sends only when the duty cycle allows; 10 or more is recommended";
  if ((minutes as number) < 10) return "10 minutes or more is recommended for the duty cycle";
  return "";
}

function adviseJoinRetry(minutes: unknown): string {
  return (minutes as number) < 4 ? "a join-retry period below 240 s breaks the duty cycle in most regions" : "";
}

function adviseOvervoltage(value: unknown): string {
  return (value as { trigger: number }).trigger > 250
    ? "a trigger above 250 V is accepted only by firmware 1.2; firmware 1.3 and later allow 1..250 V"
    : "";
}

export var DOWNLINK_COMMANDS: DownlinkCommand[] = [
  set("setKeepAlive", 0x02, [p(1, 1, 255, "minutes")], adviseKeepAlive),
  bare("getDeviceVersions", 0x04),
  set("setJoinRetryPeriod", 0x10, [{ bytes: 1, min: 1, max: 255, unit: "minutes, in steps of 5 s", scale: 12 }], adviseJoinRetry),
  set("setUplinkType", 0x11, [p(1, 0, 1, "0 unconfirmed, 1 confirmed")]),
  bare("getKeepAliveTime", 0x12),
  bare("getJoinRetryPeriod", 0x19),
  bare("getUplinkType", 0x1b),
  set("setWatchDogParams", 0x1c, [
    p(1, 0, 255, "uplinks without ACK, 0 = off", "confirmedUplinks"),
    p(1, 0, 255, "hours without downlink, 0 = off", "unconfirmedUplinks"),
  ]),
  bare("getWatchDogParams", 0x1d),
  set("setOverheatingThresholds", 0x1e, [p(1, 30, 100, "°C", "trigger"), p(1, 30, 100, "°C", "recovery")]),
  bare("getOverheatingThresholds", 0x1f),
  // Firmware 1.2 takes up to 300 V; the recovery is one byte on the air.
  set("setOvervoltageThresholds", 0x20, [p(2, 1, 300, "V", "trigger"), p(1, 1, 255, "V", "recovery")], adviseOvervoltage),
  bare("getOvervoltageThresholds", 0x21),
  set("setOvercurrentThreshold", 0x22, [p(1, 1, 16, "A")]),
  bare("getOvercurrentThreshold", 0x23),
  set("setOverpowerThreshold", 0x24, [p(2, 100, 3680, "W")]),
  bare("getOverpowerThreshold", 0x25),
  { key: "clearAccumulatedEnergy", code: 0x26, params: [], suffix: [0x01] },
  bare("getRelayStateChangeReason", 0x54),
  set("setRelayTimerInMilliseconds", 0x55, [relayState("state"), p(2, 0, 65535, "ms", "time")]),
  bare("getRelayTimerInMilliseconds", 0x56),
  set("setRelayTimerInSeconds", 0x57, [relayState("state"), p(2, 0, 65535, "s", "time")]),
  bare("getRelayTimerInSeconds", 0x58),
  set("setAfterOverheatingProtectionRecovery", 0x59, [p(1, 0, 1, "0 last state, 1 off")]),
  bare("getAfterOverheatingProtectionRecovery", 0x5a),
  set("setLedIndicationMode", 0x5b, [p(1, 0, 1, "0 off, 1 on")]),
  bare("getLedIndicationMode", 0x5c),
  set("setRelayRecoveryState", 0x5e, [p(1, 0, 2, "0 last state, 1 on, 2 off")]),
  bare("getRelayRecoveryState", 0x5f),
  bare("getOverheatingEvents", 0x60),
  bare("getOvervoltageEvents", 0x61),
  bare("getOvercurrentEvents", 0x62),
  bare("getOverpowerEvents", 0x63),
  bare("getOverheatingRecoveryTime", 0x70),
  bare("getOvervoltageRecoveryTime", 0x71),
  bare("getOvercurrentRecoveryTemp", 0x72),
  bare("getOverpowerRecoveryTemp", 0x73),
  bare("getRegion", 0xa4),
  bare("resetDevice", 0xa5),
  bare("getRelayState", 0xb1),
  set("setRelayState", 0xc1, [RELAY]),
];

export var DOWNLINK_BY_KEY: { [key: string]: DownlinkCommand } = {}; // look up with hasOwn: keys come from users
export var DOWNLINK_BY_CODE: { [code: number]: DownlinkCommand } = {};
for (var c = 0; c < DOWNLINK_COMMANDS.length; c++) {
  DOWNLINK_BY_KEY[DOWNLINK_COMMANDS[c].key] = DOWNLINK_COMMANDS[c];
  DOWNLINK_BY_CODE[DOWNLINK_COMMANDS[c].code] = DOWNLINK_COMMANDS[c];
}

/** The length of a command on the air, code included. */
export function commandSize(command: DownlinkCommand): number {
  var size = 1 + (command.suffix ? command.suffix.length : 0);
  for (var i = 0; i < command.params.length; i++) size += command.params[i].bytes;
  return size;
}
