/**
 * The console's static files (the esbuild bundle in dist/console/, built by `npm run build`),
 * read once at start and served from memory with a strict Content-Security-Policy: scripts and
 * styles only from this origin, no inline script, no framing, nothing fetched from elsewhere.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Sent with every console answer (pages, assets and its JSON). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), clipboard-write=(self)",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The files the bundle consists of: `/ui/` is index.html. */
export const ASSET_FILES = ["index.html", "app.js", "app.css", "favicon.svg"] as const;

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The repository (or image) root: the nearest directory above this file with a package.json. */
function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
  return dir;
}

export function defaultAssetDir(): string {
  return resolve(packageRoot(__dirname), "dist", "console");
}

export class UiAssets {
  private readonly assets = new Map<string, Asset>();
  /** Why the console cannot be served (the bundle is missing), or null. */
  readonly problem: string | null;

  constructor(dir: string) {
    const missing: string[] = [];
    for (const file of ASSET_FILES) {
      const path = join(dir, file);
      if (!existsSync(path)) {
        missing.push(file);
        continue;
      }
      const body = readFileSync(path);
      const type = TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream";
      this.assets.set(file, { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"` });
    }
    this.problem = missing.length === 0 ? null : `The console bundle is missing from ${dir} (${missing.join(", ")}): run \`npm run build:console\`.`;
  }

  /** Serves `/ui/<file>`; false when there is no such file. */
  serve(file: string, req: IncomingMessage, res: ServerResponse): boolean {
    const asset = this.assets.get(file === "" ? "index.html" : file);
    if (asset === undefined) return false;
    const headers: Record<string, string | number> = { ...SECURITY_HEADERS, "content-type": asset.type, etag: asset.etag, "cache-control": "no-cache" };
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    headers["content-length"] = asset.body.length;
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : asset.body);
    return true;
  }
}
