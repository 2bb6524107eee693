/**
 * The client's address behind reverse proxies. X-Forwarded-For is a list each proxy appends its
 * peer's address to, so only the right-hand end was written by proxies we run; everything to
 * the left of them is whatever the client sent. The client is therefore the right-most hop that
 * is not one of our proxies: with a hop count N, the N-th entry from the right (the socket peer
 * being the first proxy); with CIDRs, walking from the socket peer leftwards past every trusted
 * address. Taking the left-most entry instead lets a client pick its own address.
 */
import { BlockList, isIP } from "node:net";

/** How many proxies sit in front of the gateway, or the CIDRs (IPv4 or IPv6) of the trusted ones. */
export type TrustedProxies = number | readonly string[];

export type ClientIpResolver = (socketAddress: string | undefined, forwardedFor: string | string[] | undefined) => string;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
export function normaliseIp(address: string): string {
  const trimmed = address.trim();
  if (trimmed.startsWith("::ffff:") && isIP(trimmed.slice(7)) === 4) return trimmed.slice(7);
  return trimmed;
}

/** Null when `cidr` is a valid `address/prefix` or bare address; else why not. */
export function cidrProblem(cidr: string): string | null {
  const [address, prefix, extra] = cidr.split("/");
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return "must be an IPv4 or IPv6 address or CIDR (10.0.0.0/8, fd00::/8)";
  if (prefix === undefined) return null;
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
  return bits >= 0 && bits <= (family === 4 ? 32 : 128) ? null : `prefix must be 0-${family === 4 ? 32 : 128}`;
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split("/");
    const family = isIP(address) === 4 ? "ipv4" : "ipv6";
    const normalised = normaliseIp(address);
    if (normalised !== address) list.addSubnet(normalised, prefix === undefined ? 32 : Math.max(0, Number(prefix) - 96), "ipv4");
    else list.addSubnet(address, prefix === undefined ? (family === "ipv4" ? 32 : 128) : Number(prefix), family);
  }
  return list;
}

function forwardedHops(forwardedFor: string | string[] | undefined): string[] {
  if (forwardedFor === undefined) return [];
  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor;
  // Clamped: a hop becomes a rate-limit key, and a client may write anything there.
  return joined.split(",").map((hop) => normaliseIp(hop).slice(0, 64)).filter((hop) => hop.length > 0);
}

/**
 * What a listener reached directly (the admin listener: Prometheus, port-forwards, an internal
 * network) may believe: only proxies listed by address. A hop count says "the ingress is always
 * in front", true of the public port only; on a direct connection the right-most
 * X-Forwarded-For entry is the client's own, and believing it would hand a guesser of the admin
 * key a fresh throttle allowance per request.
 */
export function directListenerTrust(trusted: TrustedProxies): TrustedProxies {
  return typeof trusted === "number" ? 0 : trusted;
}

/** A resolver for `trusted` (0: the socket peer, X-Forwarded-For ignored). */
export function clientIpResolver(trusted: TrustedProxies): ClientIpResolver {
  if (typeof trusted === "number") {
    if (trusted === 0) return (socketAddress) => normaliseIp(socketAddress ?? "unknown");
    return (socketAddress, forwardedFor) => {
      const hops = forwardedHops(forwardedFor);
      // The socket peer is proxy 1; proxy k appended the address of hop k+1. Fewer hops than
      // proxies: the request came through fewer of them, the left-most hop is the furthest known.
      if (hops.length === 0) return normaliseIp(socketAddress ?? "unknown");
      return hops[Math.max(0, hops.length - trusted)];
    };
  }
  const list = blockListOf(trusted);
  const isTrusted = (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
  };
  return (socketAddress, forwardedFor) => {
    let client = normaliseIp(socketAddress ?? "unknown");
    if (!isTrusted(client)) return client;
    const hops = forwardedHops(forwardedFor);
    for (let i = hops.length - 1; i >= 0; i--) {
      client = hops[i];
      if (!isTrusted(client)) return client;
    }
    return client;
  };
}
