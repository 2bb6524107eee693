/**
 * The gateway needs Node 22 or later (package.json `engines`; the image runs Node 24), and the
 * bench starts its Node targets with the Node that runs it (process.execPath). On this VM a bare
 * `node` is Node 20 while `npm run` finds Node 24 in node_modules/.bin: figures taken with the
 * former are not the product's (the delivered-text count's old pattern ran ~5 times slower on 20).
 */
const SUPPORTED_MAJOR = 22;

/** Warns on stderr when this Node is older than the gateway supports; returns its version for reports. */
export function checkBenchNode(): string {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < SUPPORTED_MAJOR) {
    process.stderr.write(`WARNING: Node ${process.version} runs this benchmark and its targets; the gateway needs Node ${SUPPORTED_MAJOR}+. Run it through \`npm run bench:…\` or node_modules/.bin/node.\n`);
  }
  return process.version;
}
