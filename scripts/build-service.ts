// Compiles the service and the command-line tools to plain JavaScript in build/, so production runs
// `node build/main.js` (no TypeScript loader, and a signal reaches the service itself). Dependencies
// stay in node_modules (--packages=external); project files are found through webhook/paths.ts.
import { readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUILD_DIR = join(root, "build");

/** build/<name>.js ← source, one per command the package runs. */
export const PROGRAMS = {
  main: "webhook/main.ts",
  migrate: "webhook/migrate-cli.ts",
  copy: "webhook/copy-cli.ts",
  codec: "formatter/cli.ts",
  quarantine: "webhook/quarantine-cli.ts",
  maintain: "webhook/maintain-cli.ts",
} as const;

const options = {
  entryPoints: Object.fromEntries(Object.entries(PROGRAMS).map(([name, source]) => [name, join(root, source)])),
  outdir: BUILD_DIR,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  // Shared code goes into chunks instead of a copy per program.
  splitting: true,
  sourcemap: "linked",
  logLevel: "warning",
} satisfies BuildOptions;

/**
 * Writes build/ over the previous one, then removes the files this build did not make (chunks of older
 * sources): a program started meanwhile (a test run beside another) never finds build/ missing.
 */
export async function buildService(): Promise<void> {
  const { metafile } = await build({ ...options, metafile: true, absWorkingDir: root });
  const made = new Set(Object.keys(metafile.outputs).map((output) => join(root, output)));
  for (const file of readdirSync(BUILD_DIR)) {
    if (!made.has(join(BUILD_DIR, file))) rmSync(join(BUILD_DIR, file), { recursive: true, force: true });
  }
}

/** The project files build/ is compiled from (for the Dockerfile's check), without writing anything. */
export async function serviceInputs(): Promise<string[]> {
  const { metafile } = await build({ ...options, write: false, metafile: true, absWorkingDir: root });
  return Object.keys(metafile.inputs);
}
