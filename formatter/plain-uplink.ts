// The uplinks after a downlink: command responses before the keep-alive, in dist/formatter.js a text compiled
// on the first call that needs it (script.ts), far smaller than the whole codec. It reads the messages whose
// value is a number or an object of numbers, from a table kept as text (plainUplinkTable, built from the
// uplink table by scripts/build-formatter.ts); any other message or anything to warn about is left to the codec.
import type { Bytes } from "./bytes";
import { type Fields, RELAY_STATES, uplinkRows } from "./uplink-messages";

/** The keep-alive's fields, read from the 11 bytes at `at` (uplink-messages.ts keepAlive). */
export type KeepAliveReader = (b: Bytes, at: number, relayState: unknown) => Fields;

/**
 * "|code,name,size|code,name,size,key,size,key,size…|": the messages of the uplink table whose value is one
 * unsigned number (no layout) or an object of them (a layout of keys and sizes).
 */
export function plainUplinkTable(): string {
  var text = "";
  var rows = uplinkRows();
  for (var i = 0; i < rows.length; i++) {
    var layout = rows[i][3];
    if (!layout || typeof layout !== "string") text += "|" + [rows[i][0], rows[i][1], rows[i][2]].concat(layout || []).join(",");
  }
  return text + "|";
}

/**
 * The `data` of an uplink made only of the table's messages and keep-alives (a relay byte 0 or 1), on fPort 2
 * or none, nothing cut short: what decodeUplink gives without warnings or errors. Otherwise undefined, and so
 * for whatever throws on the way (a code not in the table among it): the whole codec then answers, naming
 * the problem. Every byte of it is compiled on the call that needs it, so it is written short.
 */
export function plainUplink(input: { bytes?: unknown; fPort?: unknown }, keepAlive: KeepAliveReader, table: string): Fields | undefined {
  try {
    var b = input.bytes as Bytes;
    var n = b.length;
    var fPort = input.fPort;
    var data: Fields = {};
    // A length that is an integer 1..255 (a LoRaWAN payload is at most 242 bytes), every element a byte.
    if (typeof input !== "object" || typeof b !== "object" || (n & 255) !== n || !n || (fPort !== 2 && fPort !== undefined)) return undefined;
    for (var at = 0; at < n; at++) if ((b[at] & 255) !== b[at]) return undefined;
    for (at = 0; at < n; at += size) {
      if (b[at] === 1 && at + 12 <= n && b[at + 11] < 2) {
        var size = 12;
        var fields = keepAlive(b, at + 1, RELAY_STATES[b[at + 11]]);
        for (var key in fields) data[key] = fields[key];
      } else {
        // [name, size, key, size…]; a code not in the table has no [1] to split, and throws.
        var row = table.split("|" + b[at] + ",")[1].split("|")[0].split(",");
        size = 1 + +row[1];
        if (at + size > n) return undefined;
        var value: Fields | number = row[1] === "2" ? (b[at + 1] << 8) | b[at + 2] : b[at + 1];
        if (row[2]) {
          value = {};
          for (var j = 2, from = at + 1; j < row.length; from += +row[j + 1], j += 2) value[row[j]] = row[j + 1] === "2" ? (b[from] << 8) | b[from + 1] : b[from];
        }
        data[row[0]] = value;
      }
    }
    return data;
  } catch (e) {
    return undefined;
  }
}
