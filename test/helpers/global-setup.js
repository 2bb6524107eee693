// Compiles the gateway once before the suites run, so tests that spawn it as a real process
// (signals, several replicas) run the same JavaScript that `npm start` and the image run.
const { execFileSync } = require("node:child_process");
const path = require("node:path");

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, "../..");
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.gateway.json"], { cwd: root, stdio: "inherit" });
};
