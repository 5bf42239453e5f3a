// The one way records reach the database. Requests that arrive while transactions are in flight are
// gathered into the next one (group commit); up to `concurrency` transactions are in flight at once, on
// disjoint sets of plugs, so no two of them wait on one device's row lock and each plug's records are
// written in the order they arrived. Each request is answered only after its commit — or,
// when the database cannot take the batch in time, after the batch is fsync'ed into the spool, from
// which a background task replays it, in order, once the database is back. A record the database
// refuses for its content is quarantined (its batch split so that the others are stored), never lost.
import type { Received, Written } from "../ingest/records";
import { timeLimit } from "../time-limit";
import type { Spool, Unreadable } from "./spool";

/** Writes records in one transaction; returns an outcome per record, in order. */
export type BatchSink = (records: Received[]) => Promise<Written[]>;

interface Pending {
  record: Received;
  resolve: (written: Written) => void;
  reject: (error: unknown) => void;
}

export interface WriterOptions {
  /** Most records per transaction. */
  maxBatch: number;
  /** Most transactions in flight at once (1 unless given; PGlite runs one at a time anyway). */
  concurrency?: number;
  /** Where batches go when the database fails or is slower than `timeoutMs`; without it they fail. */
  spool?: Spool;
  /** How long a batch may take before it is spooled instead (network servers wait 5 to 10 s). */
  timeoutMs?: number;
  /** Resolves when the database is ready (migrated); until then batches are spooled. */
  ready?: Promise<void>;
  onBatch?: (size: number, seconds: number) => void;
  onError?: (error: unknown, size: number) => void;
  onSpooled?: (size: number) => void;
  onReplayed?: (size: number) => void;
  /** Keeps a record the database refused for its content, in a transaction of its own (the quarantine table). */
  quarantine?: (record: Received, reason: string, sqlstate: string) => Promise<void>;
  /** Where a record goes when even the quarantine refuses it (a file, fsync'ed). */
  setAside?: (record: Received, reason: string) => Promise<void>;
  onQuarantined?: (record: Received, reason: string, keptIn: "table" | "file") => void;
  /** A spooled line replay could not read (a torn or damaged record, never acknowledged whole): set aside, skipped. */
  onUnreadable?: (line: Unreadable) => void;
}

/** The SQLSTATE of an error that blames the data, not the database: class 22 data exception, 23 integrity violation. */
function dataErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^2[23]/.test(code) ? code : undefined;
}

/** The plug a record belongs to; a record without DevEUI by the names its device is found by. */
function plugOf(record: Received): string {
  return record.devEui ?? `${record.network}|${record.application}|${record.deviceName}`;
}

const REPLAY_DELAYS_MS = [250, 500, 1000, 2000];

