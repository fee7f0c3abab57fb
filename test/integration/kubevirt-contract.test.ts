// The adapter contract for the KubeVirt adapter, on the real API server with KubeVirt's own CRD
// schemas, and kwok moving the VMIs through their phases as KubeVirt's node side would (see
// kubevirt-kwok.test.ts for exactly what kwok stands in for). The optional steps this adapter
// does not take (an image cache of griddesk's, hot-plugged disks) are checked as refused or
// empty, as CONTRACT.md's table says.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, jest } from "@jest/globals";
import { dump } from "js-yaml";
import type { HypervisorAdapter } from "../../src/hypervisors/adapter.js";
import { kubevirtAdapterFactory } from "../../src/hypervisors/kubevirt/index.js";
import { newWatch, RestClient } from "../../src/runtime/index.js";
import { describeAdapterContract } from "../unit/hypervisors/contract.js";
import {
  createTestNamespace,
  deleteNamespace,
  installKubevirtCrds,
  kubeConfig,
  kubectl,
  mustKubectl,
} from "./support/cluster.js";
import { createKwokNode, kwokNodeReady, startKwok } from "./support/kwok.js";
import { uniq } from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(300_000);

const node = `kv-contract-${uniq()}`;
let ns = "";
let kwok: GriddeskProcess;
const kc = kubeConfig();

beforeAll(async () => {
  await installKubevirtCrds();
  ns = await createTestNamespace("kvc");
  kwok = startKwok("kwok-contract");
  await createKwokNode(node);
  await kwokNodeReady(kwok, node);
});

afterAll(async () => {
  await deleteNamespace(ns);
  await kwok?.kill("SIGKILL");
  await kubectl(["delete", "node", node, "--ignore-not-found"]);
});

const image = {
  source: "file:///srv/images/golden.qcow2",
  sha256: "d".repeat(64),
  format: "qcow2" as const,
  containerDisk: `registry.example.com/golden/desk@sha256:${"d".repeat(64)}`,
};

describeAdapterContract(
  "kubevirt (API server + KubeVirt's CRDs + kwok)",
  async () => {
    const factory = kubevirtAdapterFactory({
      rest: new RestClient(kc),
      watcher: newWatch(kc),
      containerDiskPrefixes: ["registry.example.com/golden/"],
    });
    const host = { hostName: node, settings: { nodeName: node, namespace: ns } };
    let adapter: HypervisorAdapter = factory(host);
    return {
      get adapter() {
        return adapter;
      },
      image,
      supports: { imageCache: false, diskHotplug: false },
      tick: () => new Promise((r) => setTimeout(r, 250)),
      addForeignVm: async (name: string) => {
        const vmi = {
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachineInstance",
          metadata: { name: `${name}-${randomBytes(2).toString("hex")}`, namespace: ns },
          spec: { domain: { devices: {} } },
        };
        await mustKubectl(["create", "-f", "-"], dump(vmi));
      },
      restart: async () => {
        await adapter.close();
        adapter = factory(host);
        return adapter;
      },
      close: () => adapter.close(),
    };
  },
  { maxTicks: 400 },
);
