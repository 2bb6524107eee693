/** A small client of the admin API for tests: JSON in, status, JSON and headers out. */
export interface AdminReply {
  status: number;
  json: Record<string, any>;
  etag: string | null;
}

export const ADMIN_KEY = "admin-secret-0123456789";

export function adminClient(url: string, actor = "alice@example.com") {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<AdminReply> => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", "x-admin-actor": actor, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, any>, etag: res.headers.get("etag") };
  };
}
