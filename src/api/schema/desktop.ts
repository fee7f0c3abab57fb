// Desktop: one VM on one host, like a Pod. Created and owned by its DesktopPool; made real by
// the agent serving its host; bound to at most one DesktopSession for its whole life.
import { Plurals } from "../constants.js";
import type { KindDefinition, Schema, ValidationRule } from "./openapi.js";
import { dateTime, duration, hypervisorType, integer, objectName, quantity, text } from "./primitives.js";
import {
  conditions,
  desktopImage,
  desktopResources,
  endpoint,
  observedGeneration,
  profileMode,
  profileStore,
} from "./shared.js";
import { tsNamed } from "./ts-names.js";

export const DESKTOP_PHASES = [
  "Pending",
  "Provisioning",
  "Available",
  "InUse",
  "Terminating",
  "Failed",
] as const;

/** A field that may be set later (or at creation) but never changed or removed afterwards. */
function setOnce(field: string, why: string): ValidationRule {
  return {
    rule: `!has(oldSelf.${field}) || (has(self.${field}) && self.${field} == oldSelf.${field})`,
    message: `spec.${field} cannot be changed or removed once set; ${why}`,
    fieldPath: `.${field}`,
  };
}

function immutable(field: string, why: string): ValidationRule {
  return {
    rule: `self.${field} == oldSelf.${field}`,
    message: `spec.${field} is immutable; ${why}`,
    fieldPath: `.${field}`,
  };
}

const sessionRef: Schema = tsNamed("SessionReference", {
  description: "The DesktopSession this desktop is bound to, set once by the session controller.",
  type: "object",
  required: ["name", "uid"],
  properties: {
    name: objectName("Name of the DesktopSession, in the desktop's namespace."),
    uid: text(
      "metadata.uid of the DesktopSession, so a re-created session of the same name never inherits it.",
      128,
      {
        minLength: 1,
      },
    ),
  },
});

export const PROFILE_DISK_PHASES = ["Attaching", "Attached", "Syncing", "Synced", "Failed"] as const;

const profile: Schema = tsNamed("ProfileAssignment", {
  description:
    "The user's profile this desktop gets, set with spec.sessionRef by the session controller on a " +
    "ProfileManaged pool: the agent attaches it at logon and (ReadWrite) publishes it at logoff.",
  type: "object",
  required: ["name", "mode", "store", "quota"],
  properties: {
    name: objectName("Name of the DesktopProfile (same namespace)."),
    mode: profileMode,
    epoch: {
      description: "The write lock's fencing epoch (ReadWrite only).",
      type: "integer",
      format: "int64",
      minimum: 1,
    },
    store: profileStore,
    quota: quantity("spec.profile.quota", "The profile disk's size, from the pool.", { positive: true }),
    compactAfter: integer(
      "Merge the profile's chain into one base once it is longer than this, from the pool.",
      2,
      1000,
    ),
    retention: integer("How many of the newest saved versions the store keeps, from the pool.", 1, 1000),
    writeBackInterval: duration("Write the profile back this often during the session, from the pool."),
  },
  "x-kubernetes-validations": [
    {
      rule: "self.mode == 'ReadWrite' ? has(self.epoch) : !has(self.epoch)",
      message: "spec.profile.epoch is required for mode ReadWrite and not allowed for mode ReadOnly",
      fieldPath: ".epoch",
    },
  ],
});

const spec: Schema = tsNamed("DesktopSpec", {
  description: "The desired state of one desktop VM, written by the pool and session controllers.",
  type: "object",
  required: ["poolRef", "image", "resources"],
  properties: {
    poolRef: objectName("Name of the DesktopPool this desktop belongs to (same namespace). Immutable."),
    hostRef: objectName(
      "Name of the HostNode the desktop is placed on. Set once by placement, then immutable.",
    ),
    hypervisorType: hypervisorType(
      "Hypervisor type of the host, copied at placement. Set once, then immutable.",
    ),
    image: desktopImage,
    resources: desktopResources,
    sessionRef,
    profile,
    imageHash: text(
      "The pool's status.imageHash when this desktop was created; outdated desktops are replaced.",
      128,
    ),
  },
  "x-kubernetes-validations": [
    immutable("poolRef", "a desktop never moves between pools"),
    immutable("image", "the pool replaces outdated desktops instead"),
    immutable("resources", "the pool replaces outdated desktops instead"),
    setOnce("hostRef", "a desktop never moves between hosts; delete it instead"),
    setOnce("hypervisorType", "it follows spec.hostRef"),
    setOnce("sessionRef", "a desktop serves exactly one session and is deleted at logoff"),
    setOnce("profile", "a desktop serves exactly one session and is deleted at logoff"),
  ],
});

