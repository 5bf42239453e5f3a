// encodeDownlink and decodeDownlink, both driven by the command table.
import { AT_BYTE, type Bytes, commandLabel, cutShort, describe, hasOwn, hexByte, inputBytesProblem, INTERNAL_ERROR, isObject, isPlainObject, toHex, UNKNOWN_COMMAND } from "./bytes";
import { C, type CommandRow, commandByCode, commandByKey, RELAY } from "./downlink-commands";
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

var CUSTOM_HEX = "sendCustomHexCommand";

/** "1..255 (minutes)" for the parameter at `i`; three decimals show 5 s steps in minutes (0.083..21.25). */
function rangeText(command: CommandRow, i: number): string {
  var scale = command[C.scale] || 1;
  var p = command[C.params];
  return +((p[i + 1] as number) / scale).toFixed(3) + ".." + +((p[i + 2] as number) / scale).toFixed(3) + " (" + p[i + 3] + ")";
}

/** Appends the command's bytes to `out`, or pushes errors naming the key, the value and the allowed range. */
function encodeCommand(command: CommandRow, value: unknown, out: number[], warnings: string[], errors: string[]): void {
  var p = command[C.params];
  var key = command[C.key] as string;
  var scale = command[C.scale] || 1;
  var before = errors.length;
  var bytes = [command[C.code]];
  var names = p.filter(function (_, i) { return i % 4 === 0; }) as string[];
  if (!p.length) {
    if (value === false) errors.push(key + ": false sends nothing; use true");
  } else if (names[0] && !isPlainObject(value)) {
    errors.push(key + ": expected an object {" + names + "}, got " + describe(value));
  } else {
    for (var name in value as object) {
      if (names[0] && hasOwn(value as object, name) && names.indexOf(name) < 0) errors.push(key + "." + name + ": unknown key; expected {" + names + "}");
    }
    for (var i = 0; i < p.length; i += 4) {
      var label = p[i] ? key + "." + p[i] : key;
      var v = p[i] ? (value as DownlinkData)[p[i]] : value;
      // A relay state takes true / false as well as 1 / 0, as the vendor's helper sends it.
      var flag = typeof v === "boolean" && p[i + 3] === RELAY;
      var raw = flag ? +(v as boolean) : (v as number) * scale;
      var range = rangeText(command, i);
      var problem = p[i] && !hasOwn(value as object, p[i] as string) ? "missing"
        : !flag && (typeof v !== "number" || !isFinite(v)) ? ""
        : raw % 1 ? v + (scale > 1 ? " is not a multiple of 1/" + scale : " is not an integer")
        : raw < (p[i + 1] as number) || raw > (p[i + 2] as number) ? v + " is out of range"
        : "ok";
      if (!problem) errors.push(label + ": expected a number in " + range + ", got " + describe(v));
      else if (problem !== "ok") errors.push(label + ": " + problem + "; allowed " + range);
      if ((p[i + 2] as number) > 255) bytes.push(raw >> 8);
      bytes.push(raw & 255);
    }
  }
  if (command[C.data]) bytes.push(command[C.data] as number);
  if (errors.length > before) return;
  out.push.apply(out, bytes);
  var warning = valueWarning(key, raw!);
  if (warning) warnings.push(warning);
}

/** What is worth a warning in a command's valid value, or "". */
export function valueWarning(key: string, raw: number): string {
  // The keep-alive period sets the plug's airtime (16aspm-protocol.md: 10 minutes or more is recommended).
  return key === "setKeepAlive" && raw < 10 ? key + ": " + (raw < 3 ? "below 3 minutes the device sends only when the duty cycle allows; 10 or more" : "10 minutes or more") +
    " is recommended" + (raw < 3 ? "" : " for the duty cycle") : "";
}

/**
 * The straight path of the downlink the service sends most: `{setKeepAlive: N}` alone, N a whole number of
 * minutes 10..255 (nothing to warn about), is 02 NN on fPort 1; otherwise undefined, and so for whatever throws
 * on the way (script.ts then asks the first tier, then the whole codec, which names the problem).
 * encodeDownlink below does not take it, so the bundle's tests hold the two paths to the same answers.
 */
