// Compiles the gateway (and bundles the console) once before the suites run, so tests that spawn it as a real process
// (signals, several replicas) run the same JavaScript that `npm start` and the image run.
// Type errors are printed but do not stop the run: ts-jest reports them in the suites that
// import the faulty files, and the other suites still run.
const { spawnSync } = require("node:child_process");
const path = require("node:path");

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, "../..");
  const result = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.gateway.json"], { cwd: root, encoding: "utf8" });
  if (result.status !== 0) process.stderr.write(`\n[global-setup] tsc reported problems:\n${result.stdout}${result.stderr}\n`);
  // The console's bundle (dist/console), which gateways started by the tests serve at /ui/.
  const console = spawnSync(process.execPath, [path.join(root, "console", "build.mjs"), "--quiet"], { cwd: root, encoding: "utf8" });
  if (console.status !== 0) process.stderr.write(`\n[global-setup] the console build failed:\n${console.stdout}${console.stderr}\n`);
};
