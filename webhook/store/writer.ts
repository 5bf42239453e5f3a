// The one way records reach the database. Requests that arrive while a transaction is in flight are
// gathered into the next one (group commit), and each request is answered only after its commit — or,
// when the database cannot take the batch in time, after the batch is fsync'ed into the spool, from
// which a background task replays it, in order, once the database is back.
import type { IngestRecord, Outcome } from "../ingest/records";
import type { Spool } from "./spool";

/** Writes records in one transaction; returns an outcome per record, in order. */
export type BatchSink = (records: IngestRecord[]) => Promise<Outcome[]>;

interface Pending {
  record: IngestRecord;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

export interface WriterOptions {
  /** Most records per transaction. */
  maxBatch: number;
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
  /** A spooled record the database refuses for its content: it is set aside, not retried forever. */
  onRejected?: (record: IngestRecord, error: unknown) => void;
}

/** SQLSTATE classes that blame the data, not the database: 22 data exception, 23 integrity violation. */
function blamesData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^2[23]/.test(code);
}

class TimeoutError extends Error {}

const REPLAY_DELAYS_MS = [250, 500, 1000, 2000];

export class BatchWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
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

  /** Resolves once the record is committed, found to be a duplicate, or spooled. */
  write(record: IngestRecord): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      // setImmediate lets the requests of the same event-loop turn share the first transaction.
      this.running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.drainQueue());
    });
  }

  /** Waits until everything accepted so far is written (to the database or the spool). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops replaying; what is still spooled is replayed after the next start. */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.replaying;
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.writeBatch(this.queue.splice(0, this.options.maxBatch));
    } finally {
      this.running = null;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const records = batch.map((p) => p.record);
    if (this.options.spool && !this.databaseUp) return this.spoolBatch(batch);
    const start = performance.now();
    try {
      const outcomes = await this.store(records);
      this.options.onBatch?.(batch.length, (performance.now() - start) / 1000);
      batch.forEach((p, i) => p.resolve(outcomes[i]));
    } catch (error) {
      this.options.onError?.(error, batch.length);
      // One bad record must not fail the others: write them one by one.
      if (blamesData(error)) {
        if (batch.length > 1) for (const p of batch) await this.writeBatch([p]);
        else batch[0].reject(error);
      } else if (this.options.spool) {
        this.databaseUp = false;
        await this.spoolBatch(batch);
      } else {
        for (const p of batch) p.reject(error);
      }
    }
  }

  private async spoolBatch(batch: Pending[]): Promise<void> {
    try {
      await this.options.spool!.append(batch.map((p) => p.record));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    this.options.onSpooled?.(batch.length);
    for (const p of batch) p.resolve("spooled");
    this.startReplay();
  }

  /** The sink, bounded by the time limit when there is a spool to fall back on. */
  private store(records: IngestRecord[]): Promise<Outcome[]> {
    const write = this.sink(records);
    const { timeoutMs } = this.options;
    if (!this.options.spool || !timeoutMs) return write;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`the database took over ${timeoutMs} ms`)), timeoutMs);
    });
    // A write that times out may still commit later; its records are spooled too, and their replay is
    // then a harmless duplicate.
    write.catch(() => {});
    return Promise.race([write, timeout]).finally(() => clearTimeout(timer));
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
      const { records, end } = await spool.peek(this.options.maxBatch);
      try {
        await this.replayBatch(records);
        await spool.commit(end, records.length);
        this.options.onReplayed?.(records.length);
        this.databaseUp = true;
        failures = 0;
      } catch (error) {
        this.databaseUp = false;
        this.options.onError?.(error, records.length);
        await this.sleep(REPLAY_DELAYS_MS[Math.min(failures++, REPLAY_DELAYS_MS.length - 1)]);
      }
    }
  }

  /** Stores spooled records; one the database refuses for its content is handed to onRejected. */
  private async replayBatch(records: IngestRecord[]): Promise<void> {
    try {
      await this.store(records);
    } catch (error) {
      if (!blamesData(error)) throw error;
      for (const record of records) {
        try {
          await this.store([record]);
        } catch (single) {
          if (!blamesData(single)) throw single;
          this.options.onRejected?.(record, single);
        }
      }
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
