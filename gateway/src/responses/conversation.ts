/**
 * The conversation a translated Responses request continues: the turns before it, followed back
 * through `previous_response_id` in the store (oldest first: each turn's input items, then its
 * output), and this request's `item_reference` items replaced by the items they name. Only the
 * caller's own responses are found; anything else is the 400 OpenAI gives for an unknown id, so a
 * key learns nothing about another key's responses. Bounded in turns and bytes.
 */
import { GatewayError } from "../errors";
import { responseIdOfItem } from "../dialects/openai-responses/ids";
import { invalid, type Item } from "../dialects/openai-responses/input-items";
import { getOwned, type ResponseStore, type StoredResponse } from "./store";

/** Turns followed back from one request. */
export const MAX_TURNS = 1_000;

export interface ConversationLimits {
  /** Encoded bytes of every turn loaded for one request. */
  maxBytes: number;
}

function storeUnavailable(): GatewayError {
  return new GatewayError("GW_ERR_STORE_UNAVAILABLE", "The response store is unavailable; try again shortly.");
}

async function load(store: ResponseStore, id: string, owner: string): Promise<StoredResponse | null> {
  try {
    return await getOwned(store, id, owner);
  } catch {
    throw storeUnavailable();
  }
}

/**
 * Each turn's input items then its output items, oldest turn first. With `partial`, a missing
 * link behind the first turn gives null instead of a 400 (a native upstream may still hold it).
 */
export async function history(store: ResponseStore, owner: string, previousId: string, limits: ConversationLimits, partial = false): Promise<Item[] | null> {
  const turns: StoredResponse[] = [];
  let bytes = 0;
  let next: string | null = previousId;
  while (next !== null) {
    if (turns.length >= MAX_TURNS) throw invalid(`The conversation is longer than ${MAX_TURNS} turns; start a new one.`, "previous_response_id");
    const record = await load(store, next, owner);
    if (record === null) {
      if (partial && turns.length > 0) return null;
      // The first id is the client's; a missing link further back has expired or been deleted.
      const what = turns.length === 0 ? `Previous response with id '${previousId.slice(0, 100)}' not found.` : `Previous response with id '${previousId.slice(0, 100)}' continues a response that is no longer stored ('${next.slice(0, 100)}').`;
      throw invalid(what, "previous_response_id");
    }
    bytes += record.sizeBytes ?? 0;
    if (bytes > limits.maxBytes) throw invalid("The conversation is too large to continue; start a new one.", "previous_response_id");
    turns.push(record);
    next = record.previousResponseId;
  }
  const items: Item[] = [];
  for (const turn of turns.reverse()) {
    items.push(...turn.input);
    if (Array.isArray(turn.response.output)) items.push(...(turn.response.output as Item[]));
  }
  return items;
}

/**
 * `input` with each `item_reference` to a gateway-made item replaced by the (owned) item it
 * names; references to other ids are left for a native upstream (a translating one refuses them).
 */
export async function resolveReferences(store: ResponseStore, owner: string, input: Item[]): Promise<Item[]> {
  if (!input.some((item) => item.type === "item_reference")) return input;
  const records = new Map<string, StoredResponse | null>();
  const out: Item[] = [];
  for (let i = 0; i < input.length; i++) {
    const item = input[i];
    if (item.type !== "item_reference") {
      out.push(item);
      continue;
    }
    const id = item.id as string;
    const responseId = responseIdOfItem(id);
    if (responseId === null) {
      out.push(item);
      continue;
    }
    if (!records.has(responseId)) records.set(responseId, await load(store, responseId, owner));
    const record = records.get(responseId);
    const candidates = record ? [...record.input, ...((record.response.output as Item[] | undefined) ?? [])] : [];
    const found = candidates.find((candidate) => candidate.id === id);
    if (found === undefined) throw invalid(`Item with id '${id.slice(0, 100)}' not found.`, `input[${i}].id`);
    out.push(found);
  }
  return out;
}
