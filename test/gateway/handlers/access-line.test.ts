/**
 * The proxied request's hand-serialised access-log line (gateway/src/handlers/access-line.ts) is
 * byte for byte what the generic AccessLog.info writes for the same fields, as the pipeline
 * built them before (the object below): random records, every optional field on and off.
 */
import { Writable } from "node:stream";
import { AccessLog } from "../../../gateway/src/log";
import { hundredths, requestLineFields } from "../../../gateway/src/handlers/access-line";
import { newRecord, type RequestRecord } from "../../../gateway/src/handlers/request-record";

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/** The fields object finishRecord passed to AccessLog.info. */
function asObject(requestId: string, route: string, model: string, served: string, record: RequestRecord, latencyMs: number, traceId: string | undefined): Record<string, unknown> {
  const usage = record.usage;
  const costNano = record.costNano;
  return {
    reqId: requestId,
    route,
    model: model || undefined,
    servedModel: served && served !== model ? served : undefined,
    upstreamModel: record.upstreamModel || undefined,
    stream: record.stream,
    keyName: record.identity?.keyName,
    team: record.identity?.team,
    clientIp: record.clientIp,
    target: record.target ?? undefined,
    status: record.status,
    errorCode: record.errorCode,
    refusal: record.refusal,
    interrupted: record.interrupted || undefined,
    attempts: record.attempts,
    upstreamRequestId: record.upstreamRequestId ?? undefined,
    traceId,
    latencyMs: round2(latencyMs),
    ttftMs: record.ttftMs === null ? undefined : round2(record.ttftMs),
    promptTokens: usage?.promptTokens,
    completionTokens: usage?.completionTokens,
    cachedTokens: usage?.cachedPromptTokens,
    cacheWriteTokens: usage?.cacheWriteTokens,
    reasoningTokens: usage?.reasoningTokens,
    usageEstimated: record.usageEstimated || undefined,
    costUsd: costNano === null ? undefined : Number((costNano / 1e9).toFixed(9)),
    costEstimated: costNano === null ? undefined : record.usageEstimated,
    cache: record.cache ?? undefined,
  };
}

describe("requestLineFields", () => {
  it("writes what AccessLog.info writes for the same request, over 3,000 random records", () => {
    const lines: string[] = [];
    const dest = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const log = new AccessLog("info", dest);
    let x = 1;
    const rand = (n: number) => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    const pick = <T>(...options: T[]): T => options[rand(options.length)];
    const text = () => pick("", "gpt-4o", 'quo"te\\back', "ünï\u2028\u0001", "upstream-1");
    for (let i = 0; i < 3_000; i++) {
      const record = newRecord(pick("127.0.0.1", "::1", "2001:db8::1"));
      record.model = text();
      record.target = pick(null, "t1", 'we"ird');
      record.status = pick(200, 429, 499, 502);
      record.attempts = rand(4);
      record.usage = pick(null, { promptTokens: rand(500), completionTokens: rand(500) }, { promptTokens: 10, completionTokens: 3, cachedPromptTokens: rand(10), cacheWriteTokens: rand(3), reasoningTokens: rand(2) });
      record.usageEstimated = rand(2) === 0;
      record.ttftMs = pick(null, rand(10_000) / 7);
      record.cache = pick(null, "HIT", "MISS");
      record.identity = pick(null, { keyId: "id", keyName: text(), team: text(), plan: "p" } as unknown as RequestRecord["identity"]);
      record.servedModel = text();
      record.upstreamModel = text();
      record.stream = rand(2) === 0;
      record.interrupted = rand(5) === 0;
      record.errorCode = pick(undefined, "rate_limit_exceeded");
      record.refusal = pick(undefined, "requests", 'x"y');
      record.costNano = pick(null, 0, rand(1e7), 123456789);
      record.upstreamRequestId = pick(null, "req_abc");
      const model = pick("", record.model);
      const served = pick("", model, "other-pool");
      const latency = pick(rand(100_000) / 3, Number.NaN, 0.005);
      const traceId = pick(undefined, "0af7651916cd43dd8448eb211c80319c");
      log.info(asObject(`r-${i}`, "chat.completions", model, served, record, latency, traceId), "request");
      log.writeFields(requestLineFields(`r-${i}`, "chat.completions", model, served, record, latency, traceId), "request");
    }
    expect(lines).toHaveLength(6_000);
    const noTime = (line: string) => line.replace(/"time":"[^"]+"/, '"time":""');
    for (let i = 0; i < lines.length; i += 2) {
      expect(noTime(lines[i + 1])).toBe(noTime(lines[i]));
      JSON.parse(lines[i + 1]);
    }
  });

  it("escapes every value right when more distinct names pass than its piece caches hold (they start over)", () => {
    for (let i = 0; i < 2_500; i++) {
      const record = newRecord(`10.0.${i >> 8}.${i & 255}`);
      record.target = `t"${i}`;
      record.upstreamModel = `m\u2028${i % 1_500}`;
      const line = JSON.parse(`{"a":0${requestLineFields(`r-${i}`, `route-${i % 3}`, `model-${i}`, `pool-${i}`, record, 1, undefined)}}`) as Record<string, unknown>;
      expect(line).toMatchObject({ route: `route-${i % 3}`, model: `model-${i}`, servedModel: `pool-${i}`, upstreamModel: `m\u2028${i % 1_500}`, clientIp: record.clientIp, target: `t"${i}` });
    }
  });

  it("prints milliseconds to two decimals exactly as String(Math.round(ms * 100) / 100) does", () => {
    const mismatches: string[] = [];
    const check = (ms: number) => {
      if (hundredths(ms) !== String(round2(ms)) && mismatches.length < 5) mismatches.push(`${ms}: ${hundredths(ms)} != ${String(round2(ms))}`);
    };
    // Every hundredth up to 1,000 s, then random values across the range a latency can take.
    for (let n = 0; n <= 100_000_000; n += n < 1_000_000 ? 1 : 997) check(n / 100);
    let x = 7;
    for (let i = 0; i < 200_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      check((x / 2 ** 31) * 10 ** (x % 16));
    }
    expect(mismatches).toEqual([]);
    for (const odd of [0.004, 0.005, 0.015, 1.005, 2.675, -0, -0.004, -1.5, Number.NaN, Infinity, 1e13, 9.99e12, 1e15, 1e22]) {
      expect(hundredths(odd)).toBe(Number.isFinite(round2(odd)) ? String(round2(odd)) : "null");
    }
  });

  it("writes nothing below level info", () => {
    const lines: string[] = [];
    const log = new AccessLog("warn", new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    expect(log.on).toBe(false);
    log.writeFields(requestLineFields("r", "chat.completions", "m", "m", newRecord("::1"), 1, undefined), "request");
    expect(lines).toHaveLength(0);
  });
});
