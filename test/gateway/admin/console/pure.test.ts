/**
 * The console's pure parts: session tokens and CSRF tokens, the cookie, the log histogram's
 * quantiles, the rolling window, the request ring, budget verdicts and CSV export.
 */
import { cookieValue, sessionCookie } from "../../../../gateway/src/admin/console/cookies";
import { newHistogram, observe, quantile } from "../../../../gateway/src/admin/console/log-histogram";
import { RequestRing, type StoredRequest } from "../../../../gateway/src/admin/console/request-ring";
import { cameOverHttps, crossSiteProblem } from "../../../../gateway/src/admin/console/request-origin";
import { csrfMatches, csrfTokenOf, issueSession, sessionSigningKey, verifySession } from "../../../../gateway/src/admin/console/session-token";
import { displayUrl } from "../../../../gateway/src/admin/console/targets-view";
import { WindowStats } from "../../../../gateway/src/admin/console/window-stats";
import { budgetLine, sortBudgetLines } from "../../../../console/src/budget";
import { toCsv } from "../../../../console/src/csv";

describe("session tokens", () => {
  const key = sessionSigningKey("admin-key-0123456789abcdef");
  const t0 = Date.UTC(2026, 10, 1);

  it("verify until they expire, and not after", () => {
    const { token, claims } = issueSession(key, t0, 60_000);
    expect(verifySession(key, token, t0 + 59_999)).toEqual(claims);
    expect(verifySession(key, token, t0 + 60_000)).toBeNull();
  });

  it("are bound to the admin key, and cannot be altered", () => {
    const { token } = issueSession(key, t0, 60_000);
    expect(verifySession(sessionSigningKey("another-admin-key-0123456"), token, t0)).toBeNull();
    const [payload, mac] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const longer = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp * 2 })).toString("base64url");
    expect(verifySession(key, `${longer}.${mac}`, t0)).toBeNull();
    for (const bad of ["", ".", "a.b.c", `${payload}.`, `${payload}.${mac}x`, "x".repeat(600)]) expect(verifySession(key, bad, t0)).toBeNull();
  });

  it("the signing key is derived from the admin key, never equal to it", () => {
    expect(sessionSigningKey("admin-key-0123456789abcdef").toString("utf8")).not.toContain("admin-key");
    const { token } = issueSession(key, t0, 1000);
    expect(Buffer.from(token.split(".")[0], "base64url").toString()).not.toContain("admin-key");
  });

  it("a CSRF token belongs to one session", () => {
    const a = issueSession(key, t0, 1000).claims;
    const b = issueSession(key, t0, 1000).claims;
    expect(csrfMatches(key, a.sid, csrfTokenOf(key, a.sid))).toBe(true);
    expect(csrfMatches(key, a.sid, csrfTokenOf(key, b.sid))).toBe(false);
    expect(csrfMatches(key, a.sid, undefined)).toBe(false);
    expect(csrfMatches(key, a.sid, "")).toBe(false);
  });
});

