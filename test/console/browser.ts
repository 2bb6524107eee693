/**
 * Debian's chromium, headless, driven by playwright-core: one browser per suite. The page's
 * console errors and uncaught exceptions are collected so a test can assert there were none.
 */
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    timeout: 30_000,
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and page errors so far, as text. */
  errors: string[];
}

export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") errors.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  return { page, errors };
}

export interface ConsoleSession extends WatchedPage {
  browser: Browser;
  context: BrowserContext;
}

/** A browser at laptop width, logged in to the console of the gateway at `gatewayUrl` with the admin key. */
export async function openConsole(gatewayUrl: string, adminKey: string): Promise<ConsoleSession> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(10_000);
  const { page, errors } = await watchedPage(context);
  await page.goto(`${gatewayUrl}/ui/`);
  await page.fill("#admin-key", adminKey);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#nav:not([hidden])");
  return { browser, context, page, errors };
}
