/** Every suite under test/, transpiled by ts-jest (isolatedModules: `npm test` type-checks first with tsc); the gateway is built once first for suites that spawn it. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  globalSetup: "<rootDir>/test/helpers/global-setup.js",
  testTimeout: 30000,
  maxWorkers: 2,
};
