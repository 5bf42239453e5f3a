// decodeUplink: reads the messages of one uplink in order, each by its known length.
import { type Bytes, byteArrayProblem, commandLabel, describe, hexByte } from "./bytes";
import { withProblems } from "./output";
import { type Fields, UPLINK_BY_CODE } from "./uplink-messages";

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

var KEEP_ALIVE_SIZE = 12;

/**
 * Reads every message of a payload; never throws on a byte array. `fPort`, when given, is checked too
 * (the service passes the uplink's, so the warning is stored with it).
 */
export function readMessages(bytes: Bytes, fPort?: unknown): ReadResult {
  var result: ReadResult = { messages: [], warnings: [], errors: [] };
  if (fPort !== undefined && fPort !== 2) {
    result.warnings.push("fPort " + describe(fPort) + ": the 16ASPM sends on fPort 2; decoded anyway");
  }
  if (bytes.length === 0) {
    result.errors.push("empty payload: no message to decode");
    return result;
  }
  var at = 0;
  while (at < bytes.length) {
    var message = UPLINK_BY_CODE[bytes[at]];
    if (!message) {
      unknownCode(bytes, at, result);
      break;
    }
    var end = at + 1 + message.length;
    if (end > bytes.length) {
      result.errors.push(commandLabel(message.code, message.name) + " at byte " + at + " is cut short: needs " +
        (1 + message.length) + " bytes, only " + (bytes.length - at) + " left");
      break;
    }
    read(bytes, at, result);
    at = end;
  }
  if (result.messages.length === 0 && result.errors.length === 0) {
    result.errors.push("no known message in the payload");
  }
  return result;
}

function read(bytes: Bytes, at: number, result: ReadResult): void {
  var message = UPLINK_BY_CODE[bytes[at]];
  var label = commandLabel(message.code, message.name);
  var fields = message.decode(bytes, at + 1, function (text) { result.warnings.push(label + ": " + text); });
  result.messages.push({ code: message.code, name: message.name, offset: at, fields: fields });
}

/** An unknown code ends the reading: its length is unknown. A keep-alive in the last 12 bytes is still worth reading. */
function unknownCode(bytes: Bytes, at: number, result: ReadResult): void {
  result.warnings.push("unknown command 0x" + hexByte(bytes[at]) + " at byte " + at +
    ": reading stopped there, " + (bytes.length - at) + " bytes not decoded");
  var tail = bytes.length - KEEP_ALIVE_SIZE;
  if (tail > at && bytes[tail] === 0x01) {
    read(bytes, tail, result);
    result.warnings.push("the last 12 bytes start with 0x01: decoded as the keep-alive at byte " + tail);
  }
}

/** TTS v3 / ChirpStack v4 entry point. */
export function decodeUplink(input: UplinkInput): UplinkOutput {
  var data: Fields = {};
  try {
    var bytes = input !== null && typeof input === "object" ? input.bytes : undefined;
    var problem = byteArrayProblem(bytes);
    if (problem) return { data: data, errors: ["input." + problem] };
    var result = readMessages(bytes as Bytes, input.fPort);
    for (var i = 0; i < result.messages.length; i++) {
      var fields = result.messages[i].fields;
      for (var key in fields) data[key] = fields[key];
    }
    return withProblems({ data: data }, result.warnings, result.errors);
  } catch (e) {
    return { data: data, errors: ["internal error while decoding: " + String(e)] };
  }
}
