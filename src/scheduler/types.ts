// Input and output types of the scheduler. Deliberately independent of the CRD types: the
// controller maps HostNode/DesktopPool objects onto these small views, so placement stays a
// pure, easily tested function of plain data.

export type HypervisorType = "libvirt" | "kubevirt" | "simulated";

/** Absolute amounts: CPU in millicores, memory and disk in bytes. */
export interface Resources {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
}

/** What the scheduler needs to know about one hypervisor host. */
export interface HostView {
  readonly name: string;
  readonly hypervisorType: HypervisorType;
  readonly labels: Readonly<Record<string, string>>;
  readonly ready: boolean;
  /** Cordoned: no new desktops. */
  readonly unschedulable: boolean;
  /** A drain has been requested. */
  readonly draining: boolean;
  readonly capacity: Resources;
  /** Multipliers on CPU and memory capacity; disk is never overcommitted. */
  readonly overcommit: { readonly cpu: number; readonly memory: number };
  readonly allocated: Resources & { readonly desktops: number };
  /** Desktops currently being provisioned on this host. */
  readonly provisioning: number;
  /** sha256 digests of the golden images cached on the host's local disk. */
  readonly cachedImages: readonly string[];
}

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values?: readonly string[];
}

/** A Kubernetes label selector; an empty (or absent) selector matches every host. */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export type PlacementStrategy = "BreadthFirst" | "DepthFirst";

/** One desktop to place. */
export interface DesktopRequest {
  readonly pool: string;
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly imageSha256: string;
  /** Allowed hypervisor types; absent or empty allows all. */
  readonly hypervisorTypes?: readonly string[];
  readonly hostSelector?: LabelSelector;
  readonly strategy: PlacementStrategy;
  /** At least 1; `Infinity` means no limit. */
  readonly maxProvisioningPerHost: number;
  /** Hosts refused because the pool's recent desktops failed there (see controllers/pool/failure-backoff.ts). */
  readonly backingOff?: ReadonlySet<string>;
  /** The image names a containerDisk, the only form a KubeVirt host can boot (default false). */
  readonly containerDisk?: boolean;
}

/** Why a filter refused a host (CamelCase, as Kubernetes condition reasons). */
export type FilterReason =
  | "HostNotReady"
  | "HostCordoned"
  | "HostDraining"
  | "HypervisorTypeMismatch"
  | "NoContainerDisk"
  | "LabelsMismatch"
  | "FailureBackoff"
  | "InsufficientCPU"
  | "InsufficientMemory"
  | "InsufficientDisk"
  | "ProvisioningLimit";

/** Every filter reason, plus `InvalidRequest` when the request itself cannot be evaluated. */
export type UnschedulableReason = FilterReason | "InvalidRequest";

export type ScheduleResult =
  | { readonly host: string }
  | {
      readonly host: null;
      /** How many hosts were refused for each reason (one reason per host). */
      readonly reasons: Readonly<Partial<Record<UnschedulableReason, number>>>;
      /** e.g. "0/5 hosts are available: 2 HostCordoned, 3 InsufficientMemory." */
      readonly message: string;
    };
