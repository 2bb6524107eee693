/**
 * Reloads the config file on SIGHUP and when it changes on disk. Kubernetes mounts a ConfigMap
 * as a directory whose files are symlinks through `..data`, which an update swaps atomically; so
 * the directory is watched (not the file, whose inode never changes), events are debounced, and
 * a reload happens only when the file's content changed. A slow poll backs the watch up on file
 * systems without change events. A config that fails to read, parse or validate is refused: the
 * old one keeps serving, the problems are logged and `aigw_config_reload_total{result="failure"}`
 * counts it. Reloads run one at a time.
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { parseConfigText } from "../config/load";
import { ConfigError } from "../config/validate";
import type { Gateway } from "../gateway";
import type { Logger } from "../log";

export interface ConfigWatcherOptions {
  /** Quiet time after the last file event before reading (a ConfigMap swap is several events). */
  debounceMs?: number;
  /** Backstop poll of the file's content; 0 turns it off. */
  pollMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Listen for SIGHUP (the process's entry point does; tests may not). */
  onSignal?: boolean;
}

export type ReloadTrigger = "signal" | "file" | "poll";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export class ConfigWatcher {
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private poll: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private loadedHash: string | null = null;
  private readonly onHangup = () => void this.reload("signal");

  constructor(
    private readonly file: string,
    private readonly gateway: Pick<Gateway, "reload">,
    private readonly logger: Logger,
    private readonly options: ConfigWatcherOptions = {},
  ) {}

  /** `startedText`: the config text the process started from (its hash is the baseline). */
  start(startedText: string): void {
    this.loadedHash = sha256(startedText);
    const name = basename(this.file);
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, changed) => {
        // `..data` (a ConfigMap swap), the file itself, or an editor's temporary file next to it.
        if (changed === null || changed === name || changed.startsWith("..") || changed.includes(name)) this.schedule();
      });
      this.watcher.on("error", (err) => this.logger.warn({ event: "config_watch_error", err: err.message }, "config: watching the config directory failed; SIGHUP and the poll still reload"));
    } catch (err) {
      this.logger.warn({ event: "config_watch_error", err: (err as Error).message }, "config: cannot watch the config directory; SIGHUP and the poll still reload");
    }
    const pollMs = this.options.pollMs ?? 30_000;
    if (pollMs > 0) {
      this.poll = setInterval(() => void this.reload("poll"), pollMs);
      this.poll.unref();
    }
    if (this.options.onSignal ?? true) process.on("SIGHUP", this.onHangup);
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload("file"), this.options.debounceMs ?? 300);
    this.debounce.unref();
  }

  /** Reloads now (queued behind a reload in progress). A signal reloads even an unchanged file. */
  reload(trigger: ReloadTrigger): Promise<void> {
    this.running = this.running.then(() => this.reloadOnce(trigger));
    return this.running;
  }

  private async reloadOnce(trigger: ReloadTrigger): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (err) {
      // Mid-swap or removed: a later event or the poll tries again; a signal is answered (and counted).
      if (trigger !== "signal") return;
      const unreadable = new ConfigError([`cannot read ${this.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
      try {
        this.gateway.reload(() => {
          throw unreadable;
        });
      } catch {
        this.refused(trigger, null, unreadable);
      }
      return;
    }
    const hash = sha256(text);
    if (trigger !== "signal" && hash === this.loadedHash) return;
    const started = performance.now();
    try {
      const report = this.gateway.reload(() => parseConfigText(text, this.options.env));
      this.loadedHash = hash;
      this.logger.info({ event: "config_reloaded", trigger, configSha256: hash.slice(0, 16), models: report.models, restartNeeded: report.restartNeeded, ms: Math.round(performance.now() - started) }, "config reloaded");
      if (report.restartNeeded.length > 0) {
        this.logger.warn({ event: "config_restart_needed", fields: report.restartNeeded }, `config: ${report.restartNeeded.join(", ")} changed; these keep their running values until the gateway restarts`);
      }
    } catch (err) {
      // The same broken file is not re-reported by every poll: only a new version of it.
      this.loadedHash = hash;
      this.refused(trigger, hash, err);
    }
  }

  private refused(trigger: ReloadTrigger, hash: string | null, err: unknown): void {
    const problems = err instanceof ConfigError ? err.problems : [(err as Error).message];
    this.logger.error({ event: "config_reload_failed", trigger, configSha256: hash?.slice(0, 16), problems }, "config reload refused; the running config stays");
  }

  stop(): void {
    this.watcher?.close();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearInterval(this.poll);
    process.off("SIGHUP", this.onHangup);
  }
}
