// Byte readers and small helpers shared by the uplink and downlink tables.
// The formatter runs in ES5 engines (goja, otto): var, function and plain loops only,
// and no ES2015 library calls (no Number.isInteger, Object.assign, padStart…).

export type Bytes = ArrayLike<number>;

export function u8(b: Bytes, i: number): number {
  return b[i];
}

export function u16(b: Bytes, i: number): number {
  return b[i] * 256 + b[i + 1];
}

export function u32(b: Bytes, i: number): number {
  // Multiplication, not <<, so the result stays unsigned above 2^31.
  return b[i] * 16777216 + b[i + 1] * 65536 + b[i + 2] * 256 + b[i + 3];
}

/** Sign-magnitude temperature: bit 7 is the sign, bits 6..0 the magnitude (85 → −5 °C). */
export function temperature(b: Bytes, i: number): number {
  var magnitude = b[i] & 0x7f;
  return b[i] & 0x80 && magnitude !== 0 ? -magnitude : magnitude;
}

/** "major.minor" from the high and low nibble: 0x1A → "1.10". */
export function nibbleVersion(byte: number): string {
  return (byte >> 4) + "." + (byte & 0x0f);
}

export function hexByte(byte: number): string {
  return (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
}

/** How messages name a command: "keepAliveTime (0x12)". */
export function commandLabel(code: number, name: string): string {
  return name + " (0x" + hexByte(code) + ")";
}

export function hasOwn(o: object, key: string | number): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

export function toHex(b: Bytes, from: number, to: number): string {
  var s = "";
  for (var i = from; i < to; i++) s += hexByte(b[i]);
  return s;
}

export function isInteger(v: unknown): v is number {
  return typeof v === "number" && isFinite(v) && Math.floor(v) === v;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !isArrayLike(v);
}

export function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return Object.prototype.toString.call(v) === "[object Array]" ||
    (typeof v === "object" && v !== null && typeof (v as { length?: unknown }).length === "number" &&
      typeof (v as { BYTES_PER_ELEMENT?: unknown }).BYTES_PER_ELEMENT === "number");
}

/** Why `input` is not a byte array, or "" when it is one. */
export function byteArrayProblem(input: unknown): string {
  if (!isArrayLike(input)) return "bytes must be an array of numbers 0..255, got " + describe(input);
  for (var i = 0; i < input.length; i++) {
    var v = input[i];
    if (!isInteger(v) || v < 0 || v > 255) return "bytes[" + i + "] must be an integer 0..255, got " + describe(v);
  }
  return "";
}

/** A short, safe rendering of any value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) return String(v);
  if (isArrayLike(v)) return "an array";
  return typeof v === "object" ? "an object" : typeof v;
}