export class BatchWriter {
  private queue: Pending[] = [];
  /** Batches in flight, and the plugs they hold. */
  private batches = new Set<Promise<void>>();
  private busy = new Set<string>();
  private scheduled = false;
  /** False after a failed write, until a replayed batch commits: new batches go straight to the spool. */
  private databaseUp = false;
  /** Replay waits for `ready`; until then, spooled records wait without holding close() up. */
  private migrated = false;
  private replaying: Promise<void> | null = null;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly sink: BatchSink,
    private readonly options: WriterOptions,
  ) {
    const ready = options.ready ?? Promise.resolve();
    ready.then(() => {
      this.migrated = true;
      this.databaseUp = true;
      if ((options.spool?.depth().records ?? 0) > 0) this.startReplay();
    }, () => {});
  }

  /** Resolves once the record is committed, found to be a duplicate, spooled, or quarantined. */
  write(record: Received): Promise<Written> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      // setImmediate lets the requests of the same event-loop turn share a transaction.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.startBatches();
        });
      }
    });
  }

  /** Waits until everything accepted so far is written (to the database or the spool). */
  async flush(): Promise<void> {
    while (this.batches.size > 0 || this.scheduled) {
      if (this.batches.size > 0) await Promise.allSettled([...this.batches]);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Stops replaying; what is still spooled is replayed after the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.replaying;
  }

  /** Starts transactions while there are free slots and queued records of plugs not in flight. */
  private startBatches(): void {
    while (this.batches.size < (this.options.concurrency ?? 1) && this.queue.length > 0) {
      const batch: Pending[] = [];
      const waiting: Pending[] = [];
      for (const p of this.queue) (batch.length < this.options.maxBatch && !this.busy.has(plugOf(p.record)) ? batch : waiting).push(p);
      if (batch.length === 0) return;
      this.queue = waiting;
      const plugs = new Set(batch.map((p) => plugOf(p.record)));
      for (const plug of plugs) this.busy.add(plug);
      const done: Promise<void> = this.writeBatch(batch, () => this.release(done, plugs))
        .catch((error: unknown) => batch.forEach((p) => p.reject(error)))
        .finally(() => this.release(done, plugs));
      this.batches.add(done);
    }
  }

  /** Frees a transaction's slot and plugs, once, and starts what was waiting for them. */
  private release(done: Promise<void>, plugs: Set<string>): void {
    if (!this.batches.delete(done)) return;
    for (const plug of plugs) this.busy.delete(plug);
    this.startBatches();
  }

  private async writeBatch(batch: Pending[], release: () => void): Promise<void> {
    if (this.options.spool && !this.databaseUp) {
      const refused = await this.spoolBatch(batch);
      if (!refused) return;
      // The spool could not take the batch (full, or the disk refused it): the database may be back and
      // take it. Before the migrations have run, it may not.
      if (!this.migrated) return batch.forEach((p) => p.reject(refused));
      return this.storeBatch(batch, release, refused);
    }
    return this.storeBatch(batch, release);
  }

  /** Commits a batch and answers it; when the database fails, spools it, unless the spool already refused it (`refused`). */
  private async storeBatch(batch: Pending[], release: () => void, refused?: Error): Promise<void> {
    const start = performance.now();
    try {
      const written = await this.storeSplitting(batch.map((p) => p.record));
      this.options.onBatch?.(batch.length, (performance.now() - start) / 1000);
      if (refused) this.databaseUp = true;
      // The next transaction goes out before this one's answers. node-postgres sends a query on
      // process.nextTick, which runs once the microtask queue is empty: answers resolved first put their
      // whole reply path (Fastify's hooks, serialization, the socket writes) ahead of it, and the database
      // waited for them on every transaction.
      release();
      await new Promise((resolve) => setImmediate(resolve));
      batch.forEach((p, i) => p.resolve(written[i]));
    } catch (error) {
      this.options.onError?.(error, batch.length);
      if (!this.options.spool) return batch.forEach((p) => p.reject(error));
      this.databaseUp = false;
      const failed = refused ?? await this.spoolBatch(batch);
      if (failed) batch.forEach((p) => p.reject(failed));
    }
  }

  /** Appends a batch to the spool and answers it "spooled"; returns the spool's error, unanswered, when it could not. */
  private async spoolBatch(batch: Pending[]): Promise<Error | undefined> {
    try {
      await this.options.spool!.append(batch.map((p) => p.record));
    } catch (error) {
      return error as Error;
    }
    this.options.onSpooled?.(batch.length);
    for (const p of batch) p.resolve({ outcome: "spooled" });
    this.startReplay();
    return undefined;
  }

  /** The sink, bounded by the time limit when there is a spool to fall back on. */
  private store(records: Received[]): Promise<Written[]> {
    const write = this.sink(records);
    const { timeoutMs } = this.options;
    if (!this.options.spool || !timeoutMs) return write;
    // A write that times out may still commit later; its records are spooled too, and their replay is
    // then a harmless duplicate.
    return timeLimit(write, timeoutMs, `the database took over ${timeoutMs} ms`);
  }

  private startReplay(): void {
    if (this.replaying || this.closed || !this.migrated) return;
    this.replaying = this.replay().finally(() => {
      this.replaying = null;
    });
  }

  private async replay(): Promise<void> {
    const spool = this.options.spool!;
    let failures = 0;
    while (!this.closed && spool.depth().records > 0) {
      let size = 0;
      try {
        const { records, end, lines, unreadable } = await spool.peek(this.options.maxBatch);
        size = records.length;
        for (const line of unreadable) this.options.onUnreadable?.(line);
        if (records.length > 0) await this.storeSplitting(records);
        await spool.commit(end, lines);
        if (records.length > 0) {
          this.options.onReplayed?.(records.length);
          this.databaseUp = true;
        }
        failures = 0;
      } catch (error) {
        this.databaseUp = false;
        this.options.onError?.(error, size);
        await this.sleep(REPLAY_DELAYS_MS[Math.min(failures++, REPLAY_DELAYS_MS.length - 1)]);
      }
    }
  }

  /**
   * Stores records; when the database refuses the batch for its content, it is split in halves until
   * the offending records are alone, and those are quarantined: the others are stored.
   */
  private async storeSplitting(records: Received[]): Promise<Written[]> {
    try {
      return await this.store(records);
    } catch (error) {
      const sqlstate = dataErrorCode(error);
      if (!sqlstate) throw error;
      if (records.length === 1) return [await this.quarantine(records[0], error as Error, sqlstate)];
      this.options.onError?.(error, records.length);
      const half = Math.ceil(records.length / 2);
      return [...await this.storeSplitting(records.slice(0, half)), ...await this.storeSplitting(records.slice(half))];
    }
  }

  /** Keeps a refused record in the quarantine table, else in the set-aside file; throws when neither took it. */
  private async quarantine(record: Received, error: Error, sqlstate: string): Promise<Written> {
    const reason = `the database refused it: ${error.message} (SQLSTATE ${sqlstate})`;
    const { quarantine, setAside, onQuarantined } = this.options;
    if (!quarantine) throw error;
    try {
      await quarantine(record, reason, sqlstate);
      onQuarantined?.(record, reason, "table");
      return { outcome: "quarantined", reason };
    } catch (failure) {
      if (!setAside) throw failure;
      const both = `${reason}; the quarantine table refused it too: ${(failure as Error).message}`;
      await setAside(record, both);
      onQuarantined?.(record, both, "file");
      return { outcome: "quarantined", reason: both };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
