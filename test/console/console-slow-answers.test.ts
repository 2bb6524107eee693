/**
 * The console with slow answers, in chromium against a real gateway: on the Spend page an answer
 * that arrives after a newer one (the range or grouping changed meanwhile) must not replace it:
 * the page shows what its controls say.
 */
import type { Browser, Page, Route } from "playwright-core";
import { startTestGateway, type TestGateway } from "../helpers/gateway-harness";
import { openConsole } from "./browser";

jest.setTimeout(60_000);

const ADMIN_KEY = "sk-admin-console-slow-0123456789";

describe("the console with slow admin API answers", () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    gw = await startTestGateway({ models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }], auth: { adminKey: ADMIN_KEY, required: false } });
    // Some spend to show, by team and by key.
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) });
      await res.text();
    }
    ({ browser, page, errors } = await openConsole(gw.url, ADMIN_KEY));
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it("an older spend answer arriving last does not replace the newer one", async () => {
    let releaseTeam!: () => void;
    const teamHeld = new Promise<void>((r) => (releaseTeam = r));
    let teamAsked!: () => void;
    const teamRequested = new Promise<void>((r) => (teamAsked = r));
    const hold = async (route: Route) => {
      const url = new URL(route.request().url());
      if (url.pathname === "/admin/spend" && url.searchParams.get("group_by") === "team" && url.searchParams.get("interval") === "day") {
        teamAsked();
        await teamHeld;
      }
      await route.continue();
    };
    await page.goto(`${gw.url}/ui/#/overview`);
    await page.route("**/admin/spend?*", hold);
    try {
      await page.goto(`${gw.url}/ui/#/spend`);
      await teamRequested;
      await page.selectOption("#sp-group", "key");
      await page.waitForSelector("h2:has-text('By key')");
      releaseTeam();
      // The team answer lands now; give the page a moment to (wrongly) draw it.
      await page.waitForTimeout(500);
      expect(await page.locator("h2", { hasText: /^By (team|key)$/ }).allTextContents()).toEqual(["By key"]);
      expect(await page.inputValue("#sp-group")).toBe("key");
    } finally {
      releaseTeam();
      await page.unroute("**/admin/spend?*", hold);
    }
    expect(errors).toEqual([]);
  });
});