describe("cookies and origins", () => {
  it("reads the named cookie and writes a strict one", () => {
    expect(cookieValue("a=1; aigw_console=tok.en; b=2", "aigw_console")).toBe("tok.en");
    expect(cookieValue("xaigw_console=1", "aigw_console")).toBeNull();
    expect(cookieValue(undefined, "aigw_console")).toBeNull();
    expect(sessionCookie("v", { secure: true, maxAgeSeconds: 60 })).toBe("__Host-aigw_console=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
  });

  it("believes X-Forwarded-Proto only from a trusted proxy", () => {
    expect(cameOverHttps(false, { "x-forwarded-proto": "https" }, false)).toBe(false);
    expect(cameOverHttps(false, { "x-forwarded-proto": "https" }, true)).toBe(true);
    expect(cameOverHttps(false, { "x-forwarded-proto": "http, https" }, true)).toBe(false);
    expect(cameOverHttps(true, {}, false)).toBe(true);
  });

  it("tells same-site requests from cross-site ones", () => {
    expect(crossSiteProblem({ host: "gw:8081" }, false)).toBeNull();
    expect(crossSiteProblem({ host: "gw:8081", origin: "http://gw:8081", "sec-fetch-site": "same-origin" }, false)).toBeNull();
    expect(crossSiteProblem({ host: "gw:8081", origin: "https://evil.example" }, false)).not.toBeNull();
    expect(crossSiteProblem({ host: "gw:8081", "sec-fetch-site": "cross-site" }, false)).not.toBeNull();
    expect(crossSiteProblem({ host: "gw:8081", origin: "null" }, false)).not.toBeNull();
    // Without a trusted proxy a client's X-Forwarded-Host is not believed.
    expect(crossSiteProblem({ host: "gw:8081", origin: "https://evil.example", "x-forwarded-host": "evil.example" }, false)).not.toBeNull();
    expect(crossSiteProblem({ host: "10.0.0.5:8081", origin: "https://console.example", "x-forwarded-host": "console.example" }, true)).toBeNull();
  });

  it("shows upstream URLs without credentials or query", () => {
    expect(displayUrl("https://user:pass@api.example.com/v1/?key=sk-123")).toBe("https://api.example.com/v1");
    expect(displayUrl("mock://t")).toBe("mock://t");
  });
});

describe("log histogram", () => {
  it("gives quantiles within 10% of the exact ones", () => {
    const h = newHistogram();
    const samples = Array.from({ length: 1000 }, (_, i) => 5 + i * 2);
    for (const s of samples) observe(h, s);
    expect(quantile(h, 0.5)! / 1004).toBeGreaterThan(0.9);
    expect(quantile(h, 0.5)! / 1004).toBeLessThan(1.1);
    expect(quantile(h, 0.95)! / 1904).toBeGreaterThan(0.9);
    expect(quantile(h, 0.95)! / 1904).toBeLessThan(1.1);
    expect(quantile(newHistogram(), 0.5)).toBeNull();
    observe(h, Number.NaN);
    observe(h, -1);
    observe(h, 1e12);
    expect(quantile(h, 0.5)! / 1004).toBeLessThan(1.1);
  });
});

describe("rolling window", () => {
  const t0 = 1_800_000_000_000;
  const sample = (at: number, status = 200, model = "m") => ({ at, model, targetId: `${model}/t`, status, latencyMs: 100, ttftMs: status === 200 ? 40 : null });

  it("counts requests per second over the last minute and error rates over the window", () => {
    const w = new WindowStats(t0 - 600_000);
    for (let i = 0; i < 120; i++) w.record(sample(t0 - 60_000 + i * 500));
    for (let i = 0; i < 10; i++) w.record(sample(t0 - 1000, 503));
    for (let i = 0; i < 10; i++) w.record(sample(t0 - 1000, 429));
    const s = w.summary(t0);
    expect(s.requests).toBe(140);
    expect(s.requestsPerSecond).toBeGreaterThan(2);
    expect(s.requestsPerSecond).toBeLessThan(2.5);
    expect(s.errorRate).toBeCloseTo(10 / 140, 3);
    expect(s.clientErrorRate).toBeCloseTo(10 / 140, 3);
    expect(s.models[0].ttft_p50_ms! / 40).toBeGreaterThan(0.9);
    expect(w.target("m/t", t0)).toMatchObject({ requests: 140, errors: 10 });
  });

  it("forgets traffic older than the window", () => {
    const w = new WindowStats(t0 - 3_600_000);
    w.record(sample(t0 - 400_000));
    expect(w.summary(t0).requests).toBe(0);
    w.record(sample(t0));
    expect(w.summary(t0).requests).toBe(1);
    expect(w.summary(t0 + 301_000).requests).toBe(0);
    expect(w.summary(t0).series.requests).toHaveLength(30);
  });
});

describe("request ring", () => {
  it("keeps the newest N, newest first", () => {
    const ring = new RequestRing(3);
    for (let i = 0; i < 5; i++) ring.push({ at: Date.UTC(2026, 0, 1, 0, 0, i), request_id: String(i), status: i % 2 ? 500 : 200 } as StoredRequest);
    expect(ring.newest(10).map((r) => r.request_id)).toEqual(["4", "3", "2"]);
    expect(ring.newest(10, (r) => r.status === 500).map((r) => r.request_id)).toEqual(["3"]);
    expect(ring.newest(1)).toMatchObject([{ request_id: "4", time: "2026-01-01T00:00:04.000Z" }]);
  });
});

describe("budgets and CSV", () => {
  it("marks keys near (80%) and over budget, worst first", () => {
    const lines = sortBudgetLines([budgetLine("key", "a", 1, 10), budgetLine("key", "b", 8, 10), budgetLine("team", "c", 12, 10)]);
    expect(lines.map((l) => [l.name, l.verdict, l.tone])).toEqual([
      ["c", "over budget", "bad"],
      ["b", "near budget", "warn"],
      ["a", "within budget", "ok"],
    ]);
  });

  it("quotes cells and defuses spreadsheet formulas", () => {
    expect(toCsv(["name", "cost"], [["a,b", 1.5], ['say "hi"', -2], ["=HYPERLINK(1)", "@cmd"]])).toBe('name,cost\r\n"a,b",1.5\r\n"say ""hi""",-2\r\n\'=HYPERLINK(1),\'@cmd\r\n');
  });
});
