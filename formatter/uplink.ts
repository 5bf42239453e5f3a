// decodeUplink: reads the messages of one uplink in order, each by its known length.
import { AT_BYTE, type Bytes, commandLabel, cutShort, describe, hexByte, inputBytesProblem, INTERNAL_ERROR, isByte, UNKNOWN_COMMAND } from "./bytes";
import { withProblems } from "./output";
import { type Fields, keepAlive, readValue, type UplinkRow, uplinkRow } from "./uplink-messages";

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
 * The straight path of nearly every uplink: the keep-alive's fields when `bytes` holds one keep-alive alone, on
 * fPort 2 (or none given), with a documented relay byte, so that there is nothing to warn about; otherwise
 * undefined. It checks its input itself: the script calls it before anything else (script.ts).
 */
export function plainKeepAlive(bytes: unknown, fPort: unknown): Fields | undefined {
  var b = bytes as Bytes;
  // Written out, not looped: in V8 the loop was a third of the call (measured beside the vendor's decoder).
  return b && b.length === 12 && b[0] === 1 && b[11] < 2 && (fPort === 2 || fPort === undefined) &&
    isByte(b[1]) && isByte(b[2]) && isByte(b[3]) && isByte(b[4]) && isByte(b[5]) && isByte(b[6]) &&
    isByte(b[7]) && isByte(b[8]) && isByte(b[9]) && isByte(b[10]) && isByte(b[11]) ? keepAlive(b, 1) : undefined;
}

/** TTS v3 / ChirpStack v4 entry point. */
export function decodeUplink(input: UplinkInput): UplinkOutput {
  var data: Fields = {};
  try {
    // Checked by plainKeepAlive itself: a keep-alive's bytes are not checked a second time.
    var plain = input && plainKeepAlive(input.bytes, input.fPort);
    if (plain) return { data: plain };
    var problem = inputBytesProblem(input);
    if (problem) return { data: data, errors: [problem] };
    var result = readMessages(input.bytes as Bytes, data, input.fPort);
    return withProblems({ data: data }, result.warnings, result.errors);
  } catch (e) {
    return { data: data, errors: [INTERNAL_ERROR + String(e)] };
  }
}
