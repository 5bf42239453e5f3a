// A durable local queue for records the database could not take: one append-only file of JSON lines,
// fsync'ed before the records are acknowledged, and a file holding how far it has been replayed.
// Replaying a record twice (a crash between its commit and the offset update) is harmless: the database
// stores each message once. An append the disk could not take whole (ENOSPC, a short write, a failed
// fsync) is cut back to the last whole record and refused, so the file only ever holds whole records
// that were acknowledged; a line that still cannot be read (left by a crash or an older version, or
// damaged on disk) is set aside into unreadable.jsonl with the reason, never read again.
import { type FileHandle, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { type Received, recordFromJson, recordToJson } from "../ingest/records";

/** The spool could not take records: the request that brought them is answered 503. */
export class SpoolError extends Error {}
/** The records would pass SPOOL_MAX_BYTES. */
export class SpoolFullError extends SpoolError {}

export interface SpoolDepth {
  records: number;
  bytes: number;
}

/** A line of the spool that is not a record, set aside when replay reaches it. */
export interface Unreadable {
  /** Its position in spool.jsonl. */
  offset: number;
  reason: string;
  /** Whether it was written to unreadable.jsonl (false: the disk refused that too; it is only logged). */
  kept: boolean;
}

function toLine(record: Received): string {
  return `${recordToJson(record)}\n`;
}

/** The spool's unreadable-line file in a spool directory. */
export function unreadablePath(spoolDir: string): string {
  return join(spoolDir, "unreadable.jsonl");
}

/** A spooled line as a record; throws, saying why, when it is not one. */
function readLine(line: string): Received {
  const record = recordFromJson(line) as Partial<Received> | null;
  const time = record?.type === "uplink" ? record.receivedAt : record?.type === "event" ? record.time : undefined;
  if (typeof time !== "string" || typeof record?.dedupKey !== "string" || typeof record.network !== "string") {
    throw new Error("the line is JSON but not a spooled record (type, network, dedupKey and time are required)");
  }
  return record as Received;
}

/** The whole record at the end of a line that starts with a torn piece, and where it starts. */
function gluedRecord(line: string): { record: Received; at: number } | undefined {
  for (let at = line.indexOf('{"type":"', 1); at > 0; at = line.indexOf('{"type":"', at + 1)) {
    try {
      return { record: readLine(line.slice(at)), at };
    } catch {
      // A nested object, or not a record: look further.
    }
  }
  return undefined;
}

/** The offset file holds a decimal number padded to a fixed width, overwritten in place: no new disk block is needed. */
const OFFSET_WIDTH = 20;

/** "ENOSPC: no space left on device, write" → itself; an error without a message by its code. */
function cause(error: unknown): string {
  return (error as Error).message || (error as NodeJS.ErrnoException).code || String(error);
}

export class Spool {
  /** Operations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** True while the file may hold bytes past `size` that a failed append left and could not cut back. */
  private torn = false;
  /** Offsets of unreadable lines already set aside, until they are committed past (a retried peek reads them again). */
  private setAsideAt = new Set<number>();

  private constructor(
    /** The spool's directory (the quarantine's set-aside file is kept beside it). */
    readonly dir: string,
    private readonly file: FileHandle,
    private readonly offsetFile: FileHandle,
    private readonly maxBytes: number,
    private size: number,
    private offset: number,
    /** Complete lines between offset and size. */
    private records: number,
  ) {}

  /** Opens (or creates) the spool in `dir`; a partial last line, never acknowledged, is cut off. */
  static async open(dir: string, maxBytes: number): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    const file = await open(join(dir, "spool.jsonl"), "a+");
    const offsetPath = join(dir, "spool.offset");
    const offsetFile = await open(offsetPath, "r+").catch(() => open(offsetPath, "w+"));
    let offset = Number((await offsetFile.readFile("utf8")).trim() || "0");
    // Count the complete lines after the offset, a MiB at a time.
    const { size: length } = await file.stat();
    if (!Number.isInteger(offset) || offset < 0 || offset > length) offset = 0;
    const buffer = Buffer.alloc(1024 * 1024);
    let size = offset;
    let records = 0;
    for (let position = offset; position < length; position += buffer.length) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
      for (let i = 0; i < bytesRead; i++) {
        if (buffer[i] === 0x0a) {
          records++;
          size = position + i + 1;
        }
      }
    }
    if (size < length) await file.truncate(size);
    const spool = new Spool(dir, file, offsetFile, maxBytes, size, offset, records);
    // Padded to its fixed width now, while there may be room; on a full disk the next commit writes it.
    await spool.writeOffset(offset).catch(() => {});
    return spool;
  }

  depth(): SpoolDepth {
    return { records: this.records, bytes: this.size - this.offset };
  }

  /**
   * Appends records and fsyncs them. Throws SpoolFullError when they would not fit in the limit, and
   * SpoolError when the disk did not take them whole: the file is then cut back to its last whole record.
   */
  append(records: Received[]): Promise<void> {
    return this.run(async () => {
      if (this.torn) await this.cutBack().catch((error: unknown) => {
        throw new SpoolError(`the spool could not be cut back to its last whole record: ${cause(error)}`);
      });
      const data = Buffer.from(records.map(toLine).join(""));
      if (this.size - this.offset + data.length > this.maxBytes) {
        throw new SpoolFullError(`the spool is full (${this.size - this.offset} of ${this.maxBytes} bytes waiting for the database)`);
      }
      try {
        // libuv retries a short write until the disk refuses, then reports the bytes it did write.
        const { bytesWritten } = await this.file.write(data, 0, data.length, this.size);
        if (bytesWritten !== data.length) throw new Error(`only ${bytesWritten} of ${data.length} bytes were written (the disk is full?)`);
        await this.file.datasync();
      } catch (error) {
        this.torn = true;
        await this.cutBack().catch(() => {});
        throw new SpoolError(`the spool could not be written: ${cause(error)}`);
      }
      this.size += data.length;
      this.records += records.length;
    });
  }

  /**
   * The oldest records not yet replayed, up to `max`; `end` is the position to commit once they are
   * stored and `lines` the lines it covers. A line that is not a record is set aside and reported in `unreadable`.
   */
  peek(max: number): Promise<{ records: Received[]; end: number; lines: number; unreadable: Unreadable[] }> {
    return this.run(async () => {
      const waiting = this.size - this.offset;
      // Enough bytes for at least one whole line, however long.
      let bytes = Math.min(waiting, 1024 * 1024);
      let chunk = Buffer.alloc(0);
      while (bytes > chunk.length) {
        chunk = Buffer.alloc(bytes);
        await this.file.read(chunk, 0, bytes, this.offset);
        if (chunk.includes(0x0a)) break;
        bytes = Math.min(waiting, bytes * 2);
      }
      const records: Received[] = [];
      const unreadable: Unreadable[] = [];
      let start = 0;
      let lines = 0;
      while (records.length < max) {
        const newline = chunk.indexOf(0x0a, start);
        if (newline < 0) break;
        const line = chunk.toString("utf8", start, newline);
        const at = this.offset + start;
        try {
          records.push(readLine(line));
        } catch (error) {
          // An older version appended after a torn write: the record glued behind the torn piece is whole.
          const glued = gluedRecord(line);
          if (glued) records.push(glued.record);
          if (!this.setAsideAt.has(at)) {
            this.setAsideAt.add(at);
            unreadable.push(await this.setAside(at, glued ? line.slice(0, glued.at) : line, `unreadable spool line: ${cause(error)}`));
          }
        }
        lines++;
        start = newline + 1;
      }
      return { records, end: this.offset + start, lines, unreadable };
    });
  }

  /** Marks everything before `end` (from peek, `lines` lines) as stored; an emptied spool starts its file over. */
  commit(end: number, lines: number): Promise<void> {
    return this.run(async () => {
      this.offset = end;
      this.records -= lines;
      for (const at of this.setAsideAt) if (at < end) this.setAsideAt.delete(at);
      if (this.offset === this.size) {
        // Offset first: a crash between the two steps replays the file again instead of skipping records.
        await this.writeOffset(0);
        await this.file.truncate(0);
        this.size = 0;
        this.offset = 0;
      } else {
        await this.writeOffset(end);
      }
    });
  }

  close(): Promise<void> {
    return this.run(async () => {
      await this.file.close();
      await this.offsetFile.close();
    });
  }

  /** Cuts the file back to its last whole record; `torn` stays set until that succeeds. */
  private async cutBack(): Promise<void> {
    await this.file.truncate(this.size);
    await this.file.datasync();
    this.torn = false;
  }

  /** Keeps an unreadable line in unreadable.jsonl (fsync'ed); when even that fails, only reports it. */
  private async setAside(offset: number, line: string, reason: string): Promise<Unreadable> {
    const entry = `{"at":${JSON.stringify(new Date().toISOString())},"offset":${offset},"reason":${JSON.stringify(reason)},"line":${JSON.stringify(line)}}\n`;
    try {
      const file = await open(unreadablePath(this.dir), "a", 0o600);
      try {
        const { bytesWritten } = await file.write(entry);
        if (bytesWritten !== Buffer.byteLength(entry)) throw new Error(`only ${bytesWritten} of ${Buffer.byteLength(entry)} bytes were written`);
        await file.datasync();
      } finally {
        await file.close();
      }
      return { offset, reason, kept: true };
    } catch (error) {
      return { offset, reason: `${reason}; not kept: ${cause(error)}`, kept: false };
    }
  }

  /** Overwrites the offset in place (a full disk cannot refuse it), padded so that no old digit is left. */
  private async writeOffset(offset: number): Promise<void> {
    const text = Buffer.from(String(offset).padEnd(OFFSET_WIDTH - 1) + "\n");
    await this.offsetFile.write(text, 0, text.length, 0);
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }
}
