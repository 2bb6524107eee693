/**
 * A config file laid out as Kubernetes mounts a ConfigMap: `dir/config.yaml` → `..data/config.yaml`,
 * `..data` → `..<timestamp>/`; an update writes a new timestamped directory and renames a fresh
 * `..data` symlink over the old one, which is what the gateway's watcher must notice.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";

export class ConfigMapDir {
  readonly dir = mkdtempSync(join(tmpdir(), "aigw-cm-"));
  readonly file = join(this.dir, "config.yaml");
  private version = 0;

  constructor(initial: unknown) {
    this.update(initial);
    symlinkSync("..data/config.yaml", this.file);
  }

  /** Swaps in new content as the kubelet does; a string is written as is (broken YAML included). */
  update(content: unknown): void {
    const versionDir = `..2026_${String(++this.version).padStart(4, "0")}`;
    mkdirSync(join(this.dir, versionDir));
    writeFileSync(join(this.dir, versionDir, "config.yaml"), typeof content === "string" ? content : stringify(content));
    symlinkSync(versionDir, join(this.dir, "..data_tmp"));
    renameSync(join(this.dir, "..data_tmp"), join(this.dir, "..data"));
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
