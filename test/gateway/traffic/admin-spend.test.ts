/**
 * The admin spend API without Redis (this replica's rollups, said so in the answer), its query
 * errors and authentication, and the access log's line for every request: refusals with their
 * reason, the model list, admin calls and unknown paths.
 */
import { parseSpendQuery } from "../../../gateway/src/admin/api/spend-query";
import { MockUpstream } from "../../helpers/mock-upstream";
import type { TestGateway } from "../../helpers/gateway-harness";
import { chat, startTrafficGateway } from "./http-helpers";

const ADMIN = "admin-key-for-spend-0123";
const KEY = "sk-spend-memory-key-1";

describe("admin spend API and access log, one replica without Redis", () => {
  let upstream: MockUpstream;
  let gw: TestGateway;
  const admin = (path: string, key = ADMIN) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}`, "x-request-id": `adm-${path.length}` } });
  beforeAll(async () => {
    upstream = await MockUpstream.start("up", { kind: "ok", tokens: 5 });
    gw = await startTrafficGateway({
      models: [{ name: "m", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }, { name: "other", targets: [{ name: "up", baseUrl: upstream.baseUrl }] }],
      auth: { adminKey: ADMIN },
      pricing: { m: { inputPerMTok: 1_000, outputPerMTok: 2_000 } },
      keys: [{ name: "solo", key: KEY, team: "ops", models: ["m"] }],
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.stop();
  });

  it("reports this replica's spend per key, model and day, and says it is not the fleet's", async () => {
    for (let i = 0; i < 3; i++) expect((await chat(gw.url, { model: "m" }, { authorization: `Bearer ${KEY}` })).status).toBe(200);
    const today = new Date().toISOString().slice(0, 10);
    const res = await admin(`/admin/spend?date=${today}&group_by=key,model&interval=day`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown> & { totals: { requests: number; cost_usd: number; output_tokens: number }; groups: Record<string, unknown>[]; series: unknown[] };
    expect(body).toMatchObject({ object: "gateway.spend", scope: "replica", from: today, to: today, group_by: ["key", "model"], dates: [today], currency: "USD" });
    expect(body.note).toMatch(/this replica/);
    expect(body.totals.requests).toBe(3);
    expect(body.totals.output_tokens).toBe(15);
    const logged = gw.logs().filter((l) => l.msg === "request" && l.route === "chat.completions");
    const logUsd = logged.reduce((sum, l) => sum + (l.costUsd as number), 0);
    expect(body.totals.cost_usd).toBeCloseTo(logUsd, 9);
    expect(body.groups).toEqual([expect.objectContaining({ key: "solo", model: "m", series: [expect.objectContaining({ date: today, requests: 3 })] })]);
    // A month answers every day of it, zeros included.
    const month = (await (await admin(`/admin/spend/teams?month=${today.slice(0, 7)}&interval=day`)).json()) as { dates: string[]; groups: { team: string }[] };
    expect(month.dates.length).toBeGreaterThanOrEqual(28);
    expect(month.groups.map((g) => g.team)).toEqual(["ops"]);
  });

  it("answers bad queries with 400 naming the parameter, and a wrong admin key with 401", async () => {
    const bad = await admin("/admin/spend?from=2026-02-30&to=2026-03-01");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("from");
    expect((await admin("/admin/spend?group_by=planet")).status).toBe(400);
    expect((await admin("/admin/spend", "wrong-admin-key-000000")).status).toBe(401);
    expect((await fetch(`${gw.url}/admin/spend`, { method: "DELETE", headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(405);
  });

  it("logs refusals with their reason, and a line for the model list, admin calls and unknown paths", async () => {
    await (await chat(gw.url, { model: "m" }, { authorization: "Bearer sk-not-a-key", "x-request-id": "r-auth" })).text();
    await (await chat(gw.url, { model: "other" }, { authorization: `Bearer ${KEY}`, "x-request-id": "r-model" })).text();
    await (await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}`, "x-request-id": "r-models" } })).text();
    await (await fetch(`${gw.url}/nowhere`, { headers: { "x-request-id": "r-404" } })).text();
    await (await fetch(`${gw.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN}`, "x-request-id": "r-admin" } })).text();
    const line = (id: string) => gw.logs().find((l) => l.msg === "request" && l.reqId === id);
    expect(line("r-auth")).toMatchObject({ level: "info", status: 401, refusal: "invalid_key", errorCode: "invalid_api_key", clientIp: "127.0.0.1" });
    expect(line("r-model")).toMatchObject({ status: 403, refusal: "model_not_allowed", errorCode: "model_not_allowed", keyName: "solo" });
    expect(line("r-models")).toMatchObject({ route: "models", method: "GET", status: 200 });
    expect(line("r-404")).toMatchObject({ route: "not_found", path: "/nowhere", status: 404 });
    expect(line("r-admin")).toMatchObject({ route: "admin", path: "/admin/keys", status: 200 });
    expect(gw.rawLogs()).not.toContain(ADMIN);
  });
});

describe("spend query", () => {
  const now = Date.UTC(2026, 10, 15);
  it("defaults to the current month, takes a day, a month or a range", () => {
    expect(parseSpendQuery(new URLSearchParams(), now)).toMatchObject({ from: "2026-11-01", to: "2026-11-30", groupBy: [], interval: "total" });
    expect(parseSpendQuery(new URLSearchParams("month=2024-02"), now).dates).toHaveLength(29);
    expect(parseSpendQuery(new URLSearchParams("from=2026-01-30&to=2026-02-02&key=a&group_by=model,team"), now)).toMatchObject({ dates: ["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"], filter: { key: "a" }, groupBy: ["model", "team"] });
  });
  it("refuses mixed, reversed, unknown and too long ranges", () => {
    expect(() => parseSpendQuery(new URLSearchParams("date=2026-01-01&month=2026-01"), now)).toThrow(/one of/);
    expect(() => parseSpendQuery(new URLSearchParams("from=2026-02-01&to=2026-01-01"), now)).toThrow(/after/);
    expect(() => parseSpendQuery(new URLSearchParams("from=2020-01-01&to=2026-01-01"), now)).toThrow(/at most/);
    expect(() => parseSpendQuery(new URLSearchParams("colour=red"), now)).toThrow(/Unknown/);
  });
});
