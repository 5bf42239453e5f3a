// Command-line codec: decode an uplink or a downlink from hex or base64; encode downlink JSON
// to the hex and base64 that the TTS and ChirpStack consoles' downlink forms take.
import { fileURLToPath } from "node:url";
import { decodeDownlink, decodeUplink, encodeDownlink } from "./index";

const USAGE = `usage:
  npm run codec -- decode <hex|base64> [--port N] [--base64]     decode an uplink (fPort 2 unless --port)
  npm run codec -- decode-downlink <hex|base64> [--port N]       show what a downlink asks of the device
  npm run codec -- encode '<json>'                               e.g. '{"setKeepAlive":15,"getKeepAliveTime":true}'
Hex may contain spaces; a payload that is not all hex pairs is read as base64 (--base64 forces it).`;

export interface CliResult {
  code: number;
  output: string;
}

function parsePayload(text: string, forceBase64: boolean): number[] | string {
  const compact = text.replace(/\s+/g, "");
  if (!forceBase64 && /^([0-9a-fA-F]{2})+$/.test(compact)) return [...Buffer.from(compact, "hex")];
  if (/^[A-Za-z0-9+/]*={0,2}$/.test(compact) && compact.length % 4 === 0 && compact.length > 0) {
    return [...Buffer.from(compact, "base64")];
  }
  return `not hex byte pairs or base64: ${JSON.stringify(text)}`;
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
  if (!command || !payload || command === "--help") return { code: 2, output: USAGE };
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
