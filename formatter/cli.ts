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
of hex digits only is read as hex (--base64 reads it as base64); hex with a character or two that are
not hex digits (52O1: the letter O) is refused naming them; anything else that is not exact base64 is refused.
Prints JSON on stdout; exits 0, 1 when the codec reports errors, 2 on a usage mistake ({"errors": […]}).`;

export interface CliResult {
  /** 0 decoded or encoded; 1 the codec reported errors; 2 a usage mistake (bad input, unknown command). */
  code: number;
  /** What goes to stdout: always JSON (the codec's answer, or {"errors": […]} for a usage mistake), or the usage for --help. */
  output: string;
  /** What goes to stderr: the usage, after a mistake in the command itself. */
  usage?: string;
}

/** Strict base64 (standard alphabet, padding optional): it must re-encode to itself, so no bit is ignored. */
function strictBase64(text: string): number[] | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const bare = text.replace(/=+$/, "");
  if (bare.length % 4 === 1 || (bare !== text && text.length % 4 !== 0)) return undefined;
  const bytes = Buffer.from(bare, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === bare ? [...bytes] : undefined;
}

/** At most this share of a payload's characters may be typing mistakes for it to be taken as meant for hex. */
const HEX_TYPO_EVERY = 12;

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
  // Hex with a slip (52O1: the letter O), which base64 would take and decode as other bytes: named, not
  // guessed at. Base64 of a few bytes or more is rarely this close to hex (22 of its 64 characters are hex digits).
  const slips = [...digits].flatMap((c, i) => (/[0-9a-fA-F]/.test(c) ? [] : [{ c, i }]));
  if (prefixed || (/^[0-9A-Za-z]+$/.test(digits) && digits.length >= 8 && slips.length <= Math.max(1, Math.floor(digits.length / HEX_TYPO_EVERY)))) {
    const named = slips.map(({ c, i }) => `${JSON.stringify(c)} in byte ${Math.floor(i / 2) + 1} (${digits.slice(i - (i % 2), i - (i % 2) + 2)})${
      c === "O" || c === "o" ? ", the letter O, not the digit 0" : c === "l" || c === "I" ? ", a letter, not the digit 1" : ""}`);
    return `not hex: ${named.join("; ")}; hex digits are 0-9 and A-F (add --base64 if ${quoted} is base64)`;
  }
  return strictBase64(compact) ?? `neither hex byte pairs nor base64: ${quoted}`;
}

/** The command line: a command, its payload, and the options --port N, --base64, --help. */
function parseArgs(args: string[]): { command?: string; payload?: string; fPort?: number; base64: boolean; help: boolean } | string {
  const positional: string[] = [];
  let fPort: number | undefined;
  let base64 = false;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") help = true;
    else if (arg === "--base64") base64 = true;
    else if (arg === "--port" || arg.startsWith("--port=")) {
      const text = arg === "--port" ? args[++i] : arg.slice("--port=".length);
      if (text === undefined || text === "") return "--port needs a number: the fPort, 0..255 (e.g. --port 2)";
      fPort = Number(text);
      if (!/^\d+$/.test(text) || fPort > 255) return `--port needs a number 0..255, got ${JSON.stringify(text)}`;
    } else if (/^--?[a-zA-Z]/.test(arg)) return `unknown option ${JSON.stringify(arg)}: the options are --port N, --base64 and --help`;
    else positional.push(arg);
  }
  if (positional.length > 2) return `one payload at a time: ${JSON.stringify(positional[2])} is one argument too many (quote a payload with spaces)`;
  return { command: positional[0], payload: positional[1], fPort, base64, help };
}

const COMMANDS = ["decode", "decode-downlink", "encode"];

/** A usage mistake: {"errors": [...]} on stdout like the codec's own errors, exit code 2. */
const mistake = (message: string, usage?: string): CliResult => ({ code: 2, output: JSON.stringify({ errors: [message] }, null, 2), usage });

function result(value: { errors?: string[] }, extra: Record<string, unknown> = {}): CliResult {
  return { code: value.errors ? 1 : 0, output: JSON.stringify({ ...value, ...extra }, null, 2) };
}

export function runCli(args: string[]): CliResult {
  const parsed = parseArgs(args);
  if (typeof parsed === "string") return mistake(parsed, USAGE);
  const { command, payload, fPort } = parsed;
  if (parsed.help) return { code: 0, output: USAGE };
  if (!command) return mistake(`no command: use ${COMMANDS.join(", ")}`, USAGE);
  if (!COMMANDS.includes(command)) return mistake(`unknown command ${JSON.stringify(command)}: use ${COMMANDS.join(", ")}`, USAGE);
  if (payload === undefined) return mistake(`${command} needs ${command === "encode" ? "downlink JSON" : "a payload in hex or base64"}`, USAGE);

  if (command === "decode" || command === "decode-downlink") {
    const bytes = parsePayload(payload, parsed.base64);
    if (typeof bytes === "string") return mistake(bytes);
    return command === "decode"
      ? result(decodeUplink({ bytes, fPort: fPort ?? 2 }))
      : result(decodeDownlink({ bytes, fPort: fPort ?? 1 }));
  }
  let data: unknown;
  try {
    data = JSON.parse(payload);
  } catch (e) {
    return mistake(`encode needs downlink JSON: ${(e as Error).message}`);
  }
  const encoded = encodeDownlink({ data });
  const bytes = Buffer.from(encoded.bytes);
  return result(encoded, { hex: bytes.toString("hex").toUpperCase(), base64: bytes.toString("base64") });
}

// JSON always on stdout (so `| jq` sees errors too); the usage, after a mistake, on stderr; the exit code says which.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { code, output, usage } = runCli(process.argv.slice(2));
  process.stdout.write(output + "\n");
  if (usage) process.stderr.write(usage + "\n");
  process.exitCode = code;
}
