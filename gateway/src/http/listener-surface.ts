/**
 * Which endpoints a listener serves. With `server.adminPort` set the public listener serves the
 * API only and the admin listener serves the operator's endpoints (`/metrics`, `/admin/…`, the
 * console under `/ui/`): key names, teams, budgets and target health stay off the public port.
 * Probes (`/healthz`, `/readyz`) answer on both, so kubelets and load balancers can use either.
 */

/** `all`: one listener serves everything (no adminPort); `public` and `admin`: the split. */
export type ListenerSurface = "all" | "public" | "admin";

/** The operator's paths, every one of them; a new admin endpoint belongs under one of these prefixes. */
export function isAdminSurfacePath(path: string): boolean {
  return path === "/metrics" || path === "/admin" || path.startsWith("/admin/") || path === "/ui" || path.startsWith("/ui/");
}

/** Whether a listener of `surface` serves `path` (probes: everywhere; the API: not on the admin port). */
export function surfaceServes(surface: ListenerSurface, path: string): boolean {
  if (surface === "all" || path === "/healthz" || path === "/readyz") return true;
  return isAdminSurfacePath(path) === (surface === "admin");
}
