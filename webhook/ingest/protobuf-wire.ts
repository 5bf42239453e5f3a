// A bound on the protobuf wire format, checked before google-protobuf reads a body. google-protobuf 3.21
// never returns on a length prefix of 2^31 or more (its cursor moves backwards: `0a ff ff ff ff 0f` spins
// the event loop for good), so every length prefix it will read, at every depth, must fit in the bytes
// that are left. It reads the length-delimited fields of a message's message fields as messages, so the
// check walks exactly those, from a table of which fields are messages (from the ChirpStack integration
// schema; test/webhook/protobuf-wire.test.ts proves the table against google-protobuf itself).

/** The fields of a message that are messages themselves (map fields: their entries), by field number. */
export interface WireShape {
  readonly [field: number]: WireShape;
}

/**
 * Nesting of messages allowed in a body, before google-protobuf recurses into them. A JSON level of a
 * google.protobuf.Struct is three messages (Struct, its map entry, Value); the decoded body then meets the
 * JSON depth limit (MAX_JSON_DEPTH) like a JSON body.
 */
export const PROTOBUF_MAX_DEPTH = 256;

/** A message made only of scalars, strings and bytes (Timestamp, Duration, Location, string maps' entries…). */
const LEAF: WireShape = {};

// google.protobuf.Struct holds Values, which hold Structs and ListValues: a cycle, tied after creation.
const struct: Record<number, WireShape> = {};
const value: Record<number, WireShape> = { 5: struct };
const list: Record<number, WireShape> = { 1: value };
struct[1] = { 2: value }; // map<string, Value> fields: entry.value
value[6] = list;

// ChirpStack v4's integration.proto, gw.proto and common.proto: the message fields of what its events carry.
const deviceInfo: WireShape = { 9: LEAF }; // tags (map<string, string>)
const joinServerContext: WireShape = { 2: LEAF }; // app_s_key (KeyEnvelope)
const modulation: WireShape = { 3: LEAF, 4: LEAF, 5: LEAF }; // lora, fsk, lr_fhss
const uplinkRxInfo: WireShape = { 3: LEAF, 4: LEAF, 5: LEAF, 12: LEAF, 15: LEAF, 17: LEAF }; // times, location, metadata
const uplinkTxInfo: WireShape = { 2: modulation };
const timing: WireShape = { 1: LEAF, 2: { 1: LEAF }, 3: { 1: LEAF } }; // immediately, delay, gps_epoch
const downlinkTxInfo: WireShape = { 3: modulation, 6: timing };

/** The shape of each event ChirpStack sends in protobuf. */
export const CHIRPSTACK_WIRE: Record<"up" | "join" | "ack" | "txack" | "log" | "status" | "location", WireShape> = {
  up: { 2: LEAF, 3: deviceInfo, 11: struct, 12: uplinkRxInfo, 13: uplinkTxInfo, 14: LEAF, 15: joinServerContext },
  join: { 2: LEAF, 3: deviceInfo, 5: LEAF, 6: joinServerContext },
  ack: { 2: LEAF, 3: deviceInfo },
  txack: { 2: LEAF, 3: deviceInfo, 7: downlinkTxInfo },
  log: { 1: LEAF, 2: deviceInfo, 6: LEAF },
  status: { 2: LEAF, 3: deviceInfo },
  location: { 2: LEAF, 3: deviceInfo, 4: LEAF },
};

const WIRE_TYPE_NAMES = ["varint", "64-bit", "length-delimited", "start-group", "end-group", "32-bit", "6", "7"];

class WireError extends Error {}

/** Why `bytes` cannot be a message of `shape`, or undefined when every field and length is within bounds. */
export function checkWire(bytes: Uint8Array, shape: WireShape): string | undefined {
  let pos = 0;
  // Names are made only for the message of a refusal: the walk itself builds no strings.
  const path: number[] = [];
  const name = (field: number) => `field ${[...path, field].join(".")}`;

  /** What a varint is, for a refusal: a field's tag (field 0), its value, or its length. */
  const what = (kind: "tag" | "value" | "length", field: number) =>
    kind === "tag" ? "a field tag" : kind === "value" ? name(field) : `the length of ${name(field)}`;

  /** An unsigned varint of at most 10 bytes, ending before `end`. */
  function varint(end: number, kind: "tag" | "value" | "length", field: number): number {
    const start = pos;
    let result = 0;
    for (let i = 0, scale = 1; i < 10; i++, scale *= 128) {
      if (pos >= end) throw new WireError(`${what(kind, field)} at byte ${start} is cut off`);
      const byte = bytes[pos++];
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
    }
    throw new WireError(`${what(kind, field)} at byte ${start} is longer than 10 bytes`);
  }

  function walk(end: number, shape: WireShape, depth: number): void {
    if (depth > PROTOBUF_MAX_DEPTH) throw new WireError(`messages nest deeper than ${PROTOBUF_MAX_DEPTH} levels at byte ${pos}`);
    while (pos < end) {
      const at = pos;
      const tag = varint(end, "tag", 0);
      const field = Math.floor(tag / 8);
      const wireType = tag % 8;
      if (field === 0 || field > 0x1fffffff) throw new WireError(`byte ${at}: field number ${field} is not valid`);
      if (wireType === 0) {
        varint(end, "value", field);
      } else if (wireType === 1 || wireType === 5) {
        const size = wireType === 1 ? 8 : 4;
        if (end - pos < size) throw new WireError(`${name(field)} at byte ${at} (${WIRE_TYPE_NAMES[wireType]}) is cut off`);
        pos += size;
      } else if (wireType === 2) {
        const length = varint(end, "length", field);
        if (length > end - pos) throw new WireError(`${name(field)} at byte ${at} declares ${length} bytes, but ${end - pos} are left`);
        const inner = shape[field];
        if (inner) {
          path.push(field);
          walk(pos + length, inner, depth + 1);
          path.pop();
        } else pos += length;
      } else {
        // ChirpStack's messages (proto3) have no groups; google-protobuf's group skipping is not trusted either.
        throw new WireError(`${name(field)} at byte ${at} has wire type ${WIRE_TYPE_NAMES[wireType]}, which these messages never use`);
      }
    }
  }

  try {
    walk(bytes.length, shape, 1);
    return undefined;
  } catch (error) {
    if (error instanceof WireError) return error.message;
    throw error;
  }
}
