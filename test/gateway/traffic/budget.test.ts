/** Price table and monthly spend bookkeeping. */
import { DEFAULT_PRICES, PriceTable, usdToNano } from "../../../gateway/src/budget/pricing";
import { crossedThresholds, keySpendKey, monthOf, teamSpendKey } from "../../../gateway/src/budget/spend";

describe("PriceTable", () => {
  it("costs usage in integer nano-USD", () => {
    const prices = new PriceTable();
    // 1M input tokens of gpt-4.1 at $2 plus 1M output at $8 = $10.
    expect(prices.usageCostNano({ promptTokens: 1_000_000, completionTokens: 1_000_000 }, "gpt-4.1")).toBe(usdToNano(10));
    expect(prices.usageCostNano({ promptTokens: 1, completionTokens: 0 }, "deepseek-v3.2")).toBe(280);
    expect(prices.usageCostNano({ promptTokens: 0, completionTokens: 1 }, "deepseek-v3.2")).toBe(420);
  });

  it("config overrides the shipped table, aliases follow their model's override, and the billed name comes first", () => {
    const prices = new PriceTable({ "gpt-4o": { inputPerMTok: 1, outputPerMTok: 1 }, "mock-gpt": { inputPerMTok: 1000, outputPerMTok: 2000 } });
    expect(prices.priceOf("gpt-4o-2024-08-06")).toEqual({ inputPerMTok: 1, outputPerMTok: 1 });
    expect(prices.priceOf("gpt-4o-mini-2024-07-18")).toEqual(DEFAULT_PRICES["gpt-4o-mini"]);
    expect(prices.usageCostNano({ promptTokens: 1, completionTokens: 1 }, "upstream-name", "mock-gpt")).toBe(3_000_000);
  });

  it("prices unknown models at 0 and reports each once", () => {
    const unknown: string[] = [];
    const prices = new PriceTable({}, (m) => unknown.push(m));
    expect(prices.usageCostNano({ promptTokens: 100, completionTokens: 100 }, "mystery")).toBe(0);
    expect(prices.usageCostNano({ promptTokens: 100, completionTokens: 100 }, "mystery")).toBe(0);
    expect(unknown).toEqual(["mystery"]);
  });
});

describe("spend bookkeeping", () => {
  it("keys spend by calendar month, UTC", () => {
    expect(monthOf(Date.UTC(2025, 0, 31, 23, 59, 59))).toBe("2025-01");
    expect(monthOf(Date.UTC(2025, 1, 1, 0, 0, 0))).toBe("2025-02");
    expect(keySpendKey("alice", "2025-02")).toBe("spend:{k:alice}:2025-02");
    expect(teamSpendKey("research", "2025-02")).toBe("teamspend:{t:research}:2025-02");
  });

  it("reports each threshold once, when crossed", () => {
    expect(crossedThresholds(0, 79, 100)).toEqual([]);
    expect(crossedThresholds(79, 80, 100)).toEqual([0.8]);
    expect(crossedThresholds(80, 99, 100)).toEqual([]);
    expect(crossedThresholds(70, 120, 100)).toEqual([0.8, 1]);
    expect(crossedThresholds(100, 130, 100)).toEqual([]);
  });
});
