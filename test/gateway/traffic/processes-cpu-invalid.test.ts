/**
 * Attack: a 20-requests-per-minute key sends large bodies that fail validation after they are
 * read and parsed (an unknown model, a bad field) as fast as it can. Each cost milliseconds of
 * reading, scanning and parsing, and was answered before admission, so it never used a request
 * slot: the key was never over its rate, nothing held it, and it could loop without end. A
 * refused request is still a request: it now consumes the key's slot, so past 20 in the minute
 * the key is refused before its body is read (and held, limits.refusalDelayMs).
 * Measured on a real gateway process (CPU seconds from its /metrics).
 */
import { spawnGateway, type SpawnedGateway } from "../../helpers/gateway-harness";
import { MockUpstream } from "../../helpers/mock-upstream";
import { metricValue } from "./http-helpers";

const KEY = "sk-cpu-invalid-0123456789";
const AUTH = { authorization: `Bearer ${KEY}` };
/** ~2 MiB of JSON that parses: read, scanned and parsed in full before the model is looked up. */
const FILLER = Array.from({ length: 2 * 1024 }, (_, i) => `${"word ".repeat(200)}${i}`);
/** Serialised once: the client's cost must not be what limits the attack. */
const BODIES = [
  JSON.stringify({ model: "no-such-model", filler: FILLER }),
  JSON.stringify({ model: "m", n: "many", messages: [{ role: "user", content: "hi" }], filler: FILLER }),
];

async function cpuSeconds(url: string): Promise<number> {
  return (await metricValue(url, "process_cpu_seconds_total"))!;
}

describe("an abusive 20 RPM key with large invalid requests (real gateway process)", () => {
  let upstream: MockUpstream;
  let gw: SpawnedGateway;

  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 4 });
    gw = await spawnGateway({
      server: { host: "127.0.0.1", port: 0 },
      healthCheck: { enabled: false },
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      keys: [{ name: "abuser", key: "${ABUSER_KEY}", limits: { requestsPerMinute: 20 } }],
    }, { ABUSER_KEY: KEY });
  });
  afterAll(async () => {
    gw.kill("SIGTERM");
    await gw.exited;
    await upstream.stop();
  });

  it("counts them against its request rate, then refuses before reading the body", async () => {
    const attackMs = 6_000;
    const cpu0 = await cpuSeconds(gw.url);
    const started = performance.now();
    const statuses = new Map<number, number>();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 4 }, async (_, connection) => {
        while (performance.now() - started < attackMs) {
          const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { ...AUTH, "content-type": "application/json" }, body: BODIES[connection % 2] }).catch(() => null);
          if (res) {
            await res.arrayBuffer();
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          }
          sent++;
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const used = (await cpuSeconds(gw.url)) - cpu0;
    process.stderr.write(`invalid-request abuse figures: ${JSON.stringify({ sent, statuses: Object.fromEntries(statuses), cpuSeconds: +used.toFixed(2), coreShare: +(used / elapsedS).toFixed(3) })}\n`);

    // The key's 20 requests of the minute are answered (404 / 400), plus what refilled meanwhile
    // (one every 3 s) and the 4 connections' requests already past the pre-check when the 20th
    // was counted; then 429s. Nothing reaches the upstream. (The old code answered 54-60.)
    const refilled = Math.ceil((elapsedS * 20) / 60);
    expect((statuses.get(404) ?? 0) + (statuses.get(400) ?? 0)).toBeLessThanOrEqual(20 + refilled + 4);
    expect(statuses.get(429) ?? 0).toBeGreaterThan(0);
    expect(upstream.completions).toHaveLength(0);
    // Paced like any refused key: about one answer a second per connection once over the rate.
    expect(sent).toBeLessThanOrEqual(20 + 4 * ((attackMs / 1_000) * 1.5 + 2));
    expect(used / elapsedS).toBeLessThan(0.25);
  });
});
