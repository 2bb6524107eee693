/**
 * The console's server side, on whichever listener serves the admin API (the admin listener
 * when `server.adminPort` is set):
 *   /ui/…                  the bundle (./ui-assets.ts), under a strict CSP
 *   POST /ui/api/login     the admin key in, an HttpOnly SameSite=Strict session cookie out (throttled and logged like the admin API)
 *   GET  /ui/api/session   whether there is a session, and its CSRF token and expiry
 *   POST /ui/api/logout    ends the session
 * and, in front of the admin API (`wrapAdmin`): a request with a valid session cookie counts as
 * authenticated (a change also needs the session's CSRF token in `x-csrf-token` and no
 * cross-site Origin), and the console's read-only endpoints (./console-api.ts). The console adds
 * no way to change anything: every change goes through the admin API's own handlers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { extractKey } from "../../auth/extract";
import { secretMatches } from "../../auth/key-hash";
import { GatewayError } from "../../errors";
import type { GatewayConfig } from "../../config/schema";
import type { Router } from "../../routing/router";
import type { LoggerPort } from "../../traffic/metrics-port";
import type { AdminAuthThrottle } from "../auth-throttle";
import { readJson, sendError } from "../respond";
import { answerConsoleResource, CONSOLE_RESOURCES, type ConsoleResource } from "./console-api";
import type { ConsoleRecorder } from "./recorder";
import { crossSiteProblem } from "./request-origin";
import { markConsoleSession } from "./session-mark";
import { ConsoleSessions, isSafeMethod } from "./sessions";
import type { SessionClaims } from "./session-token";
import { SECURITY_HEADERS, type UiAssets } from "./ui-assets";

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, clientIp: string) => Promise<void>;

export interface ConsoleDeps {
  /** The admin key now (a reload may change it). */
  adminKey: () => string;
  /** The admin API's throttle of failed authentications (shared, so the console adds no allowance). */
  throttle: () => AdminAuthThrottle;
  logger: LoggerPort;
  router: () => Router;
  config: () => Pick<GatewayConfig, "teams" | "plans">;
  inflight: () => number;
  recorder: ConsoleRecorder;
  assets: UiAssets;
  sessions: ConsoleSessions;
  trustProxy: boolean;
  now?: () => number;
}

function pathAndQuery(url: string | undefined): { path: string; query: URLSearchParams } {
  const raw = url ?? "/";
  const at = raw.indexOf("?");
  return { path: at === -1 ? raw : raw.slice(0, at), query: new URLSearchParams(at === -1 ? "" : raw.slice(at + 1)) };
}

function sendConsoleJson(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...SECURITY_HEADERS, ...extra, "content-type": "application/json", "content-length": Buffer.byteLength(body), "cache-control": "no-store" });
  res.end(body);
}

/** 403 in OpenAI's error shape: the request is authenticated but may not change anything this way. */
function sendForbidden(res: ServerResponse, code: string, message: string): void {
  sendConsoleJson(res, 403, { error: { message, type: "permission_error", param: null, code } });
}

function consoleResourceOf(path: string): ConsoleResource | null {
  const parts = path.split("/");
  if (parts.length !== 3 || parts[1] !== "admin") return null;
  return (CONSOLE_RESOURCES as readonly string[]).includes(parts[2]) ? (parts[2] as ConsoleResource) : null;
}

export class ConsoleServer {
  private readonly now: () => number;

