/**
 * Coalesces the calls made during one event-loop turn into one call of `run`, so the Redis
 * limit store pays one script invocation (one EVALSHA, one reply) for all the admissions (or
 * settlements) of a turn instead of one per request: under load that is most of the client and
 * Redis CPU a request costs. The first call of a turn schedules the flush with setImmediate,
 * which runs after the I/O callbacks of the turn (each incoming request is one; process.nextTick
 * would flush after each of them, batching nothing), so a lone call waits one tick at most.
 * A batch that reaches `maxBatch` is sent at once, which keeps scripts short.
 *
 * `run` gets the items in arrival order and must answer one result per item, in that order;
 * each caller's promise resolves with its own result. When `run` fails, every caller of the
 * batch gets the rejection (callers such as FailoverStore fall back on it).
 */
export class ScriptBatcher<I, O> {
  private items: I[] = [];
  private resolves: ((value: O) => void)[] = [];
  private rejects: ((reason: unknown) => void)[] = [];
  private scheduled = false;
  /** Batches sent and not answered yet: drain() waits for them. */
  private readonly outstanding = new Set<Promise<unknown>>();
  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.flush();
  };

  constructor(
    private readonly run: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly maxBatch = 256,
  ) {
    if (!(maxBatch >= 1)) throw new RangeError("maxBatch must be at least 1");
  }

  /** Queues `item` for this turn's batch; resolves with its result. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.items.push(item);
      this.resolves.push(resolve);
      this.rejects.push(reject);
      if (this.items.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.onImmediate);
      }
    });
  }

  /** Items waiting for the next flush (tests). */
  get pending(): number {
    return this.items.length;
  }

  /** Sends the queued items now, as one batch (nothing when none is queued). */
  flush(): void {
    const items = this.items;
    if (items.length === 0) return;
    const resolves = this.resolves;
    const rejects = this.rejects;
    this.items = [];
    this.resolves = [];
    this.rejects = [];
    const failAll = (err: unknown): void => {
      for (const reject of rejects) reject(err);
    };
    let sent: Promise<readonly O[]>;
    try {
      sent = this.run(items);
    } catch (err) {
      failAll(err);
      return;
    }
    const answered = sent.then((results) => {
      if (results.length !== items.length) {
        failAll(new Error(`batch of ${items.length} answered with ${results.length} results`));
        return;
      }
      for (let i = 0; i < resolves.length; i++) resolves[i](results[i]);
    }, failAll);
    this.outstanding.add(answered);
    void answered.then(() => this.outstanding.delete(answered));
  }

  /**
   * Sends what is queued now and resolves once every batch sent has its answer (or failed), so
   * the connection can close without dropping a call made just before: a settlement lost there
   * would hold its key's concurrency slot until the lease expired and never charge its spend.
   */
  async drain(): Promise<void> {
    this.flush();
    while (this.outstanding.size > 0) await Promise.all(this.outstanding);
  }
}
