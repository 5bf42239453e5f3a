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
 * alone, on fPort 2 (or none given), with a documented relay byte, so that there is nothing to warn about;
 * otherwise undefined. It checks its input itself: the script calls it before anything else (script.ts), and
 * whatever throws on the way (no input, a getter) sends the call down the full path, which names the problem.
 * decodeUplink below does not take it, so the bundle's tests hold the two paths to the same answers.
 */
export function plainKeepAlive(input: UplinkInput): Fields | undefined {
  try {
    var b = input.bytes as Bytes;
    var fPort = input.fPort;
    // isByte for each element, in two steps that cost V8 a fraction of it (npm run bench:codec): each element an
    // int32, free for an array of small integers ((v | 0) === v holds for no string, boolean, null or object;
    // an object's valueOf may run, and whatever throws is caught below), then all of them 0..255 in one OR.
    // Written out, not looped (the loop was a third of the call) nor through a helper (the calls used up V8's
    // inlining budget, and keepAlive's readers were then called, not inlined).
    if (b.length === 12 && b[0] === 1 && (fPort === 2 || fPort === undefined) &&
      (b[1] | 0) === b[1] && (b[2] | 0) === b[2] && (b[3] | 0) === b[3] && (b[4] | 0) === b[4] &&
      (b[5] | 0) === b[5] && (b[6] | 0) === b[6] && (b[7] | 0) === b[7] && (b[8] | 0) === b[8] &&
      (b[9] | 0) === b[9] && (b[10] | 0) === b[10] && (b[11] | 0) === b[11] &&
      (b[1] | b[2] | b[3] | b[4] | b[5] | b[6] | b[7] | b[8] | b[9] | b[10] | b[11]) >>> 8 === 0 && b[11] < 2) {
      return keepAlive(b, 1, RELAY_STATES[b[11]]);
    }
  } catch (e) {
    // Down the full path.
  }
  return undefined;
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
