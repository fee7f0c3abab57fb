// Projects: `unit` (pure logic, no processes) and `integration` (a real kube-apiserver, started
// by `make test` through hack/cluster-up.sh; KUBECONFIG names it) make up `make test`.
// `incubating` holds the tests of work still in progress — the libvirt adapter and volumes
// (issue 4) and cordon/drain (issue 5). They need a real libvirtd (hack/libvirt-up.sh) and are
// run with `npm run test:incubating`; they join `make test` when those features are finished.
const esm = {
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: { "^.+\\.ts$": ["ts-jest", { useESM: true }] },
  testEnvironment: "node",
};
const incubating = [
  "<rootDir>/test/integration/(libvirt|drain)-",
  "<rootDir>/test/unit/(drain|libvirt|volumes)/",
];
export default {
  projects: [
    {
      ...esm,
      displayName: "unit",
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/src/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...incubating],
    },
    {
      ...esm,
      displayName: "integration",
      testMatch: ["<rootDir>/test/integration/**/*.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", ...incubating],
      setupFiles: ["<rootDir>/test/integration/support/require-cluster.ts"],
    },
    {
      ...esm,
      displayName: "incubating",
      testMatch: [
        "<rootDir>/test/integration/{libvirt,drain}-*.test.ts",
        "<rootDir>/test/unit/{drain,libvirt,volumes}/**/*.test.ts",
      ],
      setupFiles: ["<rootDir>/test/integration/support/require-cluster.ts"],
    },
  ],
};
