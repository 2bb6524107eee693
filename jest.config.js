/** Every suite under test/, compiled by ts-jest; the gateway is built once first for suites that spawn it. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: { warnOnly: false }, isolatedModules: true }] },
  globalSetup: "<rootDir>/test/helpers/global-setup.js",
  testTimeout: 30000,
  maxWorkers: 2,
};
