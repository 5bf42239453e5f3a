// The uplinks after a downlink: command responses before the keep-alive, in dist/formatter.js a text compiled
// on the first call that needs it (script.ts), far smaller than the whole codec. It reads the messages whose
// value is a number or an object of numbers, from a table kept as text (plainUplinkTable, built from the
// uplink table by scripts/build-formatter.ts); any other message or anything to warn about is left to the codec.
import type { Bytes } from "./bytes";
import { type Fields, RELAY_STATES, uplinkRows } from "./uplink-messages";

/** The keep-alive's fields, read from the 11 bytes at `at` (uplink-messages.ts keepAlive). */
export type KeepAliveReader = (b: Bytes, at: number, relayState: unknown) => Fields;

/**
 * "|code,name,size|code,name,size,key,size,key,size…": the messages of the uplink table whose value is one
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
 * for whatever throws on the way: the whole codec then answers, naming the problem.
 */
export function plainUplink(input: { bytes?: unknown; fPort?: unknown }, keepAlive: KeepAliveReader, table: string): Fields | undefined {
  try {
    if (typeof input !== "object") return undefined;
    var b = input.bytes as Bytes;
    var n = b.length;
    var fPort = input.fPort;
    // A length that is an integer 1..255 (a LoRaWAN payload is at most 242 bytes).
    if (typeof b !== "object" || (n & 255) !== n || !n || (fPort !== 2 && fPort !== undefined)) return undefined;
    for (var i = 0; i < n; i++) if (typeof b[i] !== "number" || (b[i] & 255) !== b[i]) return undefined;
    var data: Fields = {};
    for (var at = 0; at < n; at += size) {
      var code = b[at];
      var size = 12;
      if (code === 1) {
        if (at + size > n || b[at + 11] > 1) return undefined;
        var fields = keepAlive(b, at + 1, RELAY_STATES[b[at + 11]]);
        for (var key in fields) data[key] = fields[key];
        continue;
      }
      var start = table.indexOf("|" + code + ",");
      if (start < 0) return undefined;
      var row = table.slice(start + 1, table.indexOf("|", start + 1)).split(",");
      size = 1 + +row[2];
      if (+row[0] !== code || at + size > n) return undefined;
      var value: unknown = row[2] === "2" ? (b[at + 1] << 8) | b[at + 2] : b[at + 1];
      if (row.length > 3) {
        var object: Fields = {};
        for (var j = 3, from = at + 1; j < row.length; from += +row[j + 1], j += 2) {
          object[row[j]] = row[j + 1] === "2" ? (b[from] << 8) | b[from + 1] : b[from];
        }
        value = object;
      }
      data[row[1]] = value;
    }
    return data;
  } catch (e) {
    return undefined;
  }
}
