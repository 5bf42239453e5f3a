// Bearer tokens: the configured ones, or one made once and kept in DATA_DIR.
import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface Tokens {
  tokens: string[];
  /** The file a generated token is kept in; undefined when tokens were configured. */
  generatedFile?: string;
}

/** `configured`, or the token kept in `dataDir/fileName` (made on first use). */
export async function resolveTokens(configured: string[] | undefined, dataDir: string, fileName: "webhook-token" | "api-token"): Promise<Tokens> {
  if (configured) return { tokens: configured };
  const file = join(dataDir, fileName);
  try {
    return { tokens: [await readKept(file)], generatedFile: file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  // "wx": never overwrite a token another instance has just written.
  await writeFile(file, token + "\n", { mode: 0o600, flag: "wx" }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  return { tokens: [await readKept(file)], generatedFile: file };
}

/** The token kept in `file`; one edited into something no header can carry is refused. */
async function readKept(file: string): Promise<string> {
  const token = (await readFile(file, "utf8")).trim();
  if (token.length < 16 || /\s/.test(token)) throw new Error(`${file} must hold one token of 16 or more characters without whitespace; delete the file to have a new one made`);
  return token;
}

// One-shot hash: half the cost of a Hash object, once per request (bench:ingest).
const digest = (text: string) => hash("sha256", text, "buffer");

/**
 * Whether a presented token is one of `tokens`. Digests make every comparison the same length, and
 * every token is compared, so the time taken tells nothing about which token came close.
 */
export function tokenMatcher(tokens: string[]): (presented: string) => boolean {
  const digests = tokens.map(digest);
  return (presented) => {
    const candidate = digest(presented);
    let match = false;
    for (const d of digests) match = timingSafeEqual(d, candidate) || match;
    return match;
  };
}
