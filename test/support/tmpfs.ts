// A small file system of its own, for tests of a full disk (ENOSPC): a tmpfs of a given size, mounted
// by the test. Only root may mount (.ci/run runs as root); elsewhere the tests skip, saying why.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs {
  dir: string;
  unmount(): void;
}

/** Mounts a tmpfs of `bytes` on a new directory; a string saying why when it cannot. */
export function mountTmpfs(bytes: number): Tmpfs | string {
  if (process.getuid?.() !== 0) return "a tmpfs can only be mounted by root (.ci/run runs as root)";
  const dir = mkdtempSync(join(tmpdir(), "aspm16-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmdirSync(dir);
    return `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  return {
    dir,
    unmount() {
      execFileSync("umount", ["-l", dir]);
      rmdirSync(dir);
    },
  };
}

/** Whether a tmpfs can be mounted here; the reason when not (for describe.skipIf and its message). */
export function tmpfsUnavailable(): string | undefined {
  const probe = mountTmpfs(64 * 1024);
  if (typeof probe === "string") return probe;
  probe.unmount();
  return undefined;
}
