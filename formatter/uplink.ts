// decodeUplink: reads the messages of one uplink in order, each by its known length.
import { AT_BYTE, type Bytes, commandLabel, cutShort, describe, hexByte, inputBytesProblem, INTERNAL_ERROR, UNKNOWN_COMMAND } from "./bytes";
import { withProblems } from "./output";
import { type Fields, keepAlive, readValue, RELAY_STATES, type UplinkRow, uplinkRow } from "./uplink-messages";

export interface DecodedMessage {
  code: number;
  name: string;
  /** Byte offset of the message's code in the payload. */
  offset: number;
  fields: Fields;
}

export interface ReadResult {
  messages: DecodedMessage[];
  warnings: string[];
  errors: string[];
}

export interface UplinkInput {
  bytes?: unknown;
  fPort?: unknown;
  recvTime?: unknown;
  variables?: unknown;
}

export interface UplinkOutput {
  data: Fields;
  warnings?: string[];
  errors?: string[];
}

/**
 * Reads every message of a payload, merging their fields into `data` if given; never throws on a byte array.
 * `fPort`, when given, is checked too (the service passes the uplink's, so the warning is stored with it).
 */
export function readMessages(bytes: Bytes, data?: Fields, fPort?: unknown): ReadResult {
  var messages: DecodedMessage[] = [];
  var warnings: string[] = [];
  var errors: string[] = [];
  var n = bytes.length;
  var tail = n - 12;
  for (var at = 0; at < n; at += size) {
    var row = uplinkRow(bytes[at]) as UplinkRow;
    var size = row && 1 + row[2];
    if (!row) {
      // An unknown code ends the reading (its length is unknown); a keep-alive in the last 12 bytes is still worth reading.
      warnings.push(UNKNOWN_COMMAND + hexByte(bytes[at]) + AT_BYTE + at + ": reading stopped, " + (n - at) + " bytes left");
      if (tail > at && bytes[tail] === 1) {
        read(bytes, tail, uplinkRow(1) as UplinkRow, messages, warnings, data);
        warnings.push("the last 12 bytes read as the keep-alive" + AT_BYTE + tail);
      }
      break;
    }
    if (at + size > n) {
      errors.push(cutShort(commandLabel(row[0], row[1]), at, size, n - at));
      break;
    }
    read(bytes, at, row, messages, warnings, data);
  }
  if (!messages.length && !errors.length) errors.push(n ? "no known message" : "empty payload");
  if (fPort !== undefined && fPort !== 2) warnings.push("fPort " + describe(fPort) + ": expected 2; decoded anyway");
  return { messages: messages, warnings: warnings, errors: errors };
}

function read(bytes: Bytes, at: number, row: UplinkRow, messages: DecodedMessage[], warnings: string[], data?: Fields): void {
  var value = readValue(row, bytes, at + 1, function (text) {
    warnings.push(commandLabel(row[0], row[1]) + ": " + text);
  });
  var fields = value as Fields;
  if (row[3] !== "k") {
    fields = {};
    fields[row[1]] = value;
  }
  messages.push({ code: row[0], name: row[1], offset: at, fields: fields });
  for (var key in data && fields) (data as Fields)[key] = fields[key];
}

/**
 * The straight path of nearly every uplink: the keep-alive's fields when the input's bytes hold one keep-alive
 * alone, or after the response that reports the keep-alive period (12 NN: the uplink that confirms a
 * setKeepAlive), on fPort 2 (or none given), with a documented relay byte, so that there is nothing to warn about;
 * otherwise undefined. It checks its input itself: the script calls it before anything else (script.ts), and
 * whatever throws on the way (no input, a getter) sends the call down the full path, which names the problem.
 * decodeUplink below does not take it, so the bundle's tests hold the two paths to the same answers.
 */
export function plainKeepAlive(input: UplinkInput): Fields | undefined {
  try {
    // Where the keep-alive starts: 0 alone, 2 after 12 NN.
    var b = input.bytes as Bytes, fPort = input.fPort, at = b.length - 12;
    // Each element a byte ((v & 255) === v holds for no string, boolean, null or object; an object's valueOf may
    // run, and whatever throws is caught below), in a loop: written out, it was 330 bytes more that QuickJS
    // compiles on every call (0.03 ms of about 0.8, npm run bench:codec). No helper call, so that V8 inlines the
    // whole keep-alive, keepAlive's readers included, into its caller.
    if ((at && (at !== 2 || b[0] !== 0x12)) || b[at] !== 1 || (fPort !== 2 && fPort !== undefined) || b[at + 11] > 1) return;
    for (var i = 1; i < at + 12; i++) if ((b[i] & 255) !== b[i]) return;
    var fields = keepAlive(b, at + 1, RELAY_STATES[b[at + 11]]);
    if (!at) return fields;
    // The fields in the order the table decoder gives them: the response's first.
    var data: Fields = { keepAliveTime: b[1] };
    for (var key in fields) data[key] = fields[key];
    return data;
  } catch (e) {
    // Down the full path.
  }
}

/** TTS v3 / ChirpStack v4 entry point. */
export function decodeUplink(input: UplinkInput): UplinkOutput {
  var data: Fields = {};
  try {
    var problem = inputBytesProblem(input);
    if (problem) return { data: data, errors: [problem] };
    var result = readMessages(input.bytes as Bytes, data, input.fPort);
    return withProblems({ data: data }, result.warnings, result.errors);
  } catch (e) {
    return { data: data, errors: [INTERNAL_ERROR + String(e)] };
  }
}
