// Every command the 16ASPM accepts, keyed by its JSON name: code, parameters and their ranges.
// This table drives encodeDownlink, decodeDownlink and the validation of every value. It is data
// (tuples, short in the bundle), built on first use, so evaluating the script costs nothing.
import { type UplinkRow, uplinkRow, uplinkRows } from "./uplink-messages";

/** A command's fields (the bundle reads tuples by index; esbuild inlines these). */
export enum C { key, code, params, data, scale }
/**
 * [key, code, parameters, a fixed data byte, raw units per JSON unit].
 * Parameters are flat, four entries each: key ("" when the value is a single number), min, max
 * (raw values: above 255 takes two bytes on the air) and unit. No parameters: the value is `true`.
 */
export type CommandRow = [string | number, number, (string | number)[], number?, number?];

/** The unit of a relay state, and the rule it states: true / false stand for 1 / 0, as the vendor's helper sends them. */
export var RELAY = "0/false off, 1/true on";

// Keys follow the uplink table. Every response's code is also the GET that asks for it, keyed
// "get" + the response's name (0x12 → getKeepAliveTime), but for those no GET asks for (the keep-alive,
// the manual switch, the FUOTA address) and 0x21, named differently (below). A SET whose key is
// given here as a response code is "set" + that response's name (0x1F → setOverheatingThresholds).
var NOT_ASKED = [0x01, 0x21, 0x5d, 0xa0];


function rows(): CommandRow[] {
  var list: CommandRow[] = [
    ["setKeepAlive", 0x02, ["", 1, 255, "minutes"]],
    [0x19, 0x10, ["", 1, 255, "minutes"], , 12],
    [0x1b, 0x11, ["", 0, 1, "0 unconfirmed, 1 confirmed"]],
    [0x1d, 0x1c, ["confirmedUplinks", 0, 255, "uplinks, 0 = off", "unconfirmedUplinks", 0, 255, "hours, 0 = off"]],
    [0x1f, 0x1e, ["trigger", 30, 100, "°C", "recovery", 30, 100, "°C"]],
    // Firmware 1.2 takes up to 300 V (two bytes); the recovery is one byte on the air.
    ["setOvervoltageThresholds", 0x20, ["trigger", 1, 300, "V", "recovery", 1, 255, "V"]],
    ["getOvervoltageThresholds", 0x21, []],
    [0x23, 0x22, ["", 1, 16, "A"]],
    [0x25, 0x24, ["", 100, 3680, "W"]],
    ["clearAccumulatedEnergy", 0x26, [], 0x01],
    [0x56, 0x55, ["state", 0, 1, RELAY, "time", 0, 65535, "ms"]],
    [0x58, 0x57, ["state", 0, 1, RELAY, "time", 0, 65535, "s"]],
    [0x5a, 0x59, ["", 0, 1, "0 last state, 1 off"]],
    [0x5c, 0x5b, ["", 0, 1, "0 off, 1 on"]],
    [0x5f, 0x5e, ["", 0, 2, "0 last state, 1 on, 2 off"]],
    ["resetDevice", 0xa5, []],
    [0xb1, 0xc1, ["", 0, 1, RELAY]],
  ];
  var responses = uplinkRows();
  for (var i = 0; i < list.length; i++) if (typeof list[i][C.key] === "number") list[i][C.key] = named("set", list[i][C.key] as number);
  for (i = 0; i < responses.length; i++) if (NOT_ASKED.indexOf(responses[i][0]) < 0) list.push([named("get", responses[i][0]), responses[i][0], []]);
  return list;
}

/** "get" or "set" + the name of the response with code `code`. */
function named(verb: string, code: number): string {
  var name = (uplinkRow(code) as UplinkRow)[1];
  return verb + name.charAt(0).toUpperCase() + name.slice(1);
}

var byKey: { [key: string]: CommandRow } | undefined;
var byCode: CommandRow[] = [];

function index(): { [key: string]: CommandRow } {
  if (!byKey) {
    // No prototype: a user's key such as "toString" or "__proto__" finds nothing.
    byKey = Object.create(null) as { [key: string]: CommandRow };
    var list = rows();
    for (var i = 0; i < list.length; i++) byKey[list[i][C.key]] = byCode[list[i][C.code]] = list[i];
  }
  return byKey;
}

/** The command named `key`, or undefined. */
export function commandByKey(key: string): CommandRow | undefined {
  return index()[key];
}

export function commandByCode(code: number): CommandRow | undefined {
  index();
  return byCode[code];
}

export interface Param {
  /** Key inside the command's object value; absent when the value is a single number. */
  key?: string;
  bytes: 1 | 2;
  /** Allowed raw values (what goes on the air). */
  min: number;
  max: number;
  unit: string;
  /** Raw units per JSON unit (join-retry: 12 units of 5 s per minute). */
  scale?: number;
}

export interface DownlinkCommand {
  key: string;
  code: number;
  /** None: the value is `true` (a GET or an action); one without key: a number; otherwise an object. */
  params: Param[];
}

function downlinkCommands(): DownlinkCommand[] {
  return rows().map(function (row) {
    var params: Param[] = [];
    var flat = row[C.params];
    for (var i = 0; i < flat.length; i += 4) {
      var max = flat[i + 2] as number;
      params.push({ key: (flat[i] as string) || undefined, bytes: max > 255 ? 2 : 1, min: flat[i + 1] as number, max: max, unit: flat[i + 3] as string, scale: row[C.scale] });
    }
    return { key: row[C.key] as string, code: row[C.code], params: params };
  });
}

/** The table as objects, for TypeScript users and tests; not part of the bundle. */
export var DOWNLINK_COMMANDS: DownlinkCommand[] = /* @__PURE__ */ downlinkCommands();
