// Byte readers and small helpers shared by the uplink and downlink tables.
// The formatter runs in ES5 engines (goja, otto) and in bare vm contexts, where every global
// lookup is slow: var, function and plain loops only, no ES2015 library calls, and no global
// (Math, Object, isFinite…) on the paths every uplink takes. Every byte of it is parsed again on
// each ChirpStack call, so messages are built from the parts below.

export type Bytes = ArrayLike<number>;

export var AT_BYTE = " at byte ";
export var UNKNOWN_COMMAND = "unknown command 0x";
export var INTERNAL_ERROR = "internal error: ";

export function u16(b: Bytes, i: number): number {
  return (b[i] << 8) | b[i + 1];
}

export function u32(b: Bytes, i: number): number {
  // Multiplication, not <<, so the result stays unsigned above 2^31.
  return u16(b, i) * 65536 + u16(b, i + 2);
}

/** Sign-magnitude temperature: bit 7 is the sign, bits 6..0 the magnitude (0x85 → −5 °C, 0x80 → 0). */
export function temperature(byte: number): number {
  return byte > 128 ? 128 - byte : byte & 127;
}

export function hexByte(byte: number): string {
  return (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
}

export function toHex(b: Bytes, from: number, to: number): string {
  var s = "";
  while (from < to) s += hexByte(b[from++]);
  return s;
}

/** How messages name a command: "keepAliveTime (0x12)". */
export function commandLabel(code: number, name: string): string {
  return name + " (0x" + hexByte(code) + ")";
}

/** The one wording for a command cut short, both ways: "… at byte 4: needs 3 bytes, only 2 left". */
export function cutShort(label: string, at: number, size: number, left: number): string {
  return label + AT_BYTE + at + " is cut short: needs " + size + " bytes, only " + left + " left";
}

export function hasOwn(o: object, key: string | number): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

/** An integer 0..255, without conversion: a string or an object is not a byte. */
export function isByte(v: unknown): boolean {
  return typeof v === "number" && (v & 255) === v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** An object of named values: not an array, not null. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return isObject(v) && typeof v.length !== "number";
}

/**
 * Why `input.bytes` is not a byte array, or "" when it is one. Any object with a length whose elements
 * are all integers 0..255 is one (arrays, Uint8Array, Buffer, an engine's wrapped Go slice).
 */
export function inputBytesProblem(input: unknown): string {
  var bytes = isObject(input) ? input.bytes : undefined;
  var n = isObject(bytes) ? bytes.length : undefined;
  var array = typeof n === "number";
  var v: unknown = bytes;
  for (var i = 0; array && i < (n as number); i++) {
    v = (bytes as ArrayLike<unknown>)[i];
    if (!isByte(v)) break;
  }
  return array && i === n ? "" : "input.bytes" + (array ? "[" + i + "] must be an integer" : " must be an array of numbers") + " 0..255, got " + describe(v);
}

/** A short, safe rendering of any value for error messages. */
export function describe(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : isObject(v) ? (isPlainObject(v) ? "an object" : "an array") : String(v);
}
