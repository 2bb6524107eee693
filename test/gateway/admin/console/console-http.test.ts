/**
 * The console's server side over real HTTP, against a real gateway and a real Redis: login with
 * the admin key gives an HttpOnly SameSite=Strict cookie (Secure when the request came over HTTPS
 * through a trusted proxy) and never echoes the key; wrong keys are refused, logged and throttled
 * with the admin API's allowance; the session works with the admin API, but a change without the
 * CSRF token, from another site, or without the cookie is refused; logout and forged cookies end
 * nothing but the session; every console answer carries a strict CSP.
 */
import { startTestGateway, type TestGateway } from "../../../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../../../helpers/redis-server";

const ADMIN_KEY = "sk-admin-console-http-0123456789";
const models = [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }];

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
}

describe("console sessions over HTTP", () => {
  let redis: TestRedis;
  let gw: TestGateway;
  let base: string;
  /** Each test comes from its own address (through the trusted proxy), so each has its own failure allowance. */
  let testIp = 0;
  beforeEach(() => {
    testIp += 1;
  });
  const call = (url: string, init: RequestInit = {}): Promise<Response> =>
    fetch(url, { ...init, headers: { "x-forwarded-for": `198.51.100.${testIp}`, ...(init.headers as Record<string, string>) } });

  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({
      models,
      redis: { url: redis.url, keyPrefix: `console-http-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY, adminThrottle: { failures: 6, windowMs: 600_000 } },
      server: { trustedProxies: ["127.0.0.1/32"] },
      teams: { web: { monthlyBudgetUsd: 50 } },
    });
    base = gw.url;
  });
  afterAll(async () => {
    await gw.close();
    await redis.stop();
  });

  async function login(key: string, headers: Record<string, string> = {}): Promise<{ res: Response; body: any }> {
    const res = await call(`${base}/ui/api/login`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ admin_key: key }) });
    return { res, body: await res.json() };
  }

  async function session(headers: Record<string, string> = {}): Promise<Session> {
    const { res, body } = await login(ADMIN_KEY, headers);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie") ?? "";
    return { setCookie, cookie: setCookie.split(";")[0], csrf: body.csrf_token };
  }

  it("logs in with the admin key: HttpOnly, SameSite=Strict, expiring cookie; the key is never in the answer or the log", async () => {
    const s = await session();
    expect(s.setCookie).toMatch(/^aigw_console=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect(s.setCookie).not.toContain("Secure");
    expect(s.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.setCookie).not.toContain(ADMIN_KEY);
    const again = await call(`${base}/ui/api/session`, { headers: { cookie: s.cookie } });
    expect(again.status).toBe(200);
    const body = (await again.json()) as { csrf_token: string; expires_at: string };
    expect(body.csrf_token).toBe(s.csrf);
    expect(Date.parse(body.expires_at) - Date.now()).toBeGreaterThan(7.9 * 3600_000);
    expect(gw.rawLogs()).not.toContain(ADMIN_KEY);
    expect(gw.logs().some((l) => l.event === "console_login")).toBe(true);
  });

  it("sets Secure and the __Host- prefix when a trusted proxy says the request came over HTTPS", async () => {
    const s = await session({ "x-forwarded-proto": "https" });
    expect(s.setCookie).toMatch(/^__Host-aigw_console=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const res = await call(`${base}/admin/keys`, { headers: { cookie: s.cookie } });
    expect(res.status).toBe(200);
  });

  it("serves the page and its assets under a strict CSP without inline script", async () => {
    for (const path of ["/ui/", "/ui/app.js", "/ui/app.css"]) {
      const res = await call(base + path);
      expect(res.status).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      if (path === "/ui/") {
        const html = await res.text();
        expect(html).toContain('<script src="app.js" defer></script>');
        expect(html).not.toMatch(/<script>(?!<)/);
        expect(html).not.toMatch(/ on[a-z]+=/);
      } else await res.arrayBuffer();
    }
    const redirect = await call(`${base}/ui`, { redirect: "manual" });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/ui/");
    expect((await call(`${base}/ui/nope.js`)).status).toBe(404);
  });

  it("the session reads and changes through the admin API; a change needs the CSRF token and the cookie", async () => {
    const s = await session();
    const list = await call(`${base}/admin/keys`, { headers: { cookie: s.cookie } });
    expect(list.status).toBe(200);

    const body = JSON.stringify({ name: "from-console" });
    const noCsrf = await call(`${base}/admin/keys`, { method: "POST", headers: { cookie: s.cookie, "content-type": "application/json" }, body });
    expect(noCsrf.status).toBe(403);
    expect(((await noCsrf.json()) as any).error.code).toBe("csrf_failed");

    const wrongCsrf = await call(`${base}/admin/keys`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": "A".repeat(43), "content-type": "application/json" }, body });
    expect(wrongCsrf.status).toBe(403);

    const other = await session();
    const otherSessionsToken = await call(`${base}/admin/keys`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": other.csrf, "content-type": "application/json" }, body });
    expect(otherSessionsToken.status).toBe(403);

    const crossSite = await call(`${base}/admin/keys`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, origin: "https://evil.example", "content-type": "application/json" }, body });
    expect(crossSite.status).toBe(403);

    const noCookie = await call(`${base}/admin/keys`, { method: "POST", headers: { "x-csrf-token": s.csrf, "content-type": "application/json" }, body });
    expect(noCookie.status).toBe(401);

    const listed = (await (await call(`${base}/admin/keys`, { headers: { cookie: s.cookie } })).json()) as { data: { name: string }[] };
    expect(listed.data.map((k) => k.name)).not.toContain("from-console");

    const ok = await call(`${base}/admin/keys`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf, "content-type": "application/json", origin: base }, body });
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { key: string }).key).toMatch(/^sk-gw-/);
  });

  it("refuses forged, tampered and logged-out cookies", async () => {
    const s = await session();
    const [payload, mac] = s.cookie.split("=")[1].split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const extended = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86_400_000 })).toString("base64url");
    for (const cookie of [`aigw_console=${extended}.${mac}`, `aigw_console=${payload}.${"A".repeat(43)}`, "aigw_console=garbage"]) {
      expect((await call(`${base}/admin/keys`, { headers: { cookie } })).status).toBe(401);
      const resumed = await call(`${base}/ui/api/session`, { headers: { cookie } });
      expect(resumed.status).toBe(200);
      expect(await resumed.json()).toEqual({ object: "gateway.console.session", authenticated: false });
    }
    const noCsrfLogout = await call(`${base}/ui/api/logout`, { method: "POST", headers: { cookie: s.cookie } });
    expect(noCsrfLogout.status).toBe(403);
    const out = await call(`${base}/ui/api/logout`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf } });
    expect(out.status).toBe(200);
    expect(out.headers.get("set-cookie")).toMatch(/^aigw_console=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    expect((await call(`${base}/admin/keys`, { headers: { cookie: s.cookie } })).status).toBe(401);
  });

  it("serves the console's read-only endpoints to a session or the Bearer key", async () => {
    const s = await session();
    await call(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "secret prompt text" }] }) });
    for (const path of ["/admin/overview", "/admin/targets", "/admin/requests", "/admin/budgets"]) {
      const viaSession = await call(base + path, { headers: { cookie: s.cookie } });
      expect(viaSession.status).toBe(200);
      const viaBearer = await call(base + path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(viaBearer.status).toBe(200);
      const text = await viaBearer.text();
      expect(text).not.toContain("secret prompt text");
      expect((await call(base + path)).status).toBe(401);
    }
    const budgets = (await (await call(`${base}/admin/budgets`, { headers: { cookie: s.cookie } })).json()) as any;
    expect(budgets.teams).toEqual([{ team: "web", monthly_budget_usd: 50 }]);
    const bad = await call(`${base}/admin/requests?limit=0`, { headers: { cookie: s.cookie } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.param).toBe("limit");
    expect((await call(`${base}/admin/overview`, { method: "POST", headers: { cookie: s.cookie, "x-csrf-token": s.csrf } })).status).toBe(405);
  });

  it("refuses a login sent as a form or from another site", async () => {
    const form = await call(`${base}/ui/api/login`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `admin_key=${ADMIN_KEY}` });
    expect(form.status).toBe(415);
    const { res } = await login(ADMIN_KEY, { origin: "https://evil.example" });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  // Last: it spends this address's allowance of failed authentications.
  it("refuses a wrong admin key, logs it without the key, and throttles the address with the admin API's allowance", async () => {
    const ip = { "x-forwarded-for": "203.0.113.9" };
    const wrong = await login("sk-wrong-admin-key-000000000", ip);
    expect(wrong.res.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_api_key");
    expect(wrong.res.headers.get("set-cookie")).toBeNull();
    const failure = gw.logs().find((l) => l.event === "admin_auth_failed" && l.path === "/ui/api/login");
    expect(failure).toMatchObject({ clientIp: "203.0.113.9", reason: "wrong_key" });
    expect(gw.rawLogs()).not.toContain("sk-wrong-admin-key-000000000");
    // The console and the admin API share one allowance (6 failures here).
    expect((await call(`${base}/admin/keys`, { headers: { authorization: "Bearer sk-wrong-2-000000000000", ...ip } })).status).toBe(401);
    expect((await call(`${base}/admin/overview`, { headers: { cookie: "aigw_console=forged.cookie", ...ip } })).status).toBe(401);
    expect((await login("sk-wrong-3-000000000000", ip)).res.status).toBe(401);
    expect((await login("", ip)).res.status).toBe(401);
    expect((await login("sk-wrong-4-000000000000", ip)).res.status).toBe(401);
    const throttled = await login(ADMIN_KEY, ip);
    expect(throttled.res.status).toBe(429);
    expect(Number(throttled.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(throttled.res.headers.get("set-cookie")).toBeNull();
  });
});
