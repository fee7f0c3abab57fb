// DesktopPool: a ReplicaSet of transient desktops across hosts of any hypervisor.
import { Plurals } from "../constants.js";
import type { KindDefinition, Schema } from "./openapi.js";
import { count, duration, hypervisorType, integer, positiveDuration, quantity, text } from "./primitives.js";
import {
  conditions,
  desktopImage,
  desktopResources,
  labelSelector,
  observedGeneration,
  profileStore,
} from "./shared.js";
import { tsNamed } from "./ts-names.js";

const MAX_DESKTOPS = 10000;

const placement: Schema = tsNamed("PlacementPolicy", {
  description: "How new desktops are spread over the eligible hosts.",
  type: "object",
  default: {},
  properties: {
    strategy: tsNamed(
      "PlacementStrategy",
      {
        description:
          "BreadthFirst spreads desktops over the least-loaded hosts; DepthFirst fills one host before the next.",
        type: "string",
        enum: ["BreadthFirst", "DepthFirst"],
        default: "BreadthFirst",
      },
      "How placement spreads desktops over hosts.",
    ),
    maxProvisioningPerHost: integer(
      "How many of this pool's desktops one host may provision at once, 1 to 100.",
      1,
      100,
      {
        default: 4,
      },
    ),
  },
});

const session: Schema = tsNamed("SessionPolicy", {
  description: "What a logon gets and how long it may last. Durations are Go durations such as 30m or 12h.",
  type: "object",
  default: {},
  properties: {
    persistence: tsNamed(
      "SessionPersistence",
      {
        description:
          "NonPersistent: nothing survives logoff. ProfileManaged: each user has a DesktopProfile on " +
          "spec.profile.store, attached to the desktop at logon and saved back at logoff by one session at a " +
          "time (the desktop itself is still discarded).",
        type: "string",
        enum: ["NonPersistent", "ProfileManaged"],
        default: "NonPersistent",
      },
      "What survives a logoff.",
    ),
    idleTimeout: positiveDuration(
      "spec.session.idleTimeout",
      "End a session with no user input for this long, e.g. 30m. Omitted: never.",
    ),
    disconnectedTimeout: positiveDuration(
      "spec.session.disconnectedTimeout",
      "End a session whose client has been disconnected this long, e.g. 15m. Omitted: never.",
    ),
    maxDuration: positiveDuration(
      "spec.session.maxDuration",
      "End any session this long after logon, e.g. 12h. Omitted: no limit.",
    ),
  },
});

export const CONCURRENT_SESSION_POLICIES = ["Refuse", "ReadOnly"] as const;

const profile: Schema = tsNamed("ProfilePolicy", {
  description:
    "Where user profiles live and how they are kept; required when spec.session.persistence is ProfileManaged.",
  type: "object",
  required: ["store", "quota"],
  properties: {
    store: profileStore,
    quota: quantity(
      "spec.profile.quota",
      "The size of each user's profile disk, e.g. 5Gi: the most one user's profile may hold, at most 2Ti.",
      { positive: true },
    ),
    compactAfter: integer(
      "Once a profile's chain of versions is longer than this, the agent merges it into one new base at " +
        "logoff (published like any version), so a logon never opens a long chain. 2 to 1000.",
      2,
      1000,
      { default: 16 },
    ),
    retention: integer(
      "How many of a profile's newest saved versions the store keeps for an admin to restore " +
        "(spec.restore on the DesktopProfile), each with the chain it needs; older versions are deleted at " +
        "logoff, never one a lock holder's chain still needs. 1 to 1000.",
      1,
      1000,
      { default: 10 },
    ),
    writeBackInterval: duration(
      "Write-back while the session runs, e.g. 15m: every interval the agent freezes the profile disk " +
        "(the VM goes on over a fresh overlay) and publishes what the user wrote so far as a version, so a " +
        "host that dies loses at most one interval of the user's work. At least 10s. Omitted: off (the " +
        "profile is saved at logoff only).",
    ),
    concurrentSession: tsNamed(
      "ConcurrentSessionPolicy",
      {
        description:
          "What a second session of a user whose profile is in use gets. Refuse: the session ends at once with " +
          "endReason ProfileInUse, naming the session that holds the profile. ReadOnly: the session gets a " +
          "throwaway copy of the profile whose changes are discarded at its logoff.",
        type: "string",
        enum: CONCURRENT_SESSION_POLICIES,
        default: "Refuse",
      },
      "What a second concurrent session of the same user gets.",
    ),
  },
  "x-kubernetes-validations": [
    {
      rule: "!isQuantity(string(self.quota)) || quantity(string(self.quota)).compareTo(quantity('2Ti')) <= 0",
      message: "spec.profile.quota must be at most 2Ti",
      fieldPath: ".quota",
    },
    {
      rule: "!has(self.writeBackInterval) || duration(self.writeBackInterval) >= duration('10s')",
      message: "spec.profile.writeBackInterval must be at least 10s (omit it to save at logoff only)",
      fieldPath: ".writeBackInterval",
    },
  ],
});

