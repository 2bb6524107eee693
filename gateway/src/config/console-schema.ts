/** The `console` section: the admin web console served at `/ui/` (see admin/console/). */
import { z } from "zod";

export const consoleSchema = z
  .object({
    /** Serve the console (only ever where the admin API is served, and only with `auth.adminKey`). */
    enabled: z.boolean().default(true),
    /** How long a login lasts (8 hours by default; at most 7 days). */
    sessionTtlMs: z.number().int().min(60_000).max(7 * 24 * 3600 * 1000).default(8 * 3600 * 1000),
    /**
     * The session cookie's Secure flag: by default set when the request came over HTTPS (TLS, or
     * `X-Forwarded-Proto: https` from a trusted proxy); `true` forces it (the console behind TLS
     * the gateway cannot see), `false` never sets it.
     */
    secureCookie: z.boolean().optional(),
    /** Request records kept per replica for the "recent requests" page (metadata only). */
    recentRequests: z.number().int().min(0).max(10_000).default(500),
  })
  .strict()
  .default({});