  constructor(private readonly deps: ConsoleDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Everything under `/ui`. */
  async handleUi(req: IncomingMessage, res: ServerResponse, clientIp: string): Promise<void> {
    const { path } = pathAndQuery(req.url);
    const method = req.method ?? "GET";
    try {
      this.deps.sessions.useAdminKey(this.deps.adminKey());
      if (path === "/ui") {
        req.resume();
        res.writeHead(308, { ...SECURITY_HEADERS, location: "/ui/", "content-length": 0 });
        return void res.end();
      }
      if (path === "/ui/api/login") return await this.login(req, res, clientIp, method);
      if (path === "/ui/api/session") return this.session(req, res, method);
      if (path === "/ui/api/logout") return this.logout(req, res, clientIp, method);
      req.resume();
      if (method !== "GET" && method !== "HEAD") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on ${path.slice(0, 200)}.`);
      if (this.deps.assets.problem !== null) throw new GatewayError("GW_ERR_NOT_FOUND", this.deps.assets.problem);
      const file = path.slice("/ui/".length);
      if (!this.deps.assets.serve(file, req, res)) throw new GatewayError("GW_ERR_NOT_FOUND", `Unknown console path ${path.slice(0, 200)}.`);
    } catch (err) {
      this.fail(res, err, path);
    }
  }

  /** The admin API with the console's session accepted and its read-only endpoints added. */
  wrapAdmin(inner: AdminHandler | null): AdminHandler {
    return async (req, res, clientIp) => {
      const { path, query } = pathAndQuery(req.url);
      try {
        this.deps.sessions.useAdminKey(this.deps.adminKey());
        const resource = consoleResourceOf(path);
        if (resource !== null) {
          await this.authenticate(req, path, clientIp);
          if (req.method !== "GET" && req.method !== "HEAD") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${req.method} is not allowed on ${path}; use GET.`);
          const state = { recorder: this.deps.recorder, router: this.deps.router(), config: this.deps.config(), inflight: this.deps.inflight(), now: this.now() };
          return sendConsoleJson(res, 200, answerConsoleResource(resource, state, query));
        }
        // A Bearer key goes to the admin API as before; a session is checked here, then marked.
        if (extractKey(req.headers) === null) {
          const claims = this.deps.sessions.read(req);
          if (claims !== null) {
            const refusal = this.changeRefusal(req, claims);
            if (refusal !== null) return this.refuseChange(req, res, clientIp, path, refusal);
            markConsoleSession(req);
          }
        }
        if (inner === null) throw new GatewayError("GW_ERR_NOT_FOUND", `No admin route ${req.method} ${path.slice(0, 200)}.`);
        return await inner(req, res, clientIp);
      } catch (err) {
        this.fail(res, err, path);
      }
    };
  }

  /** For the console's own endpoints: a session, or the Bearer admin key; throttled as the admin API. */
  private async authenticate(req: IncomingMessage, path: string, clientIp: string): Promise<void> {
    const throttle = this.deps.throttle();
    const attempt = await throttle.reserve(clientIp, path);
    const presented = extractKey(req.headers);
    if (presented === null && this.deps.sessions.read(req) !== null) return throttle.release(attempt, clientIp);
    if (presented !== null && secretMatches(presented, this.deps.adminKey())) return throttle.release(attempt, clientIp);
    throttle.failed(clientIp, path, req.method ?? "GET", presented === null ? "missing_key" : "wrong_key");
    throw new GatewayError("GW_ERR_INVALID_API_KEY", "Invalid admin key.");
  }

  /** Why a session may not make this request (a change without its CSRF token, or from another site); null when it may. */
  private changeRefusal(req: IncomingMessage, claims: SessionClaims): string | null {
    if (isSafeMethod(req.method)) return null;
    const crossSite = crossSiteProblem(req.headers, this.deps.trustProxy);
    if (crossSite !== null) return `cross-site request refused (${crossSite})`;
    return this.deps.sessions.csrfValid(req, claims) ? null : "missing or wrong CSRF token (x-csrf-token)";
  }

  private refuseChange(req: IncomingMessage, res: ServerResponse, clientIp: string, path: string, why: string): void {
    req.resume();
    this.deps.logger.warn({ event: "console_csrf_refused", clientIp, method: req.method, path: path.slice(0, 200), why }, "console: change refused");
    sendForbidden(res, "csrf_failed", `Refused: ${why}. Changes from the console need its session's CSRF token.`);
  }

  private async login(req: IncomingMessage, res: ServerResponse, clientIp: string, method: string): Promise<void> {
    if (method !== "POST") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on /ui/api/login; use POST.`);
    const type = req.headers["content-type"] ?? "";
    // JSON only: a cross-site HTML form cannot send it without a CORS preflight, which is never granted.
    if (!type.toLowerCase().startsWith("application/json")) {
      req.resume();
      throw new GatewayError("GW_ERR_UNSUPPORTED_MEDIA_TYPE", "Send the admin key as JSON: {\"admin_key\": \"…\"}.");
    }
    const crossSite = crossSiteProblem(req.headers, this.deps.trustProxy);
    if (crossSite !== null) {
      req.resume();
      return sendForbidden(res, "cross_site", `Login refused: ${crossSite}.`);
    }
    const throttle = this.deps.throttle();
    const attempt = await throttle.reserve(clientIp, "/ui/api/login");
    const body = await readJson(req);
    const presented = body !== null && typeof body === "object" && typeof (body as Record<string, unknown>).admin_key === "string" ? ((body as Record<string, unknown>).admin_key as string) : null;
    if (presented === null || presented.length === 0 || !secretMatches(presented, this.deps.adminKey())) {
      throttle.failed(clientIp, "/ui/api/login", method, presented === null || presented.length === 0 ? "missing_key" : "wrong_key");
      throw new GatewayError("GW_ERR_INVALID_API_KEY", "Invalid admin key.");
    }
    throttle.release(attempt, clientIp);
    const session = this.deps.sessions.open(req);
    this.deps.logger.info({ event: "console_login", clientIp, expiresAt: session.expiresAt }, "console: logged in");
    sendConsoleJson(res, 200, { object: "gateway.console.session", csrf_token: session.csrfToken, expires_at: session.expiresAt }, { "set-cookie": session.cookie });
  }

  private session(req: IncomingMessage, res: ServerResponse, method: string): void {
    req.resume();
    if (method !== "GET") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on /ui/api/session; use GET.`);
    const claims = this.deps.sessions.read(req);
    // Not an error: the page asks this on every load to learn whether to show the login form.
    if (claims === null) return sendConsoleJson(res, 200, { object: "gateway.console.session", authenticated: false });
    const { csrfToken, expiresAt } = this.deps.sessions.describe(claims);
    sendConsoleJson(res, 200, { object: "gateway.console.session", authenticated: true, csrf_token: csrfToken, expires_at: expiresAt });
  }

  private logout(req: IncomingMessage, res: ServerResponse, clientIp: string, method: string): void {
    req.resume();
    if (method !== "POST") throw new GatewayError("GW_ERR_METHOD_NOT_ALLOWED", `${method} is not allowed on /ui/api/logout; use POST.`);
    const claims = this.deps.sessions.read(req);
    if (claims !== null) {
      const refusal = this.changeRefusal(req, claims);
      if (refusal !== null) return this.refuseChange(req, res, clientIp, "/ui/api/logout", refusal);
      this.deps.logger.info({ event: "console_logout", clientIp }, "console: logged out");
    }
    sendConsoleJson(res, 200, { object: "gateway.console.session.deleted", deleted: claims !== null }, { "set-cookie": this.deps.sessions.close(req, claims) });
  }

  private fail(res: ServerResponse, err: unknown, path: string): void {
    if (!(err instanceof GatewayError)) this.deps.logger.error({ err: err instanceof Error ? err.message : String(err), path: path.slice(0, 200) }, "console request failed");
    if (res.headersSent) return void res.destroy();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    res.setHeader("cache-control", "no-store");
    sendError(res, err instanceof GatewayError ? err : new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The admin store is unavailable; try again shortly."));
  }
}