const maintenance: Schema = tsNamed("MaintenancePolicy", {
  description: "Limits on host maintenance, so a rolling drain across the fleet never empties the pool.",
  type: "object",
  default: {},
  properties: {
    maxUnavailableHosts: tsNamed(
      "IntOrString",
      {
        description:
          "How many of the pool's eligible hosts may be cordoned or draining at once: a count such as 1 or a " +
          "percentage of eligible hosts such as 10%.",
        "x-kubernetes-int-or-string": true,
        anyOf: [{ type: "integer" }, { type: "string" }],
        maxLength: 4,
        default: 1,
        "x-kubernetes-validations": [
          {
            rule: "type(self) == int ? self >= 0 : self.matches('^(100|[1-9]?[0-9])%$')",
            message:
              "spec.maintenance.maxUnavailableHosts must be an integer of at least 0 or a percentage from 0% to 100%, such as 10%",
          },
        ],
      },
      'An integer or a string such as a percentage ("10%").',
    ),
  },
});

const principals = (what: string): Schema => ({
  description: `${what} Exact, case-sensitive matches.`,
  type: "array",
  maxItems: 256,
  items: text("A name as the broker's identity provider gives it.", 256, { minLength: 1 }),
  "x-kubernetes-list-type": "set",
});

const access: Schema = tsNamed("PoolAccess", {
  description:
    "Who may use this pool through the broker (the portal): a user is entitled when named in users or " +
    "when one of their groups is named in groups. Omitted or empty: nobody through the broker (sessions " +
    "made with kubectl are not affected).",
  type: "object",
  properties: {
    users: principals("User names (the identity provider's preferred_username, or a static user's name)."),
    groups: principals("Group names (the identity provider's groups claim, or a static user's groups)."),
  },
});