export function plainSetKeepAlive(input: { data?: unknown }): EncodeOutput | undefined {
  try {
    var data = input.data as DownlinkData;
    var minutes = data.setKeepAlive as number;
    // Its own enumerable keys, as the codec reads them, only setKeepAlive (JSON.stringify reads them so; a toJSON
    // method would answer for the object, and is a key besides). Shorter than a loop, and quoted with neither
    // quote: the script carries it as text.
    if (typeof input === "object" && !data.toJSON && JSON.stringify(data) === JSON.stringify({ setKeepAlive: minutes }) &&
      (minutes & 255) === minutes && minutes >= 10) return { bytes: [0x02, minutes], fPort: 1 };
  } catch (e) {
    // Down the tiers.
  }
}

/** TTS v3 / ChirpStack v4 entry point: `input.data` → bytes, keys encoded in the order given. */
export function encodeDownlink(input: { data?: unknown }): EncodeOutput {
  var warnings: string[] = [];
  var errors: string[] = [];
  var bytes: number[] = [];
  var fPort = 1;
  try {
    var data = isObject(input) ? input.data : undefined;
    if (!isPlainObject(data)) errors.push("input.data must be an object, got " + describe(data));
    else {
      for (var key in data) {
        if (!hasOwn(data, key)) continue;
        var value = data[key];
        var command = commandByKey(key);
        var hex = typeof value === "string" ? value.replace(/\s+/g, "") : "";
        if (key === "fPort") {
          if (typeof value === "number" && value >= 1 && value <= 223 && value % 1 === 0 && value !== 3) fPort = value;
          else errors.push("fPort " + describe(value) + " is not allowed: 1, 2 or 4..223");
        } else if (key !== CUSTOM_HEX) {
          if (command) encodeCommand(command, value, bytes, warnings, errors);
          else errors.push(describe(key) + ": unknown key, not a 16ASPM downlink command");
        } else if (/^([\da-f]{2})+$/i.test(hex)) {
          for (var i = 0; i < hex.length; i += 2) bytes.push(parseInt(hex.substr(i, 2), 16));
        } else errors.push(CUSTOM_HEX + ": expected hex, got " + describe(value));
      }
      if (!errors.length && !bytes.length) errors.push("input.data holds no command");
    }
    // 51 bytes is the largest payload at DR0 in most regions (EU868).
    if (bytes.length > 51) warnings.push(bytes.length + " bytes: over the 51 that fit at DR0");
  } catch (e) {
    errors.push(INTERNAL_ERROR + String(e));
  }
  return withProblems({ bytes: errors.length ? [] : bytes, fPort: fPort }, warnings, errors);
}

/** TTS v3 entry point: shows what a downlink's bytes ask of the device. */
export function decodeDownlink(input: { bytes?: unknown; fPort?: unknown }): DecodeDownlinkOutput {
  var data: DownlinkData = {};
  var warnings: string[] = [];
  var errors: string[] = [];
  try {
    var problem = inputBytesProblem(input);
    if (problem) return { data: data, errors: [problem] };
    var b = input.bytes as Bytes;
    if (input.fPort !== undefined && input.fPort !== 1) data.fPort = input.fPort;
    if (!b.length) errors.push("empty downlink");
    for (var at = 0; at < b.length; at = end) {
      var command = commandByCode(b[at]);
      if (!command) {
        warnings.push(UNKNOWN_COMMAND + hexByte(b[at]) + AT_BYTE + at + ": the rest is shown as " + CUSTOM_HEX);
        data[CUSTOM_HEX] = toHex(b, at, b.length);
        break;
      }
      var end = readCommand(command, b, at, data, errors);
    }
  } catch (e) {
    errors.push(INTERNAL_ERROR + String(e));
  }
  return withProblems({ data: data }, warnings, errors);
}

/** Reads the command at `at` into `data` and returns where the next one starts (the end, when it is cut short). */
function readCommand(command: CommandRow, b: Bytes, at: number, data: DownlinkData, errors: string[]): number {
  var p = command[C.params];
  var key = command[C.key] as string;
  var start = at++;
  var value: unknown = true;
  var object: DownlinkData = {};
  for (var i = 0; i < p.length; i += 4) {
    var raw = (p[i + 2] as number) > 255 ? b[at++] * 256 + b[at++] : b[at++];
    value = object[p[i]] = raw / (command[C.scale] || 1);
  }
  if (command[C.data]) at++;
  // Read past the end, the values are NaN: the command is reported cut short instead.
  if (at > b.length) {
    errors.push(cutShort(commandLabel(command[C.code], key), start, at - start, b.length - start));
    return b.length;
  }
  data[key] = p[0] ? object : value;
  return at;
}
