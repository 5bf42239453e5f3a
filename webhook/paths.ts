// Files of the project (migrations, the bundled formatter, console assets), found the same way whether
// the service runs from its TypeScript sources or compiled into dist/.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "aspm16-energy") return dir;
    if (dirname(dir) === dir) throw new Error(`no aspm16-energy package.json above ${start}`);
  }
}

/** The project's root: the folder of its package.json. */
export const PROJECT_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the project, e.g. projectPath("migrations"). */
export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}
