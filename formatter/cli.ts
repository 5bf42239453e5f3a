// Command-line codec: decode an uplink or a downlink from hex or base64; encode downlink JSON
// to the hex and base64 that the TTS and ChirpStack consoles' downlink forms take.
import { fileURLToPath } from "node:url";
import { decodeDownlink, decodeUplink, encodeDownlink } from "./index";

const USAGE = `usage:
  npm run codec -- decode <hex|base64> [--port N] [--base64]     decode an uplink (fPort 2 unless --port)
  npm run codec -- decode-downlink <hex|base64> [--port N]       show what a downlink asks of the device
  npm run codec -- encode '<json>'                               e.g. '{"setKeepAlive":15,"getKeepAliveTime":true}'
  npm run codec -- --help                                        this text
Payloads: hex byte pairs (spaces allowed, 0x prefix allowed) or base64 (padding optional). Input made
of hex digits only is read as hex (--base64 reads it as base64); anything else that is not exact
base64 is refused.`;

export interface CliResult {
  code: number;
  output: string;
}

/** Strict base64 (standard alphabet, padding optional): it must re-encode to itself, so no bit is ignored. */
function strictBase64(text: string): number[] | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bare = text.replace(/=+$/, "");
  if (bare.length % 4 === 1 || (bare !== text && text.length % 4 !== 0)) return undefined;
  const bytes = Buffer.from(bare, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === bare ? [...bytes] : undefined;
}

function parsePayload(text: string, forceBase64: boolean): number[] | string {
  const compact = text.replace(/\s+/g, "");
  const quoted = JSON.stringify(text);
  if (compact === "") return "the payload is empty";
  if (forceBase64) return strictBase64(compact) ?? `not base64: ${quoted}`;
  const prefixed = /^0x/i.test(compact);
  const digits = prefixed ? compact.slice(2) : compact;
  if (/^[0-9a-fA-F]*$/.test(digits)) {
    if (digits.length % 2 === 0 && digits.length > 0) return [...Buffer.from(digits, "hex")];
    if (prefixed || digits.length % 2 === 1) return `not hex byte pairs (${digits.length} hex digits): ${quoted}; add --base64 if it is base64`;
  }
  if (prefixed) return `0x must be followed by hex byte pairs: ${quoted}`;
  return strictBase64(compact) ?? `neither hex byte pairs nor base64: ${quoted}`;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function result(value: { errors?: string[] }, extra: Record<string, unknown> = {}): CliResult {
  return { code: value.errors ? 1 : 0, output: JSON.stringify({ ...value, ...extra }, null, 2) };
}

export function runCli(args: string[]): CliResult {
  const [command, payload] = args;
  if (args.includes("--help") || args.includes("-h")) return { code: 0, output: USAGE };
  if (!command || !payload) return { code: 2, output: USAGE };
  const portText = option(args, "--port");
  const fPort = portText === undefined ? undefined : Number(portText);
  if (portText !== undefined && !Number.isInteger(fPort)) return { code: 2, output: `--port needs an integer, got ${JSON.stringify(portText)}` };

  if (command === "decode" || command === "decode-downlink") {
    const bytes = parsePayload(payload, args.includes("--base64"));
    if (typeof bytes === "string") return { code: 2, output: bytes };
    return command === "decode"
      ? result(decodeUplink({ bytes, fPort: fPort ?? 2 }))
      : result(decodeDownlink({ bytes, fPort: fPort ?? 1 }));
  }
  if (command === "encode") {
    let data: unknown;
    try {
      data = JSON.parse(payload);
    } catch (e) {
      return { code: 2, output: `encode needs downlink JSON: ${(e as Error).message}` };
    }
    const encoded = encodeDownlink({ data });
    const bytes = Buffer.from(encoded.bytes);
    return result(encoded, { hex: bytes.toString("hex").toUpperCase(), base64: bytes.toString("base64") });
  }
  return { code: 2, output: `unknown command ${JSON.stringify(command)}\n${USAGE}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, output } = runCli(process.argv.slice(2));
  (code === 0 ? process.stdout : process.stderr).write(output + "\n");
  process.exitCode = code;
}
