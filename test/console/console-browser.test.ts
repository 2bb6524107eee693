/**
 * The console end to end in a real browser (Debian's chromium, headless, playwright-core) against
 * a real gateway with two mock upstreams as real HTTP servers and a real Redis: log in (a wrong
 * key refused), send traffic with the openai SDK and see it on the overview, the spend chart and
 * the budgets (a key near its budget highlighted), create a key in the page and use it with the
 * SDK, disable it and see the SDK get AuthenticationError, kill an upstream and see its target
 * turn down, see recent requests without prompt text; a change without the CSRF token or without
 * the cookie is refused, and so is a cross-site form; no console errors on any page, at laptop
 * and phone widths. Screenshots of every page go to docs/console/ (shown in the README).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import OpenAI from "openai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { MockUpstream } from "../helpers/mock-upstream";
import { startRedis, type TestRedis } from "../helpers/redis-server";
import { launchChromium, watchedPage } from "./browser";

jest.setTimeout(90_000);

const ADMIN_KEY = "sk-admin-console-browser-0123456789";
const WEB_KEY = "sk-web-app-console-browser-0123";
const SHOTS = resolve(__dirname, "../../docs/console");
const PROMPT = "the prompt text must never reach the console";

/** Polls `check` until it returns true (or throws the last failure after `ms`). */
async function eventually(check: () => Promise<boolean>, ms = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the console in chromium", () => {
  let redis: TestRedis;
  let primary: MockUpstream;
  let secondary: MockUpstream;
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let base: string;

  const sdk = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });

  async function visit(name: string): Promise<void> {
    await page.goto(`${base}/ui/#/${name}`);
    await page.reload();
    await page.waitForSelector("#nav:not([hidden])");
  }

  async function shot(name: string, target: Page = page): Promise<void> {
    await target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    redis = await startRedis();
    primary = await MockUpstream.start("primary", { kind: "ok", tokens: 16, ttftMs: 30, interTokenMs: 2 });
    secondary = await MockUpstream.start("secondary", { kind: "ok", tokens: 16, ttftMs: 60, interTokenMs: 2 });
    gw = await startTestGateway({
      models: [
        { name: "gpt-console", strategy: "round-robin", targets: [{ name: "primary", baseUrl: primary.baseUrl, apiKey: "sk-upstream-primary-000" }, { name: "secondary", baseUrl: secondary.baseUrl, apiKey: "sk-upstream-secondary-000" }] },
        { name: "gpt-console-mini", fallbacks: ["gpt-console"], targets: [{ name: "mini", baseUrl: "mock://mini", mock: { ttftMs: 10, tokens: 8 } }] },
      ],
      redis: { url: redis.url, keyPrefix: `console-browser-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY },
      healthCheck: { enabled: true, intervalMs: 200, timeoutMs: 500, rise: 1, fall: 1 },
      keys: [{ name: "web-app", key: WEB_KEY, team: "frontend", limits: { monthlyBudgetUsd: 1 } }],
      teams: { frontend: { monthlyBudgetUsd: 20 } },
      // $0.01 per completion token: a 16-token answer costs $0.16.
      pricing: { "gpt-console": { inputPerMTok: 0, outputPerMTok: 10_000 }, "gpt-console-mini": { inputPerMTok: 0, outputPerMTok: 10_000 } },
    });
    base = gw.url;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
    ({ page, errors } = await watchedPage(context));
    context.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await primary?.stop();
    await secondary?.stop();
    await redis?.stop();
  });

  it("refuses a wrong admin key, then logs in with the right one", async () => {
    await page.goto(`${base}/ui/`);
    await page.waitForSelector("#login-form");
    await shot("login");
    await page.fill("#admin-key", "sk-wrong-admin-key-0000000000");
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#login-error:has-text('Wrong admin key')");
    expect(await page.inputValue("#admin-key")).toBe("");
    // The refused login is the one expected error (a 401 the browser logs); nothing else.
    expect(errors.every((e) => e.includes("401"))).toBe(true);
    errors.length = 0;
    await page.fill("#admin-key", ADMIN_KEY);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#nav:not([hidden])");
    await page.waitForSelector("#ov-rps");
    const cookies = await context.cookies(base);
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: "aigw_console", httpOnly: true, sameSite: "Strict", path: "/" });
    expect(cookies[0].expires).toBeGreaterThan(Date.now() / 1000 + 3600);
    // The admin key is nowhere in the browser's storage.
    const stored = await page.evaluate<string>("JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie })");
    expect(stored).not.toContain(ADMIN_KEY);
    expect(stored).not.toContain("aigw_console");
  });

  it("shows traffic sent with the openai SDK on the overview", async () => {
    const client = sdk(WEB_KEY);
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: "gpt-console", max_tokens: 16, messages: [{ role: "user", content: PROMPT }] });
    for (let i = 0; i < 2; i++) {
      const stream = await client.chat.completions.create({ model: "gpt-console", max_tokens: 16, stream: true, messages: [{ role: "user", content: PROMPT }] });
      for await (const _chunk of stream) void _chunk;
    }
    await client.chat.completions.create({ model: "gpt-console-mini", max_tokens: 16, messages: [{ role: "user", content: PROMPT }] });
    await visit("overview");
    await page.waitForSelector("#ov-models td:has-text('gpt-console')");
    const rps = Number(await page.textContent("#ov-rps"));
    expect(rps).toBeGreaterThan(0);
    const row = await page.locator("#ov-models tr", { hasText: "gpt-console-mini" }).count();
    expect(row).toBe(1);
    const row0 = page.locator("#ov-models tbody tr").filter({ has: page.locator("td:first-child", { hasText: /^gpt-console$/ }) });
    expect(await row0.locator("td").nth(1).textContent()).toBe("5");
    const ttftP50 = await row0.locator("td").nth(5).textContent();
    expect(ttftP50).toMatch(/ms$/);
    await eventually(async () => {
      await visit("overview");
      return (await page.textContent("#ov-spend-today"))?.trim() === "$0.88";
    }, 20_000, "spend today on the overview");
    expect((await page.textContent("#ov-spend-month"))?.trim()).toBe("$0.88");
    await shot("overview");
  });

  it("shows spend per team, key and model on the chart and table, with budgets near their limit highlighted", async () => {
    await visit("spend");
    await page.waitForSelector("#sp-table");
    expect(await page.textContent("#sp-total")).toBe("$0.88");
    expect(await page.locator("svg.chart rect.bar").count()).toBeGreaterThan(0);
    expect(await page.locator("#sp-table tbody tr", { hasText: "frontend" }).count()).toBe(1);
    await page.selectOption("#sp-group", "model");
    await page.waitForSelector("#sp-table tbody tr:has-text('gpt-console-mini')");
    // 5 answers of 16 tokens and one of 8, at $0.01 a token: $0.88 of web-app's $1, near its budget, said in words, not only colour.
    const verdict = page.locator("[data-budget='key:web-app']");
    await verdict.waitFor();
    expect((await verdict.textContent())?.trim()).toBe("▲ near budget");
    expect(await verdict.getAttribute("class")).toContain("warn");
    expect((await page.locator("[data-budget='team:frontend']").textContent())?.trim()).toBe("✓ within budget");
    const download = page.waitForEvent("download");
    await page.click("#sp-csv");
    const csvPath = await (await download).path();
    const csv = require("node:fs").readFileSync(csvPath, "utf8") as string;
    expect(csv.split("\r\n")[0]).toBe("model,requests,input_tokens,output_tokens,cost_usd");
    expect(csv).toContain("gpt-console,5,");
    await page.selectOption("#sp-group", "team");
    await page.waitForSelector("#sp-table tbody tr:has-text('frontend')");
    await shot("spend");
  });

  it("creates a key whose secret is shown once, which the openai SDK can use until it is disabled", async () => {
    await visit("keys");
    await page.waitForSelector("[data-key-name='web-app']");
    expect(await page.locator("tr", { hasText: "web-app" }).locator("td", { hasText: "read-only (config)" }).count()).toBe(1);
    await page.click("#keys-create");
    await page.fill("dialog input[name=name]", "console-made");
    await page.fill("dialog input[name=team]", "platform");
    await page.check("dialog input[name=models][value=gpt-console]");
    await page.fill("dialog input[name=monthlyBudgetUsd]", "25");
    await page.click("dialog button:has-text('Create')");
    await page.waitForSelector("#secret-value");
    const secret = await page.inputValue("#secret-value");
    expect(secret).toMatch(/^sk-gw-/);
    await page.click("#secret-copy");
    await page.waitForSelector("dialog [role=status]:has-text('Copied')");
    expect(await page.evaluate<string>("navigator.clipboard.readText()")).toBe(secret);
    await shot("keys-secret");
    await page.click("dialog button:has-text('Done')");
    await page.waitForSelector("[data-key-status='console-made']:has-text('active')");
    expect(await page.content()).not.toContain(secret);

    const answer = await sdk(secret).chat.completions.create({ model: "gpt-console", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    expect(answer.choices[0].message.content).toBeTruthy();
    await expect(sdk(secret).chat.completions.create({ model: "gpt-console-mini", messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);

    await page.click("button[data-action=disable][data-key='console-made']");
    await page.waitForSelector("[data-key-status='console-made']:has-text('disabled')");
    await eventually(async () => {
      try {
        await sdk(secret).chat.completions.create({ model: "gpt-console", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
        return false;
      } catch (err) {
        return err instanceof OpenAI.AuthenticationError;
      }
    }, 15_000, "the SDK to get AuthenticationError");
    await page.fill("#keys-search", "console");
    expect(await page.locator("#keys-table tbody tr").count()).toBe(1);
    await page.fill("#keys-search", "");
    await shot("keys");
  });

  it("refuses a change without the CSRF token, without the cookie, or from another site", async () => {
    const withCookieNoCsrf = await context.request.post(`${base}/admin/keys/console-made/enable`);
    expect(withCookieNoCsrf.status()).toBe(403);
    expect((await withCookieNoCsrf.json()).error.code).toBe("csrf_failed");
    const noCookie = await browser.newContext();
    const csrf = await page.evaluate<string>('fetch("/ui/api/session").then((r) => r.json()).then((b) => b.csrf_token)');
    const noCookieRes = await noCookie.request.post(`${base}/admin/keys/console-made/enable`, { headers: { "x-csrf-token": csrf } });
    expect(noCookieRes.status()).toBe(401);
    await noCookie.close();

    // A page on another site posts a form to the admin API in the logged-in browser.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<form id=f method=post action="${base}/admin/keys/console-made/enable"></form><script>document.getElementById("f").submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
    const evilPage = await context.newPage();
    await evilPage.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
    await evilPage.waitForURL(/\/admin\/keys\/console-made\/enable$/);
    expect(await evilPage.textContent("body")).toContain("invalid_api_key");
    await evilPage.close();
    await new Promise((r) => evil.close(r));
    await visit("keys");
    await page.waitForSelector("[data-key-status='console-made']:has-text('disabled')");
  });

  it("shows a killed target turn down, with the reason", async () => {
    await visit("targets");
    await page.waitForSelector("[data-target='secondary'][data-state='up']");
    await secondary.kill();
    await eventually(async () => {
      await visit("targets");
      return (await page.locator("[data-target='secondary'][data-state='down']").count()) === 1;
    }, 15_000, "the killed target to show down");
    expect((await page.locator("[data-target='secondary']").textContent())?.trim()).toBe("✕ down");
    expect(await page.locator("[data-target='primary'][data-state='up']").count()).toBe(1);
    expect(await page.textContent("[data-model='gpt-console'] h2")).toContain("1 of 2 targets usable");
    expect(await page.textContent("[data-model='gpt-console-mini']")).toContain("Fallbacks: gpt-console");
    await shot("targets");
  });

  it("lists recent requests with refusals, never their prompt text", async () => {
    // Another 16-token answer would take web-app past its $1 budget: refused up front.
    await expect(sdk(WEB_KEY).chat.completions.create({ model: "gpt-console", max_tokens: 16, messages: [{ role: "user", content: PROMPT }] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    await visit("requests");
    await page.waitForSelector("#rq-table tbody tr");
    const rows = await page.locator("#rq-table tbody tr").count();
    expect(rows).toBeGreaterThanOrEqual(9);
    expect(await page.locator("#rq-table tbody tr", { hasText: "429" }).count()).toBeGreaterThanOrEqual(1);
    expect(await page.content()).not.toContain(PROMPT);
    await page.selectOption("#rq-status", "refused");
    await eventually(async () => (await page.locator("#rq-table tbody tr").count()) >= 1 && (await page.locator("#rq-table tbody tr", { hasText: "200" }).count()) === 0, 5_000, "the refused filter");
    await page.selectOption("#rq-status", "");
    await page.waitForSelector("#rq-table tbody tr:has-text('200')");
    await shot("requests");
  });

  it("fits a phone screen, and no page logged an error", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, storageState: await context.storageState() });
    phone.setDefaultTimeout(10_000);
    const watched = await watchedPage(phone);
    for (const name of ["overview", "spend", "keys", "targets", "requests"]) {
      await watched.page.goto(`${base}/ui/#/${name}`);
      await watched.page.waitForSelector("main table");
      const overflow = await watched.page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
      expect(overflow).toBeLessThanOrEqual(0);
      if (name === "overview" || name === "keys") await watched.page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
    }
    await phone.close();
    expect(watched.errors).toEqual([]);
    expect(errors).toEqual([]);
  });
});
