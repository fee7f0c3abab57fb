// Small builders of API objects for controller unit tests.
import type { Desktop, DesktopPool, DesktopSession } from "../../../src/api/types.generated.js";
import { imageHash } from "../../../src/controllers/pool/plan.js";

export function pool(spec: Partial<DesktopPool["spec"]> = {}): DesktopPool {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { name: "cc", namespace: "team-a", uid: "pool-uid", generation: 1 },
    spec: {
      image: { source: "file:///srv/golden.qcow2", sha256: "a".repeat(64), format: "qcow2" },
      resources: { cpu: "2", memory: "4Gi", disk: "40Gi" },
      max: 10,
      ...spec,
    },
  };
}

let n = 0;
export function desktop(
  phase: NonNullable<Desktop["status"]>["phase"] | undefined,
  opts: { bound?: boolean; deleting?: boolean; host?: string; hash?: string; of?: DesktopPool } = {},
): Desktop {
  const p = opts.of ?? pool();
  const i = ++n;
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "Desktop",
    metadata: {
      name: `cc-${i}`,
      namespace: "team-a",
      uid: `d-${i}`,
      ...(opts.deleting ? { deletionTimestamp: "2026-11-25T10:00:00Z" } : {}),
    },
    spec: {
      poolRef: "cc",
      hostRef: opts.host ?? "h1",
      image: p.spec.image,
      resources: p.spec.resources,
      imageHash: opts.hash ?? imageHash(p),
      ...(opts.bound ? { sessionRef: { name: `s-${i}`, uid: `s-${i}` } } : {}),
    },
    ...(phase ? { status: { phase } } : {}),
  };
}

export function session(status: DesktopSession["status"] = {}): DesktopSession {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopSession",
    metadata: { name: "alice-1", namespace: "team-a", uid: "s-uid" },
    spec: { poolRef: "cc", user: "alice@example.com" },
    status,
  };
}
