/** X-Request-Id: the caller's when it is sane (so traces join up), else a fresh one. */
import { randomUuid } from "./uuid";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === "string" && SAFE_ID.test(header) ? header : randomUuid();
}