const spec: Schema = tsNamed("DesktopPoolSpec", {
  description: "The desired state of the pool: image, desktop size, hosts, counts and policies.",
  type: "object",
  required: ["image", "resources", "max"],
  properties: {
    image: desktopImage,
    resources: desktopResources,
    hostSelector: labelSelector(
      "Which HostNodes may run this pool's desktops, by label, across any hypervisor. Empty selects every host.",
      { default: {} },
    ),
    hypervisorTypes: {
      description: "Restricts placement to hosts of these hypervisor types. Omitted: any type.",
      type: "array",
      maxItems: 3,
      items: hypervisorType("A hypervisor type: libvirt, kubevirt or simulated."),
      "x-kubernetes-list-type": "set",
    },
    min: integer("Desktops kept in existence even when nobody is logged on, 0 to max.", 0, MAX_DESKTOPS, {
      default: 0,
    }),
    max: integer(`Most desktops the pool may have, in use or not, 1 to ${MAX_DESKTOPS}.`, 1, MAX_DESKTOPS),
    buffer: integer(
      "Warm desktops kept Available (ready, unassigned) for fast logon, 0 to max.",
      0,
      MAX_DESKTOPS,
      {
        default: 0,
      },
    ),
    placement,
    session,
    access,
    profile,
    maintenance,
    paused: {
      description: "When true the pool neither creates nor deletes desktops; existing sessions continue.",
      type: "boolean",
      default: false,
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "!has(self.min) || self.min <= self.max",
      message: "spec.min must be less than or equal to spec.max",
      fieldPath: ".min",
    },
    {
      rule: "!has(self.buffer) || self.buffer <= self.max",
      message: "spec.buffer must be less than or equal to spec.max",
      fieldPath: ".buffer",
    },
    {
      rule: "!has(self.session) || !has(self.session.persistence) || self.session.persistence != 'ProfileManaged' || has(self.profile)",
      message:
        "spec.profile (with a store and a quota) is required when spec.session.persistence is ProfileManaged",
      fieldPath: ".profile",
      reason: "FieldValueRequired",
    },
    {
      rule: "!has(self.profile) || (has(self.session) && has(self.session.persistence) && self.session.persistence == 'ProfileManaged')",
      message:
        "spec.profile is only used when spec.session.persistence is ProfileManaged; set that or remove spec.profile",
      fieldPath: ".profile",
    },
  ],
});

const status: Schema = tsNamed("DesktopPoolStatus", {
  description: "The observed state of the pool, written by the pool controller.",
  type: "object",
  properties: {
    observedGeneration: observedGeneration("DesktopPool"),
    conditions: conditions("Ready (summary), HostsAvailable and BufferSatisfied; see src/api/conditions.ts."),
    replicas: count("Desktops of this pool in any phase."),
    available: count("Desktops Available: ready and not bound to a session."),
    provisioning: count("Desktops Pending or Provisioning."),
    inUse: count("Desktops bound to a session."),
    failed: count("Desktops Failed and not yet replaced."),
    hosts: count(
      "HostNodes eligible for this pool (selector and hypervisor type match, Ready, schedulable).",
    ),
    imageHash: text("Hash of spec.image; desktops whose spec.imageHash differs are outdated.", 128),
  },
});

export const desktopPool: KindDefinition = {
  kind: "DesktopPool",
  plural: Plurals.DesktopPool,
  singular: "desktoppool",
  shortNames: ["dp"],
  scope: "Namespaced",
  description:
    "DesktopPool keeps a warm buffer of transient desktops from one golden image on any mix of hosts and " +
    "hypervisors, like a ReplicaSet keeps Pods. Users log on through DesktopSessions.",
  spec,
  status,
  printerColumns: [
    { name: "Min", type: "integer", jsonPath: ".spec.min", description: "Desktops kept at least." },
    { name: "Max", type: "integer", jsonPath: ".spec.max", description: "Desktops allowed at most." },
    { name: "Buffer", type: "integer", jsonPath: ".spec.buffer", description: "Warm desktops wanted." },
    {
      name: "Available",
      type: "integer",
      jsonPath: ".status.available",
      description: "Warm desktops ready now.",
    },
    {
      name: "In-Use",
      type: "integer",
      jsonPath: ".status.inUse",
      description: "Desktops bound to sessions.",
    },
    { name: "Total", type: "integer", jsonPath: ".status.replicas", description: "Desktops in any phase." },
    {
      name: "Hosts",
      type: "integer",
      jsonPath: ".status.hosts",
      description: "Eligible hosts.",
      priority: 1,
    },
    {
      name: "Image",
      type: "string",
      jsonPath: ".spec.image.source",
      description: "Golden image.",
      priority: 1,
    },
    {
      name: "Ready",
      type: "string",
      jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      description: "Whether the buffer is satisfied.",
    },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
};
