/** The benchmark's pure parts: configs it generates, the output it parses, the ratios it reports. */
import { validateConfig } from "../../gateway/src/config/validate";
import { gatewayConfig, withBudgetAndCache } from "../../bench/lib/gateway-configs";
import { haproxyConfig } from "../../bench/lib/haproxy";
import { bodyMaker, parseWrkOutput, percentile, wrkScript } from "../../bench/lib/load";
import { parseStat, parseStatusKb } from "../../bench/lib/proc-stats";
import { checkTargets, computeRatios, type CaseName, type CaseResult, type TargetName, type TargetResult } from "../../bench/lib/results";
import { summariseProfile, type CpuProfile } from "../../bench/lib/cpuprofile";
import { streamEvents } from "../../bench/mock-upstream";

describe("haproxyConfig", () => {
  it("has the source article's features: three round-robin servers with checks, retries, redispatch, a stick-table limit", () => {
    const cfg = haproxyConfig({ port: 8000, upstreamPorts: [9001, 9002, 9003], threads: 1 });
    expect(cfg).toContain("bind 127.0.0.1:8000");
    expect(cfg).toContain("nbthread 1");
    expect(cfg).toContain("balance roundrobin");
    expect(cfg).toContain("option httpchk GET /v1/models");
    expect(cfg).toContain("retries 3");
    expect(cfg).toContain("option redispatch");
    expect(cfg).toMatch(/stick-table type ip .* store http_req_rate\(10s\)/);
    expect(cfg).toContain("http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000000000 }");
    expect(cfg.match(/^ {2}server upstream-\d 127\.0\.0\.1:900\d check/gm)).toHaveLength(3);
    expect(cfg).not.toContain("http-server-close");
  });

  it("repeats one upstream port on three server lines", () => {
    const cfg = haproxyConfig({ port: 8000, upstreamPorts: [9001], threads: 2 });
    expect(cfg.match(/127\.0\.0\.1:9001 check/g)).toHaveLength(3);
  });
});

describe("gatewayConfig", () => {
  it.each(["minimal", "full-memory", "full-redis"] as const)("builds a config the gateway accepts (%s)", (variant) => {
    const config = validateConfig(gatewayConfig({ variant, port: 0, upstreamPorts: [1, 2, 3], redisPort: 6379 }));
    expect(config.models[0].targets).toHaveLength(3);
    if (variant === "minimal") {
      expect(config.keys).toEqual([]);
      expect(config.logging.accessLog).toBe(false);
    } else {
      expect(config.keys).toHaveLength(1);
      expect(config.auth.required).toBe(true);
      expect(config.logging.accessLog).toBe(true);
      expect(config.limits.store).toBe(variant === "full-redis" ? "redis" : "memory");
    }
  });

  it("adds a monthly budget with the mock model priced, and the response cache (the issue's every feature)", () => {
    const full = gatewayConfig({ variant: "full-memory", port: 0, upstreamPorts: [1] });
    const config = validateConfig(withBudgetAndCache(full));
    expect(config.plans.bench).toMatchObject({ ...full.plans!.bench, monthlyBudgetUsd: 1_000_000_000 });
    expect(Object.keys(config.pricing)).toEqual([full.models[0].name]);
    expect(config.cache.enabled).toBe(true);
    expect(config.limits.store).toBe("memory");
  });
});

describe("wrk", () => {
  it("writes a script with the body, headers and a JSON summary", () => {
    const script = wrkScript('{"a":1}', { Authorization: "Bearer x" });
    expect(script).toContain('wrk.method = "POST"');
    expect(script).toContain('wrk.body = [==[{"a":1}]==]');
    expect(script).toContain('wrk.headers["Authorization"] = "Bearer x"');
    expect(script).toContain("latency:percentile(99)");
  });

  it("sends a different body per request when the body has a {n} counter", () => {
    const script = wrkScript('{"content":"request {n} of {n}"}', {});
    expect(script).toContain('local parts = { [==[{"content":"request ]==], [==[ of ]==], [==["}]==] }');
    expect(script).toContain("return wrk.format(nil, nil, nil, table.concat(parts, n))");
    const next = bodyMaker('{"content":"request {n}"}');
    expect([next(), next()]).toEqual(['{"content":"request 1"}', '{"content":"request 2"}']);
    expect(bodyMaker("{}")()).toBe("{}");
  });

  it("parses the summary line", () => {
    const out = "Running 1s test\nWRK_JSON {\"requests\":2000,\"duration_us\":2000000,\"connect\":1,\"read\":2,\"write\":0,\"status\":3,\"timeout\":4,\"p50_us\":1500,\"p90_us\":2500,\"p99_us\":9000,\"max_us\":12000}\n";
    expect(parseWrkOutput(out)).toEqual({ tool: "wrk", requests: 2000, durationSec: 2, rps: 1000, p50Ms: 1.5, p90Ms: 2.5, p99Ms: 9, maxMs: 12, non2xx: 3, socketErrors: 3, timeouts: 4 });
  });

  it("fails loudly when wrk printed no summary", () => {
    expect(() => parseWrkOutput("unable to connect to 127.0.0.1:1 Connection refused")).toThrow(/no summary/);
  });
});

