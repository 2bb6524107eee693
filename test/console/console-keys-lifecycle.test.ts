/**
 * The key lifecycle from the console in chromium, against a real gateway and Redis: edit a key's
 * plan, limits, models and team (the admin API's PATCH with If-Match), rotate it (the new secret
 * shown once; the openai SDK works with both secrets during the overlap), and delete it after
 * typing its name (the SDK then gets AuthenticationError). The audit log names the console
 * session as the credential.
 */
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";
import { openConsole } from "./browser";

jest.setTimeout(90_000);

const ADMIN_KEY = "sk-admin-console-lifecycle-0123456789";

describe("the key lifecycle from the console", () => {
  let redis: TestRedis;
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  const sdk = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  const ask = (apiKey: string, model = "m") => sdk(apiKey).chat.completions.create({ model, max_tokens: 8, messages: [{ role: "user", content: "hi" }] });

  beforeAll(async () => {
    redis = await startRedis();
    gw = await startTestGateway({
      models: [
        { name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] },
        { name: "m2", targets: [{ name: "t2", baseUrl: "mock://t2" }] },
      ],
      redis: { url: redis.url, keyPrefix: `console-lifecycle-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY },
      plans: { gold: { requestsPerMinute: 600 } },
      pricing: { m: { inputPerMTok: 1, outputPerMTok: 1 }, m2: { inputPerMTok: 1, outputPerMTok: 1 } },
    });
    ({ browser, page, errors } = await openConsole(gw.url, ADMIN_KEY));
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await redis?.stop();
  });

  it("keeps Create disabled until the model list has arrived, so a form never offers no models; Cancel closes an empty form", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    await page.route("**/admin/targets", async (route) => {
      await held;
      await route.continue();
    });
    try {
      await page.goto(`${gw.url}/ui/#/keys`);
      await page.reload();
      await page.waitForSelector("#keys-create");
      expect(await page.isDisabled("#keys-create")).toBe(true);
      release();
      await page.waitForSelector("#keys-create:not([disabled])");
      await page.click("#keys-create");
      expect(await page.locator("dialog input[name=models]").evaluateAll((boxes) => boxes.map((b) => (b as unknown as { value: string }).value))).toEqual(["m", "m2"]);
      await page.click("dialog button:has-text('Cancel')"); // with the required name still empty
      await page.waitForSelector("dialog", { state: "detached" });
    } finally {
      release();
      await page.unroute("**/admin/targets");
    }
  });

  it("creates, edits, rotates and deletes a key, each seen by the openai SDK", async () => {
    await page.goto(`${gw.url}/ui/#/keys`);
    await page.click("#keys-create");
    await page.fill("dialog input[name=name]", "life");
    await page.check("dialog input[name=models][value=m]");
    await page.click("dialog button:has-text('Create')");
    const first = await page.inputValue("#secret-value");
    await page.click("dialog button:has-text('Done')");
    await ask(first);
    await expect(ask(first, "m2")).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);

    await page.click("button[data-action=edit][data-key='life']");
    await page.selectOption("dialog select[name=plan]", "gold");
    await page.fill("dialog input[name=team]", "research");
    await page.check("dialog input[name=models][value=m2]");
    await page.fill("dialog input[name=monthlyBudgetUsd]", "42");
    await page.fill("dialog input[name=owner]", "alice@example.com");
    await page.click("dialog button:has-text('Save')");
    const row = page.locator("#keys-table tbody tr", { hasText: "life" });
    await row.locator("td", { hasText: "research" }).waitFor();
    expect(await row.textContent()).toContain("gold");
    expect(await row.textContent()).toContain("$42.00");
    expect(await row.textContent()).toContain("alice@example.com");
    await ask(first, "m2");

    await page.click("button[data-action=rotate][data-key='life']");
    await page.fill("dialog input[name=overlap_seconds]", "600");
    await page.click("dialog button:has-text('Rotate')");
    const second = await page.inputValue("#secret-value");
    expect(second).not.toBe(first);
    await page.click("dialog button:has-text('Done')");
    await ask(second);
    await ask(first); // the overlap

    await page.click("button[data-action=delete][data-key='life']");
    await page.click("dialog button:has-text('Delete')");
    await page.waitForSelector("dialog [role=alert]:has-text('Type life exactly')");
    await page.fill("#delete-confirm", "life");
    await page.click("dialog button:has-text('Delete')");
    await page.waitForSelector("#keys-table:not(:has-text('research'))");
    await expect(ask(second)).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

    const audit = (await (await fetch(`${gw.url}/admin/audit?key=life`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as { data: { action: string; actor: { credential: string } }[] };
    expect(audit.data.map((e) => e.action)).toEqual(["key.deleted", "key.rotated", "key.updated", "key.created"]);
    expect(audit.data.every((e) => e.actor.credential === "console_session")).toBe(true);
    expect(errors).toEqual([]);
  });
});
