// encodeDownlink and decodeDownlink, both driven by the command table.
import { type Bytes, byteArrayProblem, commandLabel, describe, hasOwn, hexByte, isInteger, isPlainObject, toHex } from "./bytes";
import { commandSize, DOWNLINK_BY_CODE, DOWNLINK_BY_KEY, type DownlinkCommand, type Param } from "./downlink-commands";
import { withProblems } from "./output";

export type DownlinkData = Record<string, unknown>;

export interface EncodeOutput {
  bytes: number[];
  fPort: number;
  warnings?: string[];
  errors?: string[];
}

export interface DecodeDownlinkOutput {
  data: DownlinkData;
  warnings?: string[];
  errors?: string[];
}

var DEFAULT_FPORT = 1;
/** The largest payload at DR0 in most regions (EU868). */
var MAX_FRAME = 51;
var CUSTOM_HEX = "sendCustomHexCommand";

/** Why `port` is not a downlink fPort the device accepts, or "". */
function fPortProblem(port: unknown): string {
  if (!isInteger(port) || port < 1 || port > 223 || port === 3) {
    return "fPort " + describe(port) + " is not allowed: the 16ASPM takes downlinks on fPort 1, 2 or 4..223";
  }
  return "";
}

function rangeText(param: Param): string {
  var scale = param.scale || 1;
  var round = function (x: number) { return Math.round(x * 1000) / 1000; };
  return round(param.min / scale) + ".." + round(param.max / scale) + " (" + param.unit + ")";
}

/** The raw value for `param`, or an error message naming `label`. */
function rawValue(label: string, value: unknown, param: Param, errors: string[]): number {
  var scale = param.scale || 1;
  if (param.flag && typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "number" || !isFinite(value)) {
    errors.push(label + ": expected a number in " + rangeText(param) + ", got " + describe(value));
    return -1;
  }
  var raw = Math.round(value * scale);
  if (Math.abs(raw - value * scale) > 1e-9) {
    errors.push(label + ": " + value + (scale === 1 ? " is not an integer" : " is not a multiple of 1/" + scale) +
      "; allowed " + rangeText(param));
    return -1;
  }
  if (raw < param.min || raw > param.max) {
    errors.push(label + ": " + value + " is out of range; allowed " + rangeText(param));
    return -1;
  }
  return raw;
}

function encodeCommand(command: DownlinkCommand, value: unknown, out: number[], warnings: string[], errors: string[]): void {
  var params = command.params;
  var key = command.key;
  var before = errors.length;
  var raws: number[] = [];
  if (params.length === 0) {
    if (value === false) errors.push(key + ": false sends nothing; use true, or leave the key out");
  } else if (!params[0].key) {
    raws.push(rawValue(key, value, params[0], errors));
  } else if (!isPlainObject(value)) {
    errors.push(key + ": expected an object {" + paramKeys(params) + "}, got " + describe(value));
  } else {
    for (var name in value) {
      if (hasOwn(value, name) && !paramNamed(params, name)) {
        errors.push(key + "." + name + ": unknown key; expected {" + paramKeys(params) + "}");
      }
    }
    for (var i = 0; i < params.length; i++) {
      var label = key + "." + params[i].key;
      if (!hasOwn(value, params[i].key as string)) errors.push(label + ": missing; allowed " + rangeText(params[i]));
      else raws.push(rawValue(label, value[params[i].key as string], params[i], errors));
    }
  }
  if (errors.length > before) return;
  out.push(command.code);
  for (var j = 0; j < params.length; j++) {
    if (params[j].bytes === 2) out.push(raws[j] >> 8);
    out.push(raws[j] & 0xff);
  }
  if (command.suffix) for (var s = 0; s < command.suffix.length; s++) out.push(command.suffix[s]);
  var advice = command.advise ? command.advise(value) : "";
  if (advice) warnings.push(key + ": " + advice);
}

function paramKeys(params: Param[]): string {
  var keys: string[] = [];
  for (var i = 0; i < params.length; i++) keys.push(params[i].key as string);
  return keys.join(", ");
}

function paramNamed(params: Param[], name: string): boolean {
  for (var i = 0; i < params.length; i++) if (params[i].key === name) return true;
  return false;
}

function encodeCustomHex(value: unknown, out: number[], errors: string[]): void {
  var hex = typeof value === "string" ? value.replace(/\s+/g, "") : "";
  if (!hex || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
    errors.push(CUSTOM_HEX + ": expected a non-empty string of hex byte pairs such as \"0212\", got " + describe(value));
    return;
  }
  for (var i = 0; i < hex.length; i += 2) out.push(parseInt(hex.substr(i, 2), 16));
}

