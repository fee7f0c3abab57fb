// One pool over unlike hosts: two real libvirt hosts — each its own libvirtd in its own mount
// namespace, its own agent process (entered with nsenter) and its own storage directory — a
// simulated agent's host, and a KubeVirt host (the KubeVirt agent serving a Node that kwok keeps,
// with KubeVirt's CRDs on the API server; kwok stands in for KubeVirt's node side). The pool
// names its image as a file (libvirt, simulated) and as a containerDisk (KubeVirt). Sessions are
// served on all four; each libvirt desktop runs on its own host's libvirtd only, with a live VNC
// console; the KubeVirt one is a Running VMI pinned to its Node.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import {
  createTestNamespace,
  deleteNamespace,
  eventually,
  installCrds,
  installKubevirtCrds,
  kubectl,
  mustKubectl,
} from "./support/cluster.js";
import { createKwokNode, kwokNodeReady, startKwok } from "./support/kwok.js";
import {
  clients,
  sessionObject,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
} from "./support/griddesk.js";
import { startGriddesk, stopAll, type GriddeskProcess } from "./support/processes.js";
import { hostContents, libvirtPool, smallHost, startLibvirtAgent } from "./libvirt-agents.js";
import {
  imageRoot,
  libvirtInstanceDown,
  libvirtInstanceUp,
  removeDir,
  rfbBanner,
  storageDir,
  testImage,
} from "./libvirt-support.js";

jest.setTimeout(400_000);

