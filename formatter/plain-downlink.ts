// The downlinks users send most: GETs, actions and SETs of one number, in dist/formatter.js a text compiled on
// the first call that needs it (script.ts), far smaller than the whole codec. It encodes from a table kept as
// text (plainDownlinkTable, built from the command table by scripts/build-formatter.ts); any other key, any value
// out of range or of another type, is left to the codec, which names the problem.
import { hasOwn } from "./bytes";
import { type EncodeOutput, valueWarning } from "./downlink";
import { C, commandByKey, DOWNLINK_COMMANDS } from "./downlink-commands";
import { withProblems } from "./output";

/**
 * "|key,code|key,code,data byte|key,code,min,max|…": the commands without a value (`true`; any but false), with their fixed
 * data byte if any, and those whose value is one number, unscaled, with its range (raw values).
 */
export function plainDownlinkTable(): string {
  var text = "";
  for (var i = 0; i < DOWNLINK_COMMANDS.length; i++) {
    var row = commandByKey(DOWNLINK_COMMANDS[i].key)!;
    var p = row[C.params];
    if (!p.length) text += "|" + [row[C.key], row[C.code]].concat(row[C.data] ? [row[C.data] as number] : []).join(",");
    else if (p.length === 4 && !p[0] && !row[C.scale] && !row[C.data]) text += "|" + [row[C.key], row[C.code], p[1], p[2]].join(",");
  }
  return text + "|";
}

/**
 * What encodeDownlink gives when every key of `input.data` is one of the table's commands with a valid value,
 * at most 51 bytes in all: the bytes, fPort 1 and the warnings a value is worth. Otherwise undefined, and so for
 * whatever throws on the way. Every byte of it is compiled on the call that needs it, so it is written short.
 */
export function plainDownlink(input: { data?: unknown }, table: string): EncodeOutput | undefined {
  try {
    var data = input.data as Record<string, unknown>;
    var bytes: number[] = [];
    var warnings: string[] = [];
    if (typeof input !== "object" || typeof data !== "object" || !data || typeof data.length === "number") return undefined;
    for (var key in data) {
      var value = data[key];
      var start = table.indexOf("|" + key + ",");
      // [key, code] or [key, code, data byte] or [key, code, min, max]; a key holding "|" or "," is not the row's.
      var row = table.slice(start + 1, table.indexOf("|", start + 1)).split(",");
      if (!hasOwn(data, key)) continue;
      if (start < 0 || row[0] !== key || value === false) return undefined;
      bytes.push(+row[1]);
      if (!row[3]) {
        // As the codec: a command without a value takes anything but false (the vendor's examples send "").
        if (row[2]) bytes.push(+row[2]);
      } else {
        if (typeof value !== "number" || value % 1 || !(value >= +row[2] && value <= +row[3])) return undefined;
        if (+row[3] > 255) bytes.push(value >> 8);
        bytes.push(value & 255);
        var warning = valueWarning(key, value);
        if (warning) warnings.push(warning);
      }
    }
    return bytes.length && bytes.length <= 51 ? withProblems({ bytes: bytes, fPort: 1 }, warnings) : undefined;
  } catch (e) {
    return undefined;
  }
}
