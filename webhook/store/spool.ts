// A durable local queue for records the database could not take: one append-only file of JSON lines,
// fsync'ed before the records are acknowledged, and a file holding how far it has been replayed.
// Replaying a record twice (a crash between its commit and the offset update) is harmless: the database
// stores each message once.
import { type FileHandle, mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Received, recordFromJson, recordToJson } from "../ingest/records";

export class SpoolFullError extends Error {}

export interface SpoolDepth {
  records: number;
  bytes: number;
}

function toLine(record: Received): string {
  return `${recordToJson(record)}\n`;
}

export class Spool {
  /** Operations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The spool's directory (the quarantine's set-aside file is kept beside it). */
    readonly dir: string,
    private readonly file: FileHandle,
    private readonly offsetPath: string,
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
    let offset = Number((await readFile(offsetPath, "utf8").catch(() => "0")).trim());
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
    return new Spool(dir, file, offsetPath, maxBytes, size, offset, records);
  }

  depth(): SpoolDepth {
    return { records: this.records, bytes: this.size - this.offset };
  }

  /** Appends records and fsyncs them; throws SpoolFullError when they would not fit in the limit. */
  append(records: Received[]): Promise<void> {
    return this.run(async () => {
      const data = Buffer.from(records.map(toLine).join(""));
      if (this.size - this.offset + data.length > this.maxBytes) {
        throw new SpoolFullError(`the spool is full (${this.size - this.offset} of ${this.maxBytes} bytes waiting for the database)`);
      }
      await this.file.write(data, 0, data.length, this.size);
      await this.file.datasync();
      this.size += data.length;
      this.records += records.length;
    });
  }

  /** The oldest records not yet replayed, up to `max`, and the position to commit once they are stored. */
  peek(max: number): Promise<{ records: Received[]; end: number }> {
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
      let start = 0;
      while (records.length < max) {
        const newline = chunk.indexOf(0x0a, start);
        if (newline < 0) break;
        records.push(recordFromJson(chunk.toString("utf8", start, newline)));
        start = newline + 1;
      }
      return { records, end: this.offset + start };
    });
  }

  /** Marks everything before `end` (from peek) as stored; an emptied spool starts its file over. */
  commit(end: number, count: number): Promise<void> {
    return this.run(async () => {
      this.offset = end;
      this.records -= count;
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
    return this.run(() => this.file.close());
  }

  private async writeOffset(offset: number): Promise<void> {
    await writeFile(`${this.offsetPath}.tmp`, String(offset));
    await rename(`${this.offsetPath}.tmp`, this.offsetPath);
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }
}
