// The closed vocabulary of condition types and reasons, per kind. Every condition a griddesk
// component writes uses a type and a reason from here; `Ready` is each kind's summary.
// Reasons are CamelCase (metav1.Condition) and each says which condition and status it explains.

export { findCondition, isConditionTrue, setCondition } from "./set-condition.js";
export type { ConditionUpdate } from "./set-condition.js";

type ValueOf<T> = T[keyof T];

// ---------------------------------------------------------------------------------------------
// HostNode

export const HostNodeConditions = {
  /** Summary: the agent's heartbeat is current and it can reach the hypervisor. */
  Ready: "Ready",
  /** Placement may put new desktops here: Ready, not cordoned, not draining. */
  Schedulable: "Schedulable",
  /** A drain requested in spec.drain is in progress. */
  Draining: "Draining",
  /** The requested drain finished: no desktops are left on the host. */
  Drained: "Drained",
} as const;
export type HostNodeConditionType = ValueOf<typeof HostNodeConditions>;

export const HostNodeReasons = {
  /** Ready=True: the agent heartbeats and the hypervisor answers. */
  AgentReady: "AgentReady",
  /** Ready=Unknown: no agent has reported for this host yet. */
  AwaitingAgent: "AwaitingAgent",
  /** Ready=Unknown: the agent's heartbeat Lease expired (as for a Node whose kubelet stopped). */
  HeartbeatExpired: "HeartbeatExpired",
  /** Ready=False: the agent runs but cannot reach the hypervisor. */
  HypervisorUnreachable: "HypervisorUnreachable",
  /** Ready=False: spec.localStoragePath is missing, not writable or full. */
  StorageUnavailable: "StorageUnavailable",
  /** Schedulable=True: placement may use the host. */
  AcceptingDesktops: "AcceptingDesktops",
  /** Schedulable=False: spec.unschedulable is true (set by hand or mirrored from spec.nodeName's Node). */
  Cordoned: "Cordoned",
  /** Schedulable=False: a drain is in progress (also Draining=True). */
  DrainInProgress: "DrainInProgress",
  /** Schedulable=False: the host is not Ready. */
  HostNotReady: "HostNotReady",
  /** Draining=True: idle desktops are gone; waiting for users to log off before the deadline. */
  WaitingForLogoff: "WaitingForLogoff",
  /** Draining=True: the deadline passed and remaining sessions are being ended (forceLogoff). */
  ForcingLogoff: "ForcingLogoff",
  /** Draining=True: the deadline passed, forceLogoff is false, and sessions remain open. */
  DeadlinePassed: "DeadlinePassed",
  /**
   * Draining=False and Drained=False: spec.drain is set, but starting it now would take more of a
   * pool's hosts out of service than its spec.maintenance.maxUnavailableHosts allows; the message
   * names the pool. The drain starts by itself once the budget allows.
   */
  WaitingForBudget: "WaitingForBudget",
  /** Draining=False and Drained=False: spec.drain is absent. */
  NoDrainRequested: "NoDrainRequested",
  /** Draining=False: spec.drain was removed before the drain finished. */
  DrainAborted: "DrainAborted",
  /** Draining=False and Drained=True: no desktops are left on the host. */
  DrainComplete: "DrainComplete",
  /** Drained=False: the drain is in progress and desktops remain. */
  DesktopsRemaining: "DesktopsRemaining",
} as const;
export type HostNodeReason = ValueOf<typeof HostNodeReasons>;

// ---------------------------------------------------------------------------------------------
// DesktopPool

export const DesktopPoolConditions = {
  /** Summary: eligible hosts exist and the warm buffer (and min) is satisfied. */
  Ready: "Ready",
  /** At least one HostNode matches the pool's selector and hypervisor types and is schedulable. */
  HostsAvailable: "HostsAvailable",
  /** status.available has reached spec.buffer (within min and max). */
  BufferSatisfied: "BufferSatisfied",
} as const;
export type DesktopPoolConditionType = ValueOf<typeof DesktopPoolConditions>;

export const DesktopPoolReasons = {
  /** Ready=True: hosts are available and the buffer is satisfied. */
  PoolReady: "PoolReady",
  /** Ready=False: spec.paused is true; the pool neither creates nor deletes desktops. */
  Paused: "Paused",
  /** HostsAvailable=True: one or more eligible hosts. */
  HostsFound: "HostsFound",
  /** HostsAvailable=False (and Ready=False): no host matches, or none is Ready and schedulable. */
  NoEligibleHosts: "NoEligibleHosts",
  /** BufferSatisfied=True: enough warm desktops are Available. */
  BufferFull: "BufferFull",
  /** BufferSatisfied=False (and Ready=False): desktops are being created to fill the buffer. */
  Provisioning: "Provisioning",
  /** BufferSatisfied=False: spec.max is reached, so the buffer cannot grow. */
  AtMaximum: "AtMaximum",
  /** BufferSatisfied=False: eligible hosts lack capacity for another desktop. */
  InsufficientCapacity: "InsufficientCapacity",
  /** BufferSatisfied=False (and Ready=False): new desktops keep failing, e.g. the image cannot be pulled. */
  ProvisioningFailing: "ProvisioningFailing",
  /** Event: a desktop failed before it was ever Available; its host gets no new desktops of the pool for a while. */
  ProvisioningBackoff: "ProvisioningBackoff",
} as const;
export type DesktopPoolReason = ValueOf<typeof DesktopPoolReasons>;

