/**
 * Detects a JSON body that names `"model"` as a key more than once. JSON.parse keeps the last
 * one, which is what the gateway checks (route, key permissions, price); an upstream reading the
 * first one would serve another model. Such bodies are forwarded re-serialised, never raw.
 */
const MODEL_KEY = Buffer.from('"model"');

/** True when `"model"` appears as an object key (not inside a string) more than once. */
export function hasRepeatedModelKey(raw: Buffer): boolean {
  let seen = 0;
  let at = raw.indexOf(MODEL_KEY);
  while (at !== -1) {
    let i = at + MODEL_KEY.length;
    while (raw[i] === 0x20 || raw[i] === 0x09 || raw[i] === 0x0a || raw[i] === 0x0d) i++;
    // Inside a string the quotes would be escaped (\"model\"), so `"model"` then `:` is a key.
    if (raw[i] === 0x3a /* : */ && raw[at - 1] !== 0x5c /* \ */ && ++seen > 1) return true;
    at = raw.indexOf(MODEL_KEY, at + 1);
  }
  return false;
}
