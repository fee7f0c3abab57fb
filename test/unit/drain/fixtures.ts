// Builders for drain unit tests: hosts, desktops on them and the sessions bound to those.
import type {
  Desktop,
  DesktopPool,
  DesktopSession,
  DesktopSessionStatus,
  DrainRequest,
  DrainStatus,
  HostNode,
} from "../../../src/api/types.generated.js";
import type { SessionOnHost } from "../../../src/controllers/drain/plan.js";

export const T0 = Date.parse("2026-12-01T18:00:00Z");
export const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

export function host(
  name = "h1",
  o: {
    drain?: Partial<DrainRequest>;
    status?: DrainStatus;
    unschedulable?: boolean;
    ready?: boolean;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    nodeName?: string;
    draining?: string;
    schedulable?: boolean;
  } = {},
): HostNode {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "HostNode",
    metadata: {
      name,
      generation: 1,
      resourceVersion: "7",
      labels: o.labels ?? {},
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: {
      hypervisor: { type: "simulated", simulated: {} },
      ...(o.unschedulable !== undefined ? { unschedulable: o.unschedulable } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.drain ? { drain: { message: "Maintenance.", gracePeriod: "30s", ...o.drain } } : {}),
    },
    status: {
      conditions: [
        {
          type: "Ready",
          status: o.ready === false ? "Unknown" : "True",
          reason: "AgentReady",
          message: "",
          lastTransitionTime: iso(T0),
        },
        {
          type: "Schedulable",
          status: o.schedulable === false ? ("False" as const) : ("True" as const),
          reason: "AcceptingDesktops",
          message: "",
          lastTransitionTime: iso(T0),
        },
        ...(o.draining
          ? [
              {
                type: "Draining",
                status: "False" as const,
                reason: o.draining,
                message: "",
                lastTransitionTime: iso(T0),
              },
            ]
          : []),
      ],
      ...(o.status ? { drain: o.status } : {}),
    },
  };
}

let n = 0;
/** A desktop on `hostName`; bound to a fresh session unless `idle`. */
export function onHost(
  o: { idle?: boolean; deleting?: boolean; session?: DesktopSessionStatus; host?: string } = {},
): SessionOnHost {
  const i = ++n;
  const desktop: Desktop = {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "Desktop",
    metadata: {
      name: `cc-${i}`,
      namespace: "team-a",
      uid: `d-${i}`,
      resourceVersion: String(i),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: {
      poolRef: "cc",
      hostRef: o.host ?? "h1",
      image: { source: "file:///g.qcow2", sha256: "a".repeat(64) },
      resources: { cpu: "2", memory: "4Gi", disk: "40Gi" },
      ...(o.idle ? {} : { sessionRef: { name: `user-${i}`, uid: `s-${i}` } }),
    },
    status: { phase: o.idle ? "Available" : "InUse" },
  };
  if (o.idle) return { desktop };
  const session: DesktopSession = {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopSession",
    metadata: { name: `user-${i}`, namespace: "team-a", uid: `s-${i}` },
    spec: { poolRef: "cc", user: `user-${i}@example.com` },
    status: { phase: "Ready", hostRef: o.host ?? "h1", desktopRef: `cc-${i}`, ...o.session },
  };
  return { desktop, session };
}

export function pool(name: string, o: Partial<DesktopPool["spec"]> = {}): DesktopPool {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { name, namespace: "team-a" },
    spec: {
      image: { source: "file:///g.qcow2", sha256: "a".repeat(64) },
      resources: { cpu: "2", memory: "4Gi", disk: "40Gi" },
      max: 10,
      ...o,
    },
  };
}
