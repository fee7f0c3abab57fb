// Names that more than one component must spell identically: the API group, kinds, plurals,
// and the label, annotation and finalizer keys griddesk writes on objects.

export const GROUP = "griddesk.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** The `categories` entry of every griddesk CRD, so `kubectl get griddesk` lists them all. */
export const CATEGORY = "griddesk";

export const Kinds = {
  HostNode: "HostNode",
  DesktopPool: "DesktopPool",
  Desktop: "Desktop",
  DesktopSession: "DesktopSession",
  DesktopProfile: "DesktopProfile",
} as const;
export type Kind = (typeof Kinds)[keyof typeof Kinds];

/** Resource names (plurals) as used in API paths and RBAC rules. */
export const Plurals = {
  HostNode: "hostnodes",
  DesktopPool: "desktoppools",
  Desktop: "desktops",
  DesktopSession: "desktopsessions",
  DesktopProfile: "desktopprofiles",
} as const satisfies Record<Kind, string>;

export const Labels = {
  /** On a Desktop: the name of the DesktopPool that owns it (same namespace). */
  Pool: `${GROUP}/pool`,
  /** On a Desktop: the HostNode it is placed on; agents watch only their hosts' desktops by it. */
  Host: `${GROUP}/host`,
  /** On a Desktop: the DesktopSession bound to it, once bound. */
  Session: `${GROUP}/session`,
  /** On a HostNode: its hypervisor type (libvirt, kubevirt, simulated), for selectors. */
  Hypervisor: `${GROUP}/hypervisor`,
  /** On a HostNode and its Desktops: the agent serving the host; agents watch their Desktops by it. */
  Agent: `${GROUP}/agent`,
  /**
   * On a DesktopProfile: its user, made label-safe (see src/profiles/naming.ts) for selecting;
   * spec.user is the exact value.
   */
  User: `${GROUP}/user`,
} as const;

export const Annotations = {
  /** On a Desktop: the DesktopPool's metadata.generation it was created from. */
  PoolGeneration: `${GROUP}/pool-generation`,
  /**
   * On a HostNode: who set spec.unschedulable ("node-mirror" when copied from the Kubernetes
   * Node named by spec.nodeName), so the mirror only ever lifts a cordon it set itself.
   */
  CordonedBy: `${GROUP}/cordoned-by`,
  /**
   * On a Desktop: a notice for the user of its VM (a drain's warning), set by the controller; the
   * agent delivers it into the guest through the adapter's notify hook.
   */
  Notice: `${GROUP}/notice`,
  /** On a Desktop: a digest of the last notice the agent handed to the adapter, so each is sent once. */
  NoticeDelivered: `${GROUP}/notice-delivered`,
  /** On any griddesk object: an RFC 3339 time; changing it asks the owning controller to reconcile now. */
  ReconcileRequestedAt: `${GROUP}/reconcile-requested-at`,
} as const;

/** The value of Annotations.CordonedBy when the cordon mirrors a Kubernetes Node. */
export const CORDONED_BY_NODE_MIRROR = "node-mirror";

export const Finalizers = {
  /** On a Desktop: the agent removes it only after the VM and its overlay are destroyed. */
  DesktopCleanup: `${GROUP}/desktop-cleanup`,
  /** On a DesktopSession: removed after the profile is synced back and the desktop deleted. */
  SessionCleanup: `${GROUP}/session-cleanup`,
  /** On a HostNode: removed after the agent has destroyed leftover VMs and cached images. */
  HostCleanup: `${GROUP}/host-cleanup`,
  /** On a DesktopProfile: removed after the user's data is erased from the store. */
  ProfileErase: `${GROUP}/profile-erase`,
} as const;

/** Field managers for server-side apply and managedFields, one per component. */
export const FieldManagers = {
  Controller: "griddesk-controller",
  Agent: "griddesk-agent",
  Cli: "kubectl-griddesk",
  Broker: "griddesk-broker",
} as const;
