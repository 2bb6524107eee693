/**
 * The key dialogs in chromium as a keyboard user and as a second admin would meet them, against a
 * real gateway and Redis: Enter in a field does what the dialog is for (not Cancel); an edit
 * changes only what the form changed (a key's expiry time and a model the config no longer lists
 * survive an edit of its team: sending the form whole would have moved the expiry to midnight and
 * widened the key to every model); a session that ends while a dialog is open leaves a usable
 * login form, not a modal over it.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { validateConfig } from "../../gateway/src/config/validate";
import type { GatewayConfigInput } from "../../gateway/src/config/schema";
import { startTestGateway, testConfig, type TestGateway } from "../helpers/gateway-harness";
import { startRedis, type TestRedis } from "../helpers/redis-server";
import { launchChromium, watchedPage } from "./browser";

jest.setTimeout(90_000);

const ADMIN_KEY = "sk-admin-console-dialogs-0123456789";

describe("the console's key dialogs", () => {
  let redis: TestRedis;
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let config: Partial<GatewayConfigInput> & Pick<GatewayConfigInput, "models">;

  const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(gw.url + path, { method, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  async function logIn(): Promise<void> {
    await page.goto(`${gw.url}/ui/#/keys`);
    await page.fill("#admin-key", ADMIN_KEY);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#nav:not([hidden])");
    await page.waitForSelector("#keys-create:not([disabled])");
  }

  beforeAll(async () => {
    redis = await startRedis();
    config = {
      models: [
        { name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] },
        { name: "m2", targets: [{ name: "t2", baseUrl: "mock://t2" }] },
      ],
      redis: { url: redis.url, keyPrefix: `console-dialogs-${Date.now()}:` },
      auth: { adminKey: ADMIN_KEY },
    };
    gw = await startTestGateway(config);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.setDefaultTimeout(10_000);
    ({ page, errors } = await watchedPage(context));
    await logIn();
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await redis?.stop();
  });

  it("Enter in the create form's name field creates the key and shows its secret", async () => {
    await page.click("#keys-create");
    await page.fill("dialog input[name=name]", "enter-made");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#secret-value");
    expect(await page.inputValue("#secret-value")).toMatch(/^sk-/);
    await page.keyboard.press("Enter"); // "Done, I stored it" is the dialog's only button
    await page.waitForSelector("dialog", { state: "detached" });
    expect((await admin("GET", "/admin/keys/enter-made")).name).toBe("enter-made");
  });

  it("Enter in the delete dialog deletes once the name is typed; Escape cancels", async () => {
    await admin("POST", "/admin/keys", { name: "to-delete" });
    await page.reload();
    await page.waitForSelector("[data-action=delete][data-key=to-delete]");
    await page.click("[data-action=delete][data-key=to-delete]");
    await page.keyboard.press("Escape");
    await page.waitForSelector("dialog", { state: "detached" });
    expect((await admin("GET", "/admin/keys/to-delete")).name).toBe("to-delete");
    await page.click("[data-action=delete][data-key=to-delete]");
    await page.fill("#delete-confirm", "to-delete");
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog", { state: "detached" });
    await page.waitForSelector("[data-key-name=to-delete]", { state: "detached" });
    const res = await fetch(`${gw.url}/admin/keys/to-delete`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(404);
    await res.text();
  });

  it("an edit of the team keeps the key's expiry time and a model the config no longer lists", async () => {
    await admin("POST", "/admin/keys", { name: "narrow", models: ["m2"], expires_at: "2031-03-04T18:30:00Z", owner: "ops@example.com" });
    // The operator drops m2 from the config; the key still names it (so it can use no model).
    gw.gateway.reload(() => validateConfig(testConfig({ ...config, models: config.models.filter((m) => m.name !== "m2") })));
    await page.reload();
    await page.waitForSelector("[data-action=edit][data-key=narrow]");
    await page.click("[data-action=edit][data-key=narrow]");
    await page.fill("dialog input[name=team]", "search");
    await page.click("dialog button:has-text('Save')");
    await page.waitForSelector("dialog", { state: "detached" });
    const key = await admin("GET", "/admin/keys/narrow");
    expect(key).toMatchObject({ team: "search", models: ["m2"], expires_at: "2031-03-04T18:30:00Z", owner: "ops@example.com" });
    const audit = (await admin("GET", "/admin/audit")) as { data: { action: string; target: { name: string }; changes: Record<string, unknown> }[] };
    const edit = audit.data.find((e) => e.action === "key.updated" && e.target.name === "narrow");
    expect(Object.keys(edit!.changes)).toEqual(["team"]);
    gw.gateway.reload(() => validateConfig(testConfig(config)));
  });

  it("a session that ends while a dialog is open leaves a usable login form", async () => {
    await page.reload();
    await page.waitForSelector("[data-action=edit][data-key=enter-made]");
    await page.click("[data-action=edit][data-key=enter-made]");
    await context.clearCookies();
    await page.fill("dialog input[name=team]", "gone");
    await page.click("dialog button:has-text('Save')");
    await page.waitForSelector("#login-form");
    expect(await page.locator("dialog[open]").count()).toBe(0);
    // The login form takes the keyboard (a modal left open would make it inert).
    await page.fill("#admin-key", ADMIN_KEY);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#nav:not([hidden])");
    expect((await admin("GET", "/admin/keys/enter-made")).team).toBe("default");
  });

  it("logged no console errors", () => {
    // The refused save above answers 401 on purpose; chromium logs that failed fetch.
    expect(errors.filter((e) => !/401 \(Unauthorized\)/.test(e))).toEqual([]);
  });
});
