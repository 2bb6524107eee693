/**
 * Attack: a 20-requests-per-minute key sends prompts larger than its tokens-per-minute limit as
 * fast as it can. Each cost tens of milliseconds of token counting and was refused without using
 * a request slot, so it could be repeated without end (one key held a core). Now a refusal
 * consumes a request slot, and once the replica knows the key is over its requests per minute it
 * refuses before reading the body. Even so, a client that ignores Retry-After looped such cheap
 * refusals 500+ times a second (40% of a core); the refusal is now held up to
 * `limits.refusalDelayMs` (1 s), so each connection gets about one answer a second.
 * Measured on a real gateway process (CPU seconds from its /metrics).
 */
import { randomBytes } from "node:crypto";
import { spawnGateway, type SpawnedGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { chat, metricValue } from "./http-helpers";

const KEY = "sk-cpu-abuser-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };

/** 64 KiB of random 6-letter words, made once; each prompt is a fresh rotation of it. */
const WORDS = randomBytes(48 * 1024).toString("base64").replace(/(.{6})/g, "$1 ");
let prompts = 0;

/** ~64 KiB: well over 1 000 tokens, and never the same text twice (no count cache helps). */
function oversizedPrompt(): Record<string, unknown> {
  const at = (++prompts * 7_919) % WORDS.length;
  return { model: "m", max_tokens: 16, messages: [{ role: "user", content: `${prompts} ${WORDS.slice(at)}${WORDS.slice(0, at)}` }] };
}

async function cpuSeconds(url: string): Promise<number> {
  return (await metricValue(url, "process_cpu_seconds_total"))!;
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** /healthz latencies (ms), one probe every 20 ms until `until` resolves. */
async function probeHealth(url: string, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.then(() => (done = true));
  const samples: number[] = [];
  while (!done) {
    const start = performance.now();
    await (await fetch(`${url}/healthz`)).arrayBuffer();
    samples.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, 20));
  }
  return samples;
}

describe("an abusive 20 RPM key with oversized prompts (real gateway process)", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    gw = await spawnGateway({
      server: { host: "127.0.0.1", port: 0 },
      healthCheck: { enabled: false },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      keys: [{ name: "abuser", key: "${ABUSER_KEY}", limits: { requestsPerMinute: 20, tokensPerMinute: 1_000 } }],
    }, { ABUSER_KEY: KEY });
  });
  afterAll(async () => {
    gw.kill("SIGTERM");
    await gw.exited;
    await upstream.stop();
  });

  it("counts at most its request rate: refused requests past it cost far less than counting", async () => {
    const bodies = Array.from({ length: 20 }, oversizedPrompt);
    const idle = await probeHealth(gw.url, new Promise((r) => setTimeout(r, 1_000)));

    // Calibration: the key's 20 requests of the minute are each counted, then refused as too large.
    const cpu0 = await cpuSeconds(gw.url);
    for (const body of bodies) {
      const res = await chat(gw.url, body, AUTH);
      expect(res.status).toBe(429);
      await res.arrayBuffer();
    }
    const perCounted = ((await cpuSeconds(gw.url)) - cpu0) / bodies.length;

    // The attack: as fast as it can, 4 at a time, for 6 s; fresh prompts (a counting cache would not help).
    const attackMs = 6_000;
    const cpu1 = await cpuSeconds(gw.url);
    const started = performance.now();
    let sent = 0;
    const statuses = new Map<number, number>();
    const attack = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() - started < attackMs) {
          const res = await chat(gw.url, oversizedPrompt(), AUTH);
          await res.arrayBuffer();
          sent++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
      }),
    );
    const loaded = await probeHealth(gw.url, attack);
    const elapsedS = (performance.now() - started) / 1000;
    const used = (await cpuSeconds(gw.url)) - cpu1;
    const figures = { perCountedMs: +(perCounted * 1000).toFixed(1), sent, cpuSeconds: +used.toFixed(2), coreShare: +(used / elapsedS).toFixed(3), healthP99IdleMs: +p99(idle).toFixed(1), healthP99AttackMs: +p99(loaded).toFixed(1) };
    process.stderr.write(`abusive key figures: ${JSON.stringify(figures)}\n`);

    expect([...statuses.keys()]).toEqual([429]);
    expect(upstream.completions).toHaveLength(0);
    // Paced: each of the 4 connections gets about one refusal per second held (shorter just before
    // the key's next slot, then one counted request; a busy machine only slows it down), where an
    // unheld loop sent 2,900-3,800 in the same 6 s.
    expect(sent).toBeLessThanOrEqual(4 * ((attackMs / 1_000) * 1.5 + 2));
    // A few percent of a core (3.8% measured at load average 16); 40% before the hold.
    expect(used / elapsedS).toBeLessThan(0.15);
  });
});
