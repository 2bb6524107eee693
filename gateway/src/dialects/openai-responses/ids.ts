/**
 * Ids of the responses and output items the gateway makes when it translates. An item id carries
 * its response's id (`msg_<hex>_<n>` belongs to `resp_<hex>`), so an `item_reference` sent back
 * by a client (the Vercel AI SDK does this) is found by loading that one response, which also
 * checks that the caller owns it: no separate index to keep or to leak.
 */
import { randomBytes } from "node:crypto";

export type ItemKind = "msg" | "fc" | "fco" | "rs";

const RESPONSE_ID = /^resp_([0-9a-f]{32})$/;
/** Output items end in `_<n>`, input items in `_in<n>`. */
const ITEM_ID = /^(msg|fc|fco|rs)_([0-9a-f]{32})_(in)?(\d{1,6})$/;

export function newResponseId(): string {
  return `resp_${randomBytes(16).toString("hex")}`;
}

/** The id of the `index`-th output item of `responseId` (any `resp_…` id; only the gateway's own parse back). */
export function itemId(kind: ItemKind, responseId: string, index: number): string {
  return `${kind}_${responseId.startsWith("resp_") ? responseId.slice(5) : responseId}_${index}`;
}

/** The id given to the `index`-th input item of `responseId` when the client sent none. */
export function inputItemId(kind: ItemKind, responseId: string, index: number): string {
  return itemId(kind, responseId, index).replace(/_(\d+)$/, "_in$1");
}

/** True for ids this gateway makes (`resp_` and 32 hex digits). */
export function isGatewayResponseId(id: string): boolean {
  return RESPONSE_ID.test(id);
}

/** The response an item id belongs to, or null when the id was not made by this gateway. */
export function responseIdOfItem(id: string): string | null {
  const match = ITEM_ID.exec(id);
  return match === null ? null : `resp_${match[2]}`;
}