/** TTS v3 / ChirpStack v4 entry point: `input.data` → bytes, keys encoded in the order given. */
export function encodeDownlink(input: { data?: unknown }): EncodeOutput {
  var warnings: string[] = [];
  var errors: string[] = [];
  var bytes: number[] = [];
  var fPort = DEFAULT_FPORT;
  try {
    var data = input !== null && typeof input === "object" ? input.data : undefined;
    if (!isPlainObject(data)) {
      errors.push("input.data must be an object of downlink commands, got " + describe(data));
      return { bytes: [], fPort: fPort, errors: errors };
    }
    for (var key in data) {
      if (!hasOwn(data, key)) continue;
      if (key === "fPort") {
        var problem = fPortProblem(data.fPort);
        if (problem) errors.push(problem);
        else fPort = data.fPort as number;
      } else if (key === CUSTOM_HEX) {
        encodeCustomHex(data[key], bytes, errors);
      } else if (hasOwn(DOWNLINK_BY_KEY, key)) {
        encodeCommand(DOWNLINK_BY_KEY[key], data[key], bytes, warnings, errors);
      } else {
        errors.push(describe(key) + ": unknown key, not a 16ASPM downlink command");
      }
    }
    if (errors.length === 0 && bytes.length === 0) errors.push("input.data holds no command");
    if (bytes.length > MAX_FRAME) {
      warnings.push("the frame is " + bytes.length + " bytes: over the " + MAX_FRAME + " bytes that fit at DR0 in most regions");
    }
  } catch (e) {
    errors.push("internal error while encoding: " + String(e));
  }
  return withProblems({ bytes: errors.length > 0 ? [] : bytes, fPort: fPort }, warnings, errors);
}

/** TTS v3 entry point: shows what a downlink's bytes ask of the device. */
export function decodeDownlink(input: { bytes?: unknown; fPort?: unknown }): DecodeDownlinkOutput {
  var data: DownlinkData = {};
  var warnings: string[] = [];
  var errors: string[] = [];
  try {
    var bytes = input !== null && typeof input === "object" ? input.bytes : undefined;
    var problem = byteArrayProblem(bytes);
    if (problem) return { data: data, errors: ["input." + problem] };
    var fPort = input.fPort;
    if (fPort !== undefined && fPort !== DEFAULT_FPORT) {
      var portProblem = fPortProblem(fPort);
      if (portProblem) errors.push(portProblem);
      else data.fPort = fPort;
    }
    readCommands(bytes as Bytes, data, warnings, errors);
  } catch (e) {
    errors.push("internal error while decoding: " + String(e));
  }
  return withProblems({ data: data }, warnings, errors);
}

function readCommands(b: Bytes, data: DownlinkData, warnings: string[], errors: string[]): void {
  if (b.length === 0) errors.push("empty downlink: no command");
  var at = 0;
  while (at < b.length) {
    if (!hasOwn(DOWNLINK_BY_CODE, b[at])) {
      warnings.push("unknown command 0x" + hexByte(b[at]) + " at byte " + at + ": the rest is shown as " + CUSTOM_HEX);
      data[CUSTOM_HEX] = toHex(b, at, b.length);
      return;
    }
    var command = DOWNLINK_BY_CODE[b[at]];
    var label = commandLabel(command.code, command.key);
    var size = commandSize(command);
    if (at + size > b.length) {
      errors.push(label + " at byte " + at + " is cut short: needs " + size + " bytes, only " + (b.length - at) + " left");
      return;
    }
    if (hasOwn(data, command.key)) warnings.push(label + " at byte " + at + " repeats an earlier one; shown is the last");
    data[command.key] = readValue(command, b, at + 1, label, warnings);
    at += size;
  }
}

function readValue(command: DownlinkCommand, b: Bytes, at: number, label: string, warnings: string[]): unknown {
  var params = command.params;
  if (command.suffix) {
    var got = toHex(b, at, at + command.suffix.length);
    if (got !== toHex(command.suffix, 0, command.suffix.length)) warnings.push(label + ": expected data " + toHex(command.suffix, 0, command.suffix.length) + ", got " + got);
    return true;
  }
  if (params.length === 0) return true;
  var object: DownlinkData = {};
  for (var i = 0; i < params.length; i++) {
    var raw = params[i].bytes === 2 ? b[at] * 256 + b[at + 1] : b[at];
    at += params[i].bytes;
    if (raw < params[i].min || raw > params[i].max) {
      warnings.push(label + (params[i].key ? "." + params[i].key : "") + ": raw value " + raw + " is out of range; allowed " + rangeText(params[i]));
    }
    var value = raw / (params[i].scale || 1);
    if (!params[i].key) return value;
    object[params[i].key as string] = value;
  }
  return object;
}
