// The KubeVirt agent end to end: the controller and `griddesk agent --adapter kubevirt` as
// processes on the real control plane with KubeVirt's CRDs, and kwok standing in for KubeVirt's
// node side (kubevirt-kwok.test.ts says exactly what it simulates: scheduling, the VM's life;
// nothing serves the VNC subresource). The agent serves each selected Node as a HostNode; a logon
// gets a desktop whose VMI passed KubeVirt's schema, pinned to the chosen Node and Running, with
// the VMI's console as its endpoint, and the logoff deletes the VMI; a VMI that fails fails its
// desktop with KubeVirt's reason and the pool backs off; an orphan VMI is removed; a cordoned
// Node cordons its HostNode; a restarted agent finds its VMIs again.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { dump } from "js-yaml";
import type { V1VirtualMachineInstance } from "../../src/hypervisors/kubevirt/types.generated.js";
import {
  createTestNamespace,
  eventsWhen,
  eventually,
  installCrds,
  installKubevirtCrds,
  kubectl,
  mustKubectl,
} from "./support/cluster.js";
import { hostReady } from "./drain-support.js";
import { createKwokNode, FAILING_NODE, kwokNodeReady, startKwok } from "./support/kwok.js";
import {
  clients,
  poolObject,
  sessionObject,
  startControllerProcess,
  tearDown,
  uniq,
} from "./support/griddesk.js";
import { startGriddesk, type GriddeskProcess } from "./support/processes.js";

jest.setTimeout(240_000);

const id = uniq();
const node = `kv-${id}`;
const c = clients();
let ns = "";
let sys = "";
let vmiNs = "";
let kwok: GriddeskProcess;
const procs: GriddeskProcess[] = [];
const SHA = "e".repeat(64);
const image = {
  source: "file:///srv/images/golden.qcow2",
  sha256: SHA,
  format: "qcow2" as const,
  containerDisk: `registry.example.com/golden/desk@sha256:${SHA}`,
};
const logs = () => [kwok, ...procs].map((p) => `--- ${p.name}\n${p.tail(25)}`).join("\n");
const fail = (err: unknown): never => {
  throw new Error(`${String(err)}\n${logs()}`);
};

function startAgent(name: string): GriddeskProcess {
  const agent = startGriddesk(name, [
    "agent",
    ...["--adapter", "kubevirt", "--name", name, "--system-namespace", sys],
    ...["--vmi-namespace", vmiNs, "--node-selector", `griddesk.test/site=${id}`],
    ...["--health-probe-bind-address", "127.0.0.1:0", "--lease-duration", "8", "--lease-renew-interval", "2"],
    ...["--orphan-collection-interval", "3", "--host-status-interval", "5"],
    ...["--allow-container-disk-prefix", "registry.example.com/golden/"],
  ]);
  procs.push(agent);
  return agent;
}

const vmis = async (): Promise<V1VirtualMachineInstance[]> =>
  (
    JSON.parse(await mustKubectl(["get", "vmi", "-n", vmiNs, "-o", "json"])) as {
      items: V1VirtualMachineInstance[];
    }
  ).items;

beforeAll(async () => {
  await installCrds();
  await installKubevirtCrds();
  ns = await createTestNamespace("kva");
  sys = await createTestNamespace("kva-sys");
  vmiNs = await createTestNamespace("kva-vmis");
  kwok = startKwok("kwok-agent");
  await createKwokNode(node, { "griddesk.test/site": id, "topology.kubernetes.io/zone": `ok-${id}` });
  await createKwokNode(FAILING_NODE, {
    "griddesk.test/site": id,
    "topology.kubernetes.io/zone": `fail-${id}`,
  });
  await kwokNodeReady(kwok, node);
  procs.push(startControllerProcess("kva-controller", { systemNamespace: sys }));
  startAgent("kva-agent");
  await hostReady(node).catch(fail);
  await hostReady(FAILING_NODE).catch(fail);
});

afterAll(async () => {
  await tearDown([...procs, kwok], [ns, sys, vmiNs], [node, FAILING_NODE]);
  for (const n of [node, FAILING_NODE]) await kubectl(["delete", "node", n, "--ignore-not-found"]);
});