// ---------------------------------------------------------------------------------------------
// Desktop

export const DesktopConditions = {
  /** Summary: the VM runs and its endpoint is published. */
  Ready: "Ready",
  /** spec.hostRef is set. */
  Scheduled: "Scheduled",
  /** The golden image is in the host's cache, verified. */
  ImageReady: "ImageReady",
  /** The hypervisor reports the VM running. */
  VMRunning: "VMRunning",
} as const;
export type DesktopConditionType = ValueOf<typeof DesktopConditions>;

export const DesktopReasons = {
  /** Ready=True: the VM runs and status.endpoint is set. */
  DesktopReady: "DesktopReady",
  /** Ready=False: the desktop is being prepared (image, overlay, VM start). */
  Provisioning: "Provisioning",
  /** Ready=False: provisioning failed; the pool replaces the desktop. See the message. */
  ProvisioningFailed: "ProvisioningFailed",
  /** Ready=Unknown: the host's agent is not reporting. */
  HostNotReady: "HostNotReady",
  /** Ready=False: the desktop is being destroyed. */
  Terminating: "Terminating",
  /** Scheduled=True: placement chose a host. */
  HostAssigned: "HostAssigned",
  /** Scheduled=False: no eligible host has room; see the message for what filtered hosts out. */
  Unschedulable: "Unschedulable",
  /** ImageReady=True: the image is cached and its sha256 verified. */
  ImageCached: "ImageCached",
  /** ImageReady=False: the host is fetching the image. */
  ImagePulling: "ImagePulling",
  /** ImageReady=False: fetching the image failed. */
  ImagePullFailed: "ImagePullFailed",
  /** ImageReady=False: the fetched image's (or a boot file's) sha256 differs from the one named. */
  ChecksumMismatch: "ChecksumMismatch",
  /** ImageReady=False: the host's admin does not allow the image's (or a boot file's) source. */
  SourceNotAllowed: "SourceNotAllowed",
  /** VMRunning=True: the hypervisor reports the VM running. */
  Running: "Running",
  /** VMRunning=False: the VM is being defined or booted. */
  Starting: "Starting",
  /** VMRunning=False: the hypervisor refused or failed to start the VM. */
  StartFailed: "StartFailed",
  /** VMRunning=False: the VM stopped or vanished outside griddesk's control. */
  VMLost: "VMLost",
} as const;
export type DesktopReason = ValueOf<typeof DesktopReasons>;

// ---------------------------------------------------------------------------------------------
// DesktopSession

export const DesktopSessionConditions = {
  /** Summary: a desktop is bound and its endpoint is in status.endpoint. */
  Ready: "Ready",
  /** A desktop of the pool is reserved for this session (status.desktopRef). */
  Bound: "Bound",
  /** ProfileManaged pools: the user's profile is on the desktop (logon) and back on the store (logoff). */
  ProfileSynced: "ProfileSynced",
} as const;
export type DesktopSessionConditionType = ValueOf<typeof DesktopSessionConditions>;

export const DesktopSessionReasons = {
  /** Ready=True: the endpoint is published; the user can connect. */
  SessionReady: "SessionReady",
  /** Ready=False: the bound desktop is still provisioning. */
  DesktopProvisioning: "DesktopProvisioning",
  /** Ready=False and ProfileSynced=False: the user's profile disk is being attached to the desktop. */
  ProfileAttaching: "ProfileAttaching",
  /** Ready=False and ProfileSynced=False: attaching the profile failed; the agent retries (see message). */
  ProfileAttachFailed: "ProfileAttachFailed",
  /** Bound=False (and Ready=False): an admin is restoring or erasing the user's profile; the logon waits. */
  ProfileBusy: "ProfileBusy",
  /** ProfileSynced=True: the profile disk is attached to the desktop. */
  ProfileAttached: "ProfileAttached",
  /** ProfileSynced=False: saving the profile at logoff failed; the disk is kept and the save retried. */
  ProfileSyncFailed: "ProfileSyncFailed",
  /** Ready=False: logoff is in progress (profile sync, desktop deletion). */
  Ending: "Ending",
  /** Ready=False: the session has ended; status.endReason says why. */
  Ended: "Ended",
  /** Ready=False: the bound desktop failed or disappeared. */
  DesktopLost: "DesktopLost",
  /** Bound=True: a desktop is reserved for this session. */
  DesktopBound: "DesktopBound",
  /** Bound=False (and Ready=False): no Available desktop yet; one is being provided. */
  WaitingForDesktop: "WaitingForDesktop",
  /** Bound=False (and Ready=False): spec.poolRef names no DesktopPool in this namespace. */
  PoolNotFound: "PoolNotFound",
  /** Bound=False: the pool is at spec.max with every desktop in use. */
  PoolExhausted: "PoolExhausted",
} as const;
export type DesktopSessionReason = ValueOf<typeof DesktopSessionReasons>;

/** Every condition vocabulary, by kind, so tests and tools can walk them. */
export const ConditionVocabulary = {
  HostNode: { types: HostNodeConditions, reasons: HostNodeReasons },
  DesktopPool: { types: DesktopPoolConditions, reasons: DesktopPoolReasons },
  Desktop: { types: DesktopConditions, reasons: DesktopReasons },
  DesktopSession: { types: DesktopSessionConditions, reasons: DesktopSessionReasons },
} as const;