describe("percentile", () => {
  it("takes the nearest rank", () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("/proc parsing", () => {
  it("reads ppid and CPU ticks even when the command has spaces and parentheses", () => {
    const stat = "1234 (node (x) y) S 99 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 0 0";
    expect(parseStat(stat)).toEqual({ ppid: 99, ticks: 300 });
  });

  it("reads VmRSS and VmHWM", () => {
    const status = "Name:\tnode\nVmHWM:\t  120000 kB\nVmRSS:\t   80000 kB\n";
    expect(parseStatusKb(status, "VmRSS")).toBe(80000);
    expect(parseStatusKb(status, "VmHWM")).toBe(120000);
    expect(parseStatusKb("Name:\tzombie\n", "VmRSS")).toBeNull();
  });
});

function target(name: TargetName, rps: Partial<Record<CaseName, number>>, extra: Partial<CaseResult> = {}): TargetResult {
  const cases: CaseResult[] = Object.entries(rps).map(([c, value]) => ({
    case: c as CaseName,
    load: { tool: "wrk", requests: value * 10, durationSec: 10, rps: value, p50Ms: 1, p90Ms: 2, p99Ms: 3, maxMs: 4, non2xx: 0, socketErrors: 0, timeouts: 0 },
    ttfb: null,
    cpuUsPerRequest: 10,
    mockCpuUsPerRequest: 5,
    redisCpuUsPerRequest: null,
    peakRssMb: 100,
    errors: 0,
    failure: null,
    ...extra,
  }));
  return { name, description: "", features: null, featureWarnings: [], cases, peakRssMb: 100, skipped: null };
}

describe("ratios and targets", () => {
  const targets = [
    target("direct", { "json-64": 30_000, "sse-64": 10_000 }),
    target("haproxy", { "json-64": 20_000, "sse-64": 8_000 }),
    target("gateway-full-memory", { "json-64": 12_000, "sse-64": 3_000, "sse-256-held": 400 }),
  ];

  it("divides each gateway's req/s by each reference's, from the same run", () => {
    const rows = computeRatios(targets);
    expect(rows.map((r) => `${r.gateway}/${r.reference}`)).toEqual(["gateway-full-memory/haproxy", "gateway-full-memory/direct"]);
    expect(rows[0].json64).toBeCloseTo(0.6);
    expect(rows[0].sse64).toBeCloseTo(0.375);
    expect(rows[0].json1).toBeNull();
    expect(rows[0].cpuPerRequest).toBeCloseTo(1);
  });

  it("checks the issue's goals, n/a when a figure is missing", () => {
    const checks = checkTargets(targets);
    const byName = Object.fromEntries(checks.map((c) => [c.name, c.status]));
    expect(byName["JSON req/s, all features, memory store"]).toBe("pass");
    expect(byName["SSE req/s, all features, memory store"]).toBe("FAIL");
    expect(byName["JSON req/s, all features, Redis store"]).toBe("n/a");
    expect(byName["Peak RSS, 256 concurrent streams (full-memory)"]).toBe("pass");
    expect(byName["Errors, every target and load"]).toBe("pass");
  });
});

describe("mock upstream", () => {
  it("streams a role chunk, 20 content chunks, a finish chunk, a usage chunk and [DONE]", () => {
    const events = streamEvents().map((b) => b.toString("utf8"));
    expect(events).toHaveLength(24);
    for (const e of events) expect(e).toMatch(/^data: .*\n\n$/s);
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[]; usage?: unknown });
    expect(parsed.filter((p) => p.choices[0]?.delta.content?.startsWith("word"))).toHaveLength(20);
    expect(parsed[22].usage).toEqual({ prompt_tokens: 19, completion_tokens: 20, total_tokens: 39 });
    expect(events[23]).toBe("data: [DONE]\n\n");
  });
});

describe("summariseProfile", () => {
  it("adds self time per function from samples and time deltas, and groups by package", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1, columnNumber: -1 }, children: [2, 3] },
        { id: 2, callFrame: { functionName: "handleProxy", url: "file:///app/dist/gateway/src/handlers/proxy-handler.js", lineNumber: 40, columnNumber: 0 }, children: [4] },
        { id: 3, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1, columnNumber: -1 } },
        { id: 4, callFrame: { functionName: "dispatch", url: "file:///app/node_modules/undici/lib/dispatcher/pool.js", lineNumber: 10, columnNumber: 0 } },
      ],
      startTime: 0,
      endTime: 100,
      samples: [2, 4, 4, 3, 2],
      timeDeltas: [10, 20, 30, 15, 25],
    };
    // A sample lasts until the next one (DevTools): stamps 10, 30, 60, 75, 100, end 100.
    const summary = summariseProfile(profile);
    expect(summary.totalMs).toBeCloseTo(0.09);
    expect(summary.functions[0]).toMatchObject({ name: "dispatch", group: "undici" });
    expect(summary.functions[0].selfMs).toBeCloseTo(0.045);
    const handler = summary.functions.find((f) => f.name === "handleProxy")!;
    expect(handler.group).toBe("gateway");
    expect(handler.selfMs).toBeCloseTo(0.02);
    expect(handler.totalMs).toBeCloseTo(0.065);
    expect(summary.groups.find((g) => g.group === "gc")?.selfMs).toBeCloseTo(0.025);
  });
});