describe("the KubeVirt agent", () => {
  it("serves each selected Node as a HostNode: its name, its cordon, capacity from its allocatable", async () => {
    const host = await c.hosts.get({ name: node });
    expect(host.spec.hypervisor).toEqual({
      type: "kubevirt",
      kubevirt: { nodeName: node, namespace: vmiNs },
    });
    expect(host.spec.nodeName).toBe(node);
    expect(host.metadata.labels?.["topology.kubernetes.io/zone"]).toBe(`ok-${id}`);
    await eventually("capacity from the Node", async () => {
      const h = await c.hosts.get({ name: node });
      return h.status?.capacity?.cpu === "16" ? h : undefined;
    }).catch(fail);
  });

  it("serves a Node that gets the label after the agent started", async () => {
    const late = `kv-late-${id}`;
    await createKwokNode(late, { "griddesk.test/site": id, "topology.kubernetes.io/zone": `late-${id}` });
    await hostReady(late).catch(fail);
    expect((await c.hosts.get({ name: late })).spec.hypervisor).toEqual({
      type: "kubevirt",
      kubevirt: { nodeName: late, namespace: vmiNs },
    });
    await c.hosts.delete({ name: late });
    await kubectl(["delete", "node", late, "--ignore-not-found"]);
  });

  it("logon: a desktop whose VMI passed KubeVirt's schema, pinned and Running, its console as endpoint; logoff deletes the VMI", async () => {
    await c.pools.create(
      poolObject(ns, "desk", {
        image,
        resources: { cpu: "1", memory: "1Gi", disk: "10Gi" },
        buffer: 1,
        hypervisorTypes: ["kubevirt"],
        hostSelector: { matchLabels: { "topology.kubernetes.io/zone": `ok-${id}` } },
      }),
    );
    await c.sessions.create(sessionObject(ns, "desk", "alice"));
    const session = await eventually(
      "alice Ready",
      async () => {
        const s = await c.sessions.get({ namespace: ns, name: "alice" });
        return s.status?.phase === "Ready" ? s : undefined;
      },
      90_000,
    ).catch(fail);
    const desktop = await c.desktops.get({ namespace: ns, name: session.status?.desktopRef as string });
    const vmiName = `gd-${desktop.metadata.uid as string}`;
    expect(session.status?.hostRef).toBe(node);
    expect(session.status?.endpoint).toEqual({
      protocol: "vnc",
      kubevirt: { namespace: vmiNs, name: vmiName },
    });
    const vmi = (await vmis()).find((v) => v.metadata?.name === vmiName);
    expect(vmi?.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": node });
    expect(vmi?.status?.phase).toBe("Running");
    expect(vmi?.spec.volumes?.[0]?.containerDisk?.image).toBe(image.containerDisk);

    await c.sessions.delete({ namespace: ns, name: "alice" });
    await eventually(
      "the VMI deleted with the desktop",
      async () => !(await vmis()).some((v) => v.metadata?.name === vmiName),
      60_000,
    ).catch(fail);
  });

  it("a VMI that fails fails its desktop with KubeVirt's reason, and the pool backs the host off", async () => {
    await c.pools.create(
      poolObject(ns, "broken", {
        image,
        resources: { cpu: "1", memory: "1Gi", disk: "10Gi" },
        buffer: 1,
        hostSelector: { matchLabels: { "topology.kubernetes.io/zone": `fail-${id}` } },
      }),
    );
    await eventsWhen(
      ns,
      "involvedObject.name=broken,reason=ProvisioningBackoff",
      "jsonpath={.items[*].message}",
      (out) => out.includes("PodFailed"),
      60_000,
    ).catch(fail);
    const ready = await eventually("the pool says why", async () => {
      const p = await c.pools.get({ namespace: ns, name: "broken" });
      return p.status?.conditions?.find((x) => x.type === "Ready" && x.message.includes("PodFailed"));
    }).catch(fail);
    expect(ready.reason).toBe("ProvisioningFailing");
    await c.pools.delete({ namespace: ns, name: "broken" });
  });

  it("refuses a containerDisk outside the admin's prefixes: SourceNotAllowed, said in status and Events, no VMI", async () => {
    const elsewhere = `registry.example.com/goldenx/desk@sha256:${SHA}`;
    await c.pools.create(
      poolObject(ns, "elsewhere", {
        image: { ...image, containerDisk: elsewhere },
        resources: { cpu: "1", memory: "1Gi", disk: "10Gi" },
        buffer: 1,
        hypervisorTypes: ["kubevirt"],
        hostSelector: { matchLabels: { "topology.kubernetes.io/zone": `ok-${id}` } },
      }),
    );
    const why = `containerDisk ${elsewhere} is not under a prefix this host allows (registry.example.com/golden/)`;
    const ready = await eventually("the pool says why", async () => {
      const p = await c.pools.get({ namespace: ns, name: "elsewhere" });
      return p.status?.conditions?.find((x) => x.type === "Ready" && x.message.includes(why));
    }).catch(fail);
    expect(ready).toMatchObject({ status: "False", reason: "ProvisioningFailing" });
    await eventsWhen(
      ns,
      "involvedObject.kind=Desktop,reason=ProvisioningFailed",
      "jsonpath={.items[*].message}",
      (out) => out.includes(why),
    ).catch(fail);
    expect(
      (await vmis()).filter((v) => v.spec?.volumes?.some((vol) => vol.containerDisk?.image === elsewhere)),
    ).toEqual([]);
    await c.pools.delete({ namespace: ns, name: "elsewhere" });
  });

  it("removes an orphan VMI (an owner mark naming no Desktop), and leaves others' VMIs alone", async () => {
    const orphanUid = "00000000-0000-4000-8000-0000000000aa";
    const owner = {
      id: { namespace: ns, name: "gone", uid: orphanUid },
      resources: { cpuMilli: 1000, memoryBytes: 2 ** 30, diskBytes: 2 ** 30 },
      imageSha256: SHA,
      createdAt: Date.now(),
    };
    const orphan = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachineInstance",
      metadata: {
        name: `gd-${orphanUid}`,
        namespace: vmiNs,
        labels: { "griddesk.io/desktop-uid": orphanUid, "griddesk.io/host": node },
        annotations: { "griddesk.io/desktop": JSON.stringify(owner) },
      },
      spec: { nodeSelector: { "kubernetes.io/hostname": node }, domain: { devices: {} } },
    };
    const foreign = { ...orphan, metadata: { name: `someone-else-${id}`, namespace: vmiNs } };
    await mustKubectl(["create", "-f", "-"], dump(orphan));
    await mustKubectl(["create", "-f", "-"], dump(foreign));
    await eventually(
      "the orphan removed",
      async () => !(await vmis()).some((v) => v.metadata?.name === orphan.metadata.name),
      60_000,
    ).catch(fail);
    expect((await vmis()).some((v) => v.metadata?.name === foreign.metadata.name)).toBe(true);
  });

  it("a restarted agent finds its VMIs again; a cordoned Node cordons its HostNode", async () => {
    const warm = await eventually("a warm desktop of the pool", async () =>
      (await c.desktops.list({ namespace: ns })).find(
        (d) => d.spec.poolRef === "desk" && d.status?.phase === "Available",
      ),
    ).catch(fail);
    const before = (await vmis()).find((v) => v.metadata?.name === `gd-${warm.metadata.uid as string}`);
    expect(before).toBeDefined();
    await procs.find((p) => p.name === "kva-agent")?.kill("SIGKILL");
    startAgent("kva-agent-2");
    await hostReady(node).catch(fail);
    await new Promise((r) => setTimeout(r, 5_000)); // an orphan sweep and a resync
    const after = (await vmis()).find((v) => v.metadata?.name === before?.metadata?.name);
    expect(after?.metadata?.uid).toBe(before?.metadata?.uid); // the same VMI, not a new one
    expect((await c.desktops.get({ namespace: ns, name: warm.metadata.name as string })).status?.phase).toBe(
      "Available",
    );

    await mustKubectl(["cordon", node]);
    await eventually(
      "the HostNode cordoned",
      async () => (await c.hosts.get({ name: node })).spec.unschedulable === true,
    ).catch(fail);
    await mustKubectl(["uncordon", node]);
  });
});
