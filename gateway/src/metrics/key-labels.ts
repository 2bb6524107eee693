/**
 * The `key` and `team` label values of a request, bounded: config keys and teams always have
 * their own series; runtime keys (created through the admin API, so by anyone holding the
 * admin key, in any number) get theirs up to a ceiling, then share `other`. A runtime key that
 * no longer exists gives its slot back and its series are removed (see forget()).
 */
import type { GatewayConfig } from "../config/schema";
import { NO_KEY_LABEL, OTHER_KEY_LABEL } from "./names";

export interface KeyIdentityLike {
  keyName: string;
  team: string;
}

export class KeyLabels {
  /** Runtime key name → the team label its series carry. */
  private readonly runtimeKeys = new Map<string, string>();
  private readonly runtimeTeams = new Map<string, number>();

  constructor(
    private readonly configKeys: ReadonlyMap<string, string>,
    private readonly configTeams: ReadonlySet<string>,
    /** Most runtime keys with series of their own (and most runtime-only teams). */
    private readonly maxRuntimeKeys: number,
    private readonly onForget: (keyLabel: string, teamLabel: string) => void = () => undefined,
  ) {}

  /** [key, team] label values for a request's identity (empty for requests without a key). */
  of(identity: KeyIdentityLike | null): readonly [string, string] {
    if (identity === null) return NO_KEY;
    const { keyName, team } = identity;
    if (this.configKeys.get(keyName) === team) return this.configPair(keyName, team);
    const known = this.runtimeKeys.get(keyName);
    if (known !== undefined) return [keyName, known];
    if (this.configKeys.has(keyName) || this.runtimeKeys.size >= this.maxRuntimeKeys) return OTHER;
    const teamLabel = this.teamLabel(team);
    this.runtimeKeys.set(keyName, teamLabel);
    return [keyName, teamLabel];
  }

  /** A config key's [key, team], made once (asked for on every request of the key). */
  private readonly configPairs = new Map<string, readonly [string, string]>();
  private configPair(keyName: string, team: string): readonly [string, string] {
    let pair = this.configPairs.get(keyName);
    if (pair === undefined || pair[1] !== team) this.configPairs.set(keyName, (pair = [keyName, team]));
    return pair;
  }

  private teamLabel(team: string): string {
    if (this.configTeams.has(team)) return team;
    const users = this.runtimeTeams.get(team);
    if (users === undefined && this.runtimeTeams.size >= this.maxRuntimeKeys) return OTHER_KEY_LABEL;
    this.runtimeTeams.set(team, (users ?? 0) + 1);
    return team;
  }

  /** Runtime key names that currently have series. */
  runtimeKeyNames(): string[] {
    return [...this.runtimeKeys.keys()];
  }

  /** A runtime key is gone: remove its series and free its slot. */
  forget(keyName: string): void {
    const team = this.runtimeKeys.get(keyName);
    if (team === undefined) return;
    this.runtimeKeys.delete(keyName);
    const users = this.runtimeTeams.get(team);
    if (users !== undefined) {
      if (users <= 1) this.runtimeTeams.delete(team);
      else this.runtimeTeams.set(team, users - 1);
    }
    this.onForget(keyName, team);
  }
}

/** The labeller of a gateway: config keys and teams, `spend.maxKeySeries`, and series removal in `metrics`. */
export function keyLabelsFor(config: Pick<GatewayConfig, "keys" | "teams" | "spend">, metrics: { forgetKey(key: string, team: string): void }): KeyLabels {
  const teams = new Set([...Object.keys(config.teams), ...config.keys.map((k) => k.team)]);
  return new KeyLabels(new Map(config.keys.map((k) => [k.name, k.team])), teams, config.spend.maxKeySeries, (key, team) => metrics.forgetKey(key, team));
}

const NO_KEY = [NO_KEY_LABEL, NO_KEY_LABEL] as const;
const OTHER = [OTHER_KEY_LABEL, OTHER_KEY_LABEL] as const;
