/**
 * The console's only way to the gateway: the admin API with the session cookie (sent by the
 * browser, never readable here) and, on every change, the session's CSRF token. The admin key is
 * sent once, to /ui/api/login, and never kept.
 */

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string | null, message: string, readonly retryAfter: string | null = null) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onSessionLost: () => void = () => undefined;

export function setSessionLostHandler(handler: () => void): void {
  onSessionLost = handler;
}

interface SessionBody {
  csrf_token: string;
  expires_at: string;
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const error = (body as { error?: { message?: string; code?: string } } | null)?.error;
    throw new ApiError(res.status, error?.code ?? null, error?.message ?? `HTTP ${res.status}`, res.headers.get("retry-after"));
  }
  return body as T;
}

/** Resumes the session the cookie holds (after a reload); false when there is none. */
export async function resumeSession(): Promise<boolean> {
  const res = await fetch("/ui/api/session", { credentials: "same-origin", cache: "no-store" });
  const session = await parse<Partial<SessionBody> & { authenticated: boolean }>(res);
  csrfToken = session.authenticated && session.csrf_token ? session.csrf_token : null;
  return csrfToken !== null;
}

export async function login(adminKey: string): Promise<void> {
  const res = await fetch("/ui/api/login", { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify({ admin_key: adminKey }) });
  csrfToken = (await parse<SessionBody>(res)).csrf_token;
}

export async function logout(): Promise<void> {
  await fetch("/ui/api/logout", { method: "POST", credentials: "same-origin", headers: csrfToken ? { "x-csrf-token": csrfToken } : {} }).catch(() => undefined);
  csrfToken = null;
}

async function call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ data: T; etag: string | null }> {
  const init: RequestInit = { method, credentials: "same-origin", cache: "no-store", headers: { ...headers } };
  if (method !== "GET") (init.headers as Record<string, string>)["x-csrf-token"] = csrfToken ?? "";
  if (body !== undefined) {
    (init.headers as Record<string, string>)["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) {
    csrfToken = null;
    onSessionLost();
  }
  return { data: await parse<T>(res), etag: res.headers.get("etag") };
}

export const get = async <T>(path: string): Promise<T> => (await call<T>("GET", path)).data;
export const send = async <T>(method: "POST" | "PATCH" | "DELETE", path: string, body?: unknown, headers?: Record<string, string>): Promise<T> => (await call<T>(method, path, body, headers)).data;

/** `/admin/keys/<name>` with the name escaped. */
export const keyPath = (name: string, action?: string): string => `/admin/keys/${encodeURIComponent(name)}${action ? `/${action}` : ""}`;
