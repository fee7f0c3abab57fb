// The floor for bench:scale, in a process of its own so that its memory and CPU can be read
// from /proc like the operator's: a plain client (bench/lib/kube.ts, no griddesk code) that
//   1. LISTs everything the controller caches (paginated, 500 a page), strips managedFields
//      and holds the objects in maps: the relist floor (time) and the memory floor (RSS);
//   2. then renews H Leases of its own every 10 s, one PUT each, as H kubelets renew their node
//      leases: the heartbeat floor (CPU at rest).
// Run as `node --import tsx bench/lib/scale-floor.ts <kubeconfig> <leases> <namespace>`; it
// prints one JSON line per phase and keeps renewing until it is killed.
import { Kube, inParallel, loadTarget } from "./kube.js";
import { GROUP_PATH } from "./griddesk.js";

export interface ScaleFloorReport {
  phase: "listed" | "leases-ready";
  objects?: number;
  listMs?: number;
}

interface Obj {
  metadata: { name: string; namespace?: string; managedFields?: unknown };
}

const LISTS = [
  `${GROUP_PATH}/desktops`,
  `${GROUP_PATH}/desktopsessions`,
  `${GROUP_PATH}/desktoppools`,
  `${GROUP_PATH}/hostnodes`,
  "/apis/coordination.k8s.io/v1/leases",
];
const RENEW_MS = 10_000;

async function listAll(kube: Kube, path: string, into: Map<string, Obj>): Promise<void> {
  let cont = "";
  do {
    const page = await kube.get<{ items: Obj[]; metadata: { continue?: string } }>(
      `${path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ""}`,
    );
    for (const o of page.items) {
      delete o.metadata.managedFields;
      into.set(`${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
    }
    cont = page.metadata.continue ?? "";
  } while (cont);
}

async function main(): Promise<void> {
  const [kubeconfig, leaseCount, ns] = process.argv.slice(2);
  if (!kubeconfig || !leaseCount || !ns) throw new Error("usage: scale-floor.ts <kubeconfig> <leases> <ns>");
  const kube = new Kube(loadTarget(kubeconfig), 16);
  const held = LISTS.map(() => new Map<string, Obj>());
  const t0 = Date.now();
  await Promise.all(LISTS.map((p, i) => listAll(kube, p, held[i] as Map<string, Obj>)));
  const objects = held.reduce((n, m) => n + m.size, 0);
  const report = (r: ScaleFloorReport): void => console.log(JSON.stringify(r));
  report({ phase: "listed", objects, listMs: Date.now() - t0 });

  const leasesPath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  const leases = new Map<string, Record<string, unknown>>();
  const names = Array.from({ length: Number(leaseCount) }, (_, i) => `floor-${i}`);
  const stamp = (): string => new Date().toISOString().replace("Z", "000Z");
  await inParallel(names, 16, async (name) => {
    const lease = await kube.request<Record<string, unknown>>("POST", leasesPath, {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace: ns },
      spec: { holderIdentity: "floor", leaseDurationSeconds: 40, renewTime: stamp() },
    });
    leases.set(name, lease);
  });
  report({ phase: "leases-ready" });
  // Spread over the interval, as independent kubelets are.
  names.forEach((name, i) => {
    const renew = (): void => {
      const lease = leases.get(name) as { spec: Record<string, unknown> };
      lease.spec.renewTime = stamp();
      kube
        .request<Record<string, unknown>>("PUT", `${leasesPath}/${name}`, lease)
        .then((l) => void leases.set(name, l))
        .catch(() => undefined)
        .finally(() => setTimeout(renew, RENEW_MS));
    };
    setTimeout(renew, (i * RENEW_MS) / names.length);
  });
}

await main();
