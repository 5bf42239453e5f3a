// The one way records reach the database. Requests that arrive while a transaction is in flight are
// gathered into the next one (group commit), and each request is answered only after its commit.
import type { IngestRecord, Outcome } from "../ingest/records";

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
  onBatch?: (size: number, seconds: number) => void;
  onError?: (error: unknown, size: number) => void;
}

/** SQLSTATE classes that blame the data, not the database: 22 data exception, 23 integrity violation. */
function blamesData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^2[23]/.test(code);
}

export class BatchWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly sink: BatchSink,
    private readonly options: WriterOptions,
  ) {}

  /** Resolves once the record is committed (or found to be a duplicate). */
  write(record: IngestRecord): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      // setImmediate lets the requests of the same event-loop turn share the first transaction.
      this.running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.drainQueue());
    });
  }

  /** Waits until everything accepted so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.writeBatch(this.queue.splice(0, this.options.maxBatch));
    } finally {
      this.running = null;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const start = performance.now();
    try {
      const outcomes = await this.sink(batch.map((p) => p.record));
      this.options.onBatch?.(batch.length, (performance.now() - start) / 1000);
      batch.forEach((p, i) => p.resolve(outcomes[i]));
    } catch (error) {
      this.options.onError?.(error, batch.length);
      // One bad record must not fail the others: write them one by one.
      if (batch.length > 1 && blamesData(error)) {
        for (const p of batch) await this.writeBatch([p]);
      } else {
        for (const p of batch) p.reject(error);
      }
    }
  }
}
