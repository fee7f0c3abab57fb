// Projects: `unit` (pure logic, no processes: enforced, see test/unit/support/no-child-process.cjs) and `integration` (a real kube-apiserver, started
// by `make test` through hack/cluster-up.sh, which KUBECONFIG names; the libvirt tests also need
// a real libvirtd, which hack/test.sh starts with hack/libvirt-up.sh) make up `make test`.
const esm = {
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true }] },
  testEnvironment: "node",
};
export default {
  projects: [
    {
      ...esm,
      displayName: "unit",
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/src/**/*.test.ts"],
      // Unit tests need nothing but Node: child_process, by either name, throws there.
      moduleNameMapper: {
        ...esm.moduleNameMapper,
        "^(node:)?child_process$": "<rootDir>/test/unit/support/no-child-process.cjs",
      },
    },
    {
      ...esm,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      setupFiles: ["<rootDir>/test/integration/support/require-cluster.ts"],
    },
  ],
};
