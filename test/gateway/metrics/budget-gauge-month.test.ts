/**
 * aigw_budget_used_ratio and aigw_team_budget_used_ratio are this month's share of a budget. A key
 * that spent 90% in November and sends nothing in December must not keep reporting 0.9 (and keep
 * AiGatewayKeyBudgetHigh firing) all of December: at the first scrape of a new UTC month the
 * ratios of the old one are dropped. Driven over HTTP; only the scrape's clock is moved.
 */
import { startTestGateway, type TestGateway } from "../../helpers/gateway-harness";

const KEY = "sk-budget-month-0123456789abcdef";

describe("budget ratio gauges across a month boundary", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      models: [{ name: "m", targets: [{ name: "t", baseUrl: "mock://t" }] }],
      server: { adminPort: 0 },
      keys: [{ name: "batch", key: KEY, team: "lab", limits: { monthlyBudgetUsd: 0.001 } }],
      teams: { lab: { monthlyBudgetUsd: 0.002 } },
      pricing: { m: { inputPerMTok: 10, outputPerMTok: 10 } },
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await gw?.close();
  });

  const ratios = async (): Promise<string[]> => {
    const text = await (await fetch(`${gw.gateway.adminUrl}/metrics`)).text();
    return text.split("\n").filter((line) => /^aigw_(team_)?budget_used_ratio\{/.test(line));
  };

  it("reports this month's ratios, and none of last month's after it ends", async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify({ model: "m", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
    await res.text();
    const during = await ratios();
    expect(during).toEqual([expect.stringMatching(/^aigw_budget_used_ratio\{key="batch",team="lab"\} 0\.\d+/), expect.stringMatching(/^aigw_team_budget_used_ratio\{team="lab"\} 0\.\d+/)]);

    // The next scrape happens in the next UTC month; the key has sent nothing since.
    const now = new Date();
    const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 0, 5);
    jest.spyOn(Date, "now").mockReturnValue(nextMonth);
    let after: string[];
    try {
      after = await ratios();
    } finally {
      jest.restoreAllMocks();
    }
    expect(after).toEqual([]);
  });
});