const status: Schema = tsNamed("DesktopStatus", {
  description: "The observed state of the desktop, written by the agent serving its host.",
  type: "object",
  properties: {
    observedGeneration: observedGeneration("Desktop"),
    phase: tsNamed(
      "DesktopPhase",
      {
        description:
          "Pending (not yet placed or started), Provisioning (image and VM being prepared), Available (ready, " +
          "unassigned), InUse (bound to a session), Terminating (being destroyed), Failed.",
        type: "string",
        enum: DESKTOP_PHASES,
      },
      "Where a Desktop is in its life, from Pending to Terminating (or Failed).",
    ),
    conditions: conditions(
      "Ready (summary), Scheduled, ImageReady and VMRunning; see src/api/conditions.ts.",
    ),
    endpoint,
    vmId: text("The hypervisor's identifier of the VM, e.g. a libvirt domain UUID.", 253),
    overlayPath: text("Path of the copy-on-write overlay on the host.", 4096),
    message: text("Human-readable detail on the phase, e.g. why provisioning failed.", 4096),
    provisionedAt: dateTime("When the desktop first became Available."),
    profile: tsNamed("ProfileDiskStatus", {
      description: "Where the desktop's profile disk is, written by the agent.",
      type: "object",
      required: ["phase"],
      properties: {
        phase: tsNamed(
          "ProfileDiskPhase",
          {
            description:
              "Attaching (fetching the profile and hot-plugging its disk), Attached (the guest has it), Syncing " +
              "(logoff: publishing it), Synced (on the store; the desktop may go), Failed (see message; retried).",
            type: "string",
            enum: PROFILE_DISK_PHASES,
          },
          "Where a desktop's profile disk is.",
        ),
        version: text("The version this desktop's disk becomes on the store (ReadWrite).", 253),
        message: text("What went wrong, or what is being done.", 4096),
        attempts: {
          description: "Failed attempts at the present step; reset when it succeeds.",
          type: "integer",
          format: "int32",
          minimum: 0,
        },
        lastAttemptTime: dateTime(
          "When the present step last failed; the next attempt waits a backoff from it.",
        ),
        lastWriteBackTime: dateTime(
          "When the profile was last written back during the session (its attach, before the first); the " +
            "next write-back is due one spec.profile.writeBackInterval after it.",
        ),
      },
    }),
  },
});

export const desktop: KindDefinition = {
  kind: "Desktop",
  plural: Plurals.Desktop,
  singular: "desktop",
  shortNames: ["dt"],
  scope: "Namespaced",
  description:
    "Desktop is one transient VM on one HostNode, owned by its DesktopPool, like a Pod: a copy-on-write " +
    "overlay over the pool's golden image and a console endpoint. It is destroyed at logoff.",
  spec,
  status,
  printerColumns: [
    { name: "Pool", type: "string", jsonPath: ".spec.poolRef", description: "Owning pool." },
    { name: "Host", type: "string", jsonPath: ".spec.hostRef", description: "HostNode it runs on." },
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Lifecycle phase." },
    {
      name: "Session",
      type: "string",
      jsonPath: ".spec.sessionRef.name",
      description: "Bound session, if any.",
    },
    { name: "Endpoint", type: "string", jsonPath: ".status.endpoint.host", description: "Console host." },
    { name: "Port", type: "integer", jsonPath: ".status.endpoint.port", description: "Console port." },
    {
      name: "Protocol",
      type: "string",
      jsonPath: ".status.endpoint.protocol",
      description: "Console protocol.",
      priority: 1,
    },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
  selectableFields: [".spec.hostRef", ".spec.poolRef"],
};
