/** Traffic control that admits everything: used when no keys, limits or cache are configured. */
import type { Admission, TrafficControl } from "./types";

const OPEN_ADMISSION: Admission = { headers: [], settle() {} };

export const passthroughTrafficControl: TrafficControl = {
  passthrough: true,
  authenticate: async () => null,
  admit: async () => OPEN_ADMISSION,
  cacheLookup: async () => ({ hit: null, key: null }),
  cacheStore() {},
  close: async () => {},
};
