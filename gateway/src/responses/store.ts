/**
 * Where the gateway keeps the responses it made by translation, so `previous_response_id`,
 * `item_reference`, `GET /v1/responses/{id}`, `DELETE` and `input_items` work against targets
 * that keep no state (Chat-Completions-only ones). Each record is one turn: that request's input
 * items and the response object (its output), linked to the turn before. Every record has an
 * owner (the client key's id; "" when keys are off) and is only ever returned to its owner:
 * to anyone else it does not exist.
 */
import type { Item } from "../dialects/openai-responses/input-items";

export interface StoredResponse {
  id: string;
  /** The client key's id (auth/key-hash.ts), or "" when the gateway requires no keys. */
  owner: string;
  /** The client-facing model that answered. */
  model: string;
  previousResponseId: string | null;
  /** This turn's input items, normalised (ids assigned, references resolved). */
  input: Item[];
  /** The response object as the client received it. */
  response: Record<string, unknown>;
  /** Set when read back: the encoded size, to bound what one conversation loads. */
  sizeBytes?: number;
}

export interface ResponseStore {
  /** The record, whoever owns it; null when unknown or expired. Callers check the owner (see owned()). */
  get(id: string): Promise<StoredResponse | null>;
  /** Keeps `record` for the store's TTL; false when it was not kept (too large). */
  put(record: StoredResponse): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The record when `owner` owns it, else null: another key's response is indistinguishable from none. */
export async function getOwned(store: ResponseStore, id: string, owner: string): Promise<StoredResponse | null> {
  const record = await store.get(id);
  return record !== null && record.owner === owner ? record : null;
}

export function encodeRecord(record: StoredResponse): Buffer {
  return Buffer.from(JSON.stringify(record));
}

export function decodeRecord(raw: Buffer | string): StoredResponse | null {
  try {
    const parsed = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8")) as StoredResponse;
    if (typeof parsed.id !== "string" || typeof parsed.owner !== "string" || !Array.isArray(parsed.input)) return null;
    parsed.sizeBytes = raw.length;
    return parsed;
  } catch {
    return null;
  }
}
