/** aigw_log_lines_dropped_total follows the log destination's running count of dropped lines. */
import { GatewayMetrics } from "../../../gateway/src/metrics/registry";

function droppedIn(exposition: string): number | null {
  const line = exposition.split("\n").find((l) => l.startsWith("aigw_log_lines_dropped_total "));
  return line === undefined ? null : Number(line.split(" ")[1]);
}

describe("aigw_log_lines_dropped_total", () => {
  it("is 0 with nothing dropped, then counts what the destination dropped between scrapes", async () => {
    const metrics = new GatewayMetrics();
    let dropped = 0;
    metrics.countDroppedLogLines(() => dropped);
    expect(droppedIn((await metrics.render()).body)).toBe(0);
    dropped = 7;
    expect(droppedIn((await metrics.render()).body)).toBe(7);
    expect(droppedIn((await metrics.render()).body)).toBe(7);
    dropped = 12;
    const json = await metrics.localJson();
    expect(json.find((m) => m.name === "aigw_log_lines_dropped_total")?.values[0]?.value).toBe(12);
  });
});
