// DesktopProfile: one user's profile on one store, like a PersistentVolume holds one volume's
// data. The session controller creates it at the user's first logon to a ProfileManaged pool and
// hands its write lock (spec.lock, carrying a fencing epoch) to one session at a time; the agent
// that syncs the profile reports what is on the store in status.
import { Plurals } from "../constants.js";
import type { KindDefinition, Schema, ValidationRule } from "./openapi.js";
import { dateTime, duration, objectName, text } from "./primitives.js";
import { conditions, observedGeneration, profileStoreRef } from "./shared.js";
import { tsNamed } from "./ts-names.js";

export const PROFILE_STATES = ["Idle", "InUse", "Syncing", "Failed"] as const;

function immutable(path: string): ValidationRule {
  return {
    rule: "self == oldSelf",
    message: `${path} is immutable; a profile belongs to one user on one store`,
  };
}

const lock: Schema = tsNamed("ProfileLock", {
  description:
    "The write lock: the one session whose desktop may publish new versions of this profile. Set and cleared " +
    "by the session controller with resourceVersion-checked writes.",
  type: "object",
  required: ["session", "sessionUID", "epoch"],
  properties: {
    session: objectName("Name of the DesktopSession holding the lock (same namespace)."),
    sessionUID: text(
      "UID of that DesktopSession, so a new session of the same name is not taken for it.",
      64,
      {
        minLength: 1,
      },
    ),
    pool: objectName("The DesktopPool the holding session logged on to."),
    epoch: {
      description:
        "The fencing epoch of this lock: equal to spec.epoch when it was taken. The store refuses a publish " +
        "from any lower epoch.",
      type: "integer",
      format: "int64",
      minimum: 1,
    },
    since: dateTime("When the lock was taken."),
  },
});

const spec: Schema = tsNamed("DesktopProfileSpec", {
  description: "Whose profile this is, where it is kept, and who may write it now.",
  type: "object",
  required: ["user", "store"],
  properties: {
    user: text("The user the profile belongs to, exactly as in DesktopSession spec.user. Immutable.", 256, {
      minLength: 1,
      "x-kubernetes-validations": [immutable("spec.user")],
    }),
    store: {
      ...profileStoreRef,
      "x-kubernetes-validations": [immutable("spec.store")],
    },
    restore: tsNamed("ProfileRestore", {
      description:
        "Set by an admin to make an earlier version the head again (the later versions stay on the store). " +
        "The controller does it and removes this field; refused while a session holds the write lock.",
      type: "object",
      required: ["version"],
      properties: {
        version: text(
          "The version to make head, e.g. v000003-e7.qcow2: one of status.restorable (c... names a compacted base).",
          64,
          {
            pattern: "^[vc][0-9]{6}-e[0-9]+\\.qcow2$",
          },
        ),
      },
    }),
    epoch: {
      description:
        "The last fencing epoch handed out; each new lock takes the next one. It never decreases, so a writer " +
        "of an older lock can be refused by the store.",
      type: "integer",
      format: "int64",
      minimum: 0,
      default: 0,
      "x-kubernetes-validations": [
        { rule: "self >= oldSelf", message: "spec.epoch never decreases; a lock takes spec.epoch + 1" },
      ],
    },
    lock,
  },
  "x-kubernetes-validations": [
    {
      rule: "!(has(self.restore) && has(self.lock))",
      message:
        "spec.restore cannot be set while a session holds the profile's write lock (spec.lock): restore the " +
        "profile after the user logs off",
      fieldPath: ".restore",
    },
    {
      rule: "!has(self.lock) || (has(self.epoch) && self.lock.epoch == self.epoch)",
      message: "spec.lock.epoch must equal spec.epoch: a lock always takes the newest epoch",
      fieldPath: ".lock",
    },
  ],
});

const status: Schema = tsNamed("DesktopProfileStatus", {
  description: "What is on the store and what is happening to it.",
  type: "object",
  properties: {
    observedGeneration: observedGeneration("DesktopProfile"),
    state: tsNamed(
      "ProfileState",
      {
        description:
          "Idle (no session holds the lock), InUse (a session holds it), Syncing (a version is being " +
          "uploaded), Failed (the last sync failed; see the Synced condition).",
        type: "string",
        enum: PROFILE_STATES,
      },
      "What is happening to a profile now.",
    ),
    head: text("The newest version published on the store; empty before the first logoff.", 253),
    versions: {
      description:
        "How many versions the store holds (the pool's spec.profile.retention and the chains they need).",
      type: "integer",
      format: "int32",
      minimum: 0,
    },
    restorable: {
      description:
        "The saved versions spec.restore may name, newest first (at most the newest 100 are listed).",
      type: "array",
      maxItems: 100,
      items: text("A version's file name on the store.", 253),
    },
    size: text("Bytes the versions take on the store, as a quantity such as 120Mi.", 64),
    used: text(
      "Bytes of data the profile holds (its head), as a quantity such as 90Mi: what it uses of its quota.",
      64,
    ),
    quota: text("The profile disk's size when it was last saved (the pool's spec.profile.quota).", 64),
    lastSyncTime: dateTime("When the last sync finished."),
    lastSyncDuration: duration("How long the last sync took, e.g. 2.5s."),
    conditions: conditions(
      "Conditions of the profile: Synced (whether the last version reached the store) and AtQuota " +
        "(whether the profile holds 95% of its quota or more: the user's writes are about to fail).",
    ),
  },
});

export const desktopProfile: KindDefinition = {
  kind: "DesktopProfile",
  plural: Plurals.DesktopProfile,
  singular: "desktopprofile",
  shortNames: ["dprof"],
  scope: "Namespaced",
  description:
    "DesktopProfile is one user's profile on one profile store: what survives the user's transient desktops. " +
    "One session at a time holds its write lock.",
  spec,
  status,
  printerColumns: [
    { name: "User", type: "string", jsonPath: ".spec.user", description: "Whose profile." },
    { name: "Store", type: "string", jsonPath: ".spec.store.address", description: "The file server." },
    {
      name: "State",
      type: "string",
      jsonPath: ".status.state",
      description: "Idle, InUse, Syncing or Failed.",
    },
    {
      name: "Lock",
      type: "string",
      jsonPath: ".spec.lock.session",
      description: "Session holding the write lock.",
    },
    { name: "Head", type: "string", jsonPath: ".status.head", description: "Newest version on the store." },
    {
      name: "Versions",
      type: "integer",
      jsonPath: ".status.versions",
      description: "Versions on the store.",
    },
    { name: "Used", type: "string", jsonPath: ".status.used", description: "Data the profile holds." },
    { name: "Quota", type: "string", jsonPath: ".status.quota", description: "Its quota.", priority: 1 },
    { name: "Size", type: "string", jsonPath: ".status.size", description: "Bytes on the store." },
    {
      name: "Last-Sync",
      type: "date",
      jsonPath: ".status.lastSyncTime",
      description: "When the last sync ended.",
    },
    {
      name: "Sync-Took",
      type: "string",
      jsonPath: ".status.lastSyncDuration",
      description: "How long the last sync took.",
      priority: 1,
    },
    {
      name: "Epoch",
      type: "integer",
      jsonPath: ".spec.epoch",
      description: "Last fencing epoch.",
      priority: 1,
    },
    {
      name: "Path",
      type: "string",
      jsonPath: ".spec.store.path",
      description: "Directory on the file server.",
      priority: 1,
    },
  ],
  selectableFields: [".spec.user"],
};
