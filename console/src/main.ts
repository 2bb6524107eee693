/** The console's shell: session check, hash routing between pages, live refresh, notices. */
import { ApiError, logout, resumeSession, setSessionLostHandler } from "./api";
import { clear, h } from "./dom";
import type { Page, PageFactory } from "./page";
import { keysPage } from "./pages/keys";
import { loginPage } from "./pages/login";
import { overviewPage } from "./pages/overview";
import { requestsPage } from "./pages/requests";
import { spendPage } from "./pages/spend";
import { targetsPage } from "./pages/targets";

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const logoutButton = document.getElementById("logout") as HTMLButtonElement;
const notice = document.getElementById("notice")!;

let timer: number | undefined;
let current: Page | null = null;
let noticeTimer: number | undefined;

function notify(text: string): void {
  notice.textContent = text;
  window.clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => (notice.textContent = ""), 8_000);
}

const PAGES: Record<string, PageFactory> = {
  overview: overviewPage,
  spend: spendPage,
  keys: (root) => keysPage(root, notify),
  targets: targetsPage,
  requests: requestsPage,
};

function stop(): void {
  window.clearTimeout(timer);
  timer = undefined;
  current = null;
}

async function refresh(page: Page, status: HTMLElement): Promise<void> {
  try {
    await page.refresh();
    status.textContent = "";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    status.textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (current === page && page.refreshMs) timer = window.setTimeout(() => void refresh(page, status), page.refreshMs);
}

function show(): void {
  stop();
  const name = location.hash.replace(/^#\/?/, "") || "overview";
  const factory = PAGES[name] ?? PAGES.overview;
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${name in PAGES ? name : "overview"}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clear(main);
  const status = h("p", { class: "error", role: "alert" });
  main.append(status);
  const page = factory(main);
  document.title = `${page.title} · AI Gateway console`;
  current = page;
  void refresh(page, status);
}

function showLogin(): void {
  stop();
  // A modal left open would make the login form under it inert.
  for (const open of document.querySelectorAll("dialog[open]")) (open as HTMLDialogElement).close("session-ended");
  nav.hidden = true;
  logoutButton.hidden = true;
  clear(main);
  document.title = "Log in · AI Gateway console";
  loginPage(main, started);
}

function started(): void {
  nav.hidden = false;
  logoutButton.hidden = false;
  show();
}

setSessionLostHandler(() => {
  notify("Your session ended: log in again.");
  showLogin();
});
window.addEventListener("hashchange", () => {
  if (!nav.hidden) show();
});
logoutButton.addEventListener("click", async () => {
  await logout();
  showLogin();
});

void resumeSession().then((ok) => (ok ? started() : showLogin()), () => showLogin());