const id = uniq();
const site = `mixed-${id}`;
const instances = ["gd-mixed-a", "gd-mixed-b"];
const lvHosts = instances.map((name) => ({
  name: `${name}-${id}`,
  instance: name,
  storage: storageDir(name),
  pid: 0,
}));
const simHost = `gd-mixed-sim-${id}`;
const kvNode = `gd-mixed-kv-${id}`;
let vmiNs = "";
const c = clients();
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(30)}`).join("\n");

beforeAll(async () => {
  const image = testImage();
  for (const h of lvHosts) h.pid = libvirtInstanceUp(h.instance);
  await installCrds();
  await installKubevirtCrds();
  ns = await createTestNamespace("mixed");
  sys = await createTestNamespace("mixed-sys");
  vmiNs = await createTestNamespace("mixed-vmis");
  const kwok = startKwok("mixed-kwok");
  procs.push(kwok);
  // As small as the others (smallHost), so breadth-first placement spreads the pool over all four.
  await createKwokNode(
    kvNode,
    { "griddesk.test/site": site },
    { cpu: "2", memory: "1Gi", "ephemeral-storage": "50Gi", pods: "110" },
  );
  await kwokNodeReady(kwok, kvNode);
  await c.hosts.create(smallHost(simHost, "simulated", { site }));
  for (const h of lvHosts) await c.hosts.create(smallHost(h.name, "libvirt", { site }));
  procs.push(startControllerProcess("mixed-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  for (const h of lvHosts) {
    const args = {
      systemNamespace: sys,
      host: h.name,
      storagePath: h.storage,
      labels: { site },
      nsPid: h.pid,
    };
    procs.push(startLibvirtAgent(`mixed-agent-${h.instance}`, args));
  }
  procs.push(
    startSimulatedAgent("mixed-sim", {
      systemNamespace: sys,
      hosts: [simHost],
      stateDir: tempStateDir(),
      sourceRoots: [imageRoot(image)], // the pool spans both kinds of host: the same image everywhere
      extra: ["--lease-duration", "30", "--lease-renew-interval", "5"],
    }),
  );
  procs.push(
    startGriddesk("mixed-kubevirt", [
      ...["agent", "--adapter", "kubevirt", "--name", "mixed-kubevirt", "--system-namespace", sys],
      ...["--allow-container-disk-prefix", "registry.example.com/golden/"],
      ...[
        "--vmi-namespace",
        vmiNs,
        "--node-selector",
        `griddesk.test/site=${site}`,
        "--host-labels",
        `site=${site}`,
      ],
      ...[
        "--health-probe-bind-address",
        "127.0.0.1:0",
        "--lease-duration",
        "30",
        "--lease-renew-interval",
        "5",
      ],
    ]),
  );
  for (const name of [simHost, kvNode, ...lvHosts.map((h) => h.name)])
    await eventually(
      `${name} Ready`,
      async () =>
        (await c.hosts.get({ name })).status?.conditions?.some(
          (x) => x.type === "Ready" && x.status === "True",
        ),
      120_000,
      500,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${logs()}`);
    });
  // One image, in the form each kind of host needs: the file (with its sha256) and a containerDisk
  // built from that file (pinned by digest). An admin keeps them the same by building the one
  // from the other; here the containerDisk is a name only kwok's stages ever see.
  const containerDisk = `registry.example.com/golden/test-desktop@sha256:${image.sha256}`;
  await c.pools.create(
    libvirtPool(ns, "grid", { ...image, containerDisk } as typeof image, {
      buffer: 4,
      max: 5,
      hostSelector: { matchLabels: { site } },
    }),
  );
  await eventually(
    "four warm desktops",
    async () => (await c.pools.get({ namespace: ns, name: "grid" })).status?.available === 4,
    240_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${logs()}`);
  });
});

afterAll(async () => {
  await c.pools.delete({ namespace: ns, name: "grid" }).catch(() => undefined);
  await eventually(
    "desktops gone",
    async () => (await c.desktops.list({ namespace: ns })).length === 0,
    90_000,
  );
  await stopAll(procs);
  await deleteNamespace(ns);
  await deleteNamespace(sys);
  await deleteNamespace(vmiNs);
  for (const name of [simHost, kvNode, ...lvHosts.map((h) => h.name)])
    await c.hosts.delete({ name }).catch(() => undefined);
  await kubectl(["delete", "node", kvNode, "--ignore-not-found"]);
  for (const h of lvHosts) {
    libvirtInstanceDown(h.instance);
    removeDir(h.storage);
  }
});

describe("one pool over two libvirt hosts, a simulated host and a KubeVirt host", () => {
  it("serves sessions on every host, each libvirt desktop on its own libvirtd, the KubeVirt one a VMI", async () => {
    const users = ["ann", "ben", "cem", "dan"];
    for (const u of users) await c.sessions.create(sessionObject(ns, "grid", u));
    const sessions = await eventually(
      "all sessions Ready",
      async () => {
        const list = await c.sessions.list({ namespace: ns });
        return list.length === 4 && list.every((s) => s.status?.phase === "Ready") ? list : undefined;
      },
      180_000,
      1000,
    ).catch(async (err: unknown) => {
      const state = (await c.sessions.list({ namespace: ns })).map((s) => [s.metadata.name, s.status]);
      const desktops = (await c.desktops.list({ namespace: ns })).map((d) => [
        d.spec.hostRef,
        d.status?.phase,
      ]);
      throw new Error(`${String(err)}\n${JSON.stringify({ state, desktops })}\n${logs()}`);
    });
    const served = new Set(sessions.map((s) => s.status?.hostRef));
    expect([...served].sort()).toEqual([simHost, kvNode, ...lvHosts.map((h) => h.name)].sort());
    const onKubevirt = sessions.find((s) => s.status?.hostRef === kvNode);
    const vmi = onKubevirt?.status?.endpoint?.kubevirt;
    expect(vmi?.namespace).toBe(vmiNs);
    const live = JSON.parse(
      await mustKubectl(["get", "vmi", "-n", vmiNs, vmi?.name as string, "-o", "json"]),
    ) as {
      spec: { nodeSelector: Record<string, string> };
      status: { phase: string };
    };
    expect(live.status.phase).toBe("Running");
    expect(live.spec.nodeSelector["kubernetes.io/hostname"]).toBe(kvNode);

    for (const h of lvHosts) {
      const session = sessions.find((s) => s.status?.hostRef === h.name);
      const desktop = await c.desktops.get({ namespace: ns, name: session?.status?.desktopRef as string });
      const uid = desktop.metadata.uid as string;
      const other = lvHosts.find((o) => o !== h) as (typeof lvHosts)[number];
      expect(hostContents(h.storage, h.pid).domains).toContain(uid);
      expect(hostContents(other.storage, other.pid).domains).not.toContain(uid);
      expect(await rfbBanner(session?.status?.endpoint?.port as number)).toMatch(/^RFB 003\.00\d\n$/);
      const node = await c.hosts.get({ name: h.name });
      expect(node.spec.hypervisor.type).toBe("libvirt");
      expect(node.status?.facts?.hypervisorVersion).toContain("QEMU");
    }

    for (const u of users) await c.sessions.delete({ namespace: ns, name: u });
    await eventually(
      "logged-off desktops gone from both libvirt hosts",
      async () => {
        const uids = new Set((await c.desktops.list({ namespace: ns })).map((d) => d.metadata.uid as string));
        return lvHosts.every((h) => hostContents(h.storage, h.pid).domains.every((u) => uids.has(u)));
      },
      120_000,
      1000,
    );
  });
});
