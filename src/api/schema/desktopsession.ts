// DesktopSession: one user's logon, like a PersistentVolumeClaim binds a volume. It binds to
// one Desktop of its pool; deleting it is the logoff.
import { Plurals } from "../constants.js";
import type { KindDefinition, Schema, ValidationRule } from "./openapi.js";
import { dateTime, objectName, text } from "./primitives.js";
import { conditions, endpoint, observedGeneration, profileMode } from "./shared.js";
import { tsNamed } from "./ts-names.js";

export const SESSION_PHASES = ["Pending", "Bound", "Ready", "Ending", "Ended", "Failed"] as const;

/** Why a session ended (status.endReason), a closed vocabulary. */
export const SESSION_END_REASONS = [
  "UserLogoff",
  "IdleTimeout",
  "DisconnectedTimeout",
  "MaxDurationExceeded",
  "HostDrained",
  "DesktopFailed",
  "HostRemoved",
  "PoolDeleted",
  "ProfileInUse",
] as const;

function immutable(path: string): ValidationRule {
  return { rule: "self == oldSelf", message: `${path} is immutable; end this session and create a new one` };
}

const spec: Schema = tsNamed("DesktopSessionSpec", {
  description: "The logon request: which pool and which user. Create it to log on, delete it to log off.",
  type: "object",
  required: ["poolRef", "user"],
  properties: {
    poolRef: {
      ...objectName("Name of the DesktopPool to take a desktop from (same namespace). Immutable."),
      "x-kubernetes-validations": [immutable("spec.poolRef")],
    },
    user: text("The user logging on, e.g. alice@example.com. Immutable.", 256, {
      minLength: 1,
      "x-kubernetes-validations": [immutable("spec.user")],
    }),
    clientInfo: tsNamed("ClientInfo", {
      description: "What the broker knows about the user's client device, for display and audit.",
      type: "object",
      properties: {
        hostname: text("The client device's host name.", 253),
        address: text("The client's IP address as the broker saw it.", 64),
        userAgent: text("The client software and version, e.g. remote-viewer 11.0.", 256),
      },
    }),
  },
});

const status: Schema = tsNamed("DesktopSessionStatus", {
  description: "The observed state of the logon, written by the session controller (connected: by a broker).",
  type: "object",
  properties: {
    observedGeneration: observedGeneration("DesktopSession"),
    phase: tsNamed(
      "SessionPhase",
      {
        description:
          "Pending (waiting for a desktop), Bound (desktop reserved), Ready (endpoint published), Ending " +
          "(logging off), Ended, Failed.",
        type: "string",
        enum: SESSION_PHASES,
      },
      "Where a DesktopSession is in its life, from Pending to Ended (or Failed).",
    ),
    desktopRef: objectName("Name of the Desktop bound to this session (same namespace)."),
    hostRef: objectName("Name of the HostNode the bound desktop runs on."),
    endpoint,
    boundAt: dateTime("When a desktop was bound."),
    readyAt: dateTime("When the endpoint was published."),
    endedAt: dateTime("When the session ended."),
    endReason: tsNamed(
      "SessionEndReason",
      {
        description:
          "Why the session ended: UserLogoff, IdleTimeout, DisconnectedTimeout, MaxDurationExceeded, " +
          "HostDrained, DesktopFailed, HostRemoved (its desktop's HostNode was deleted), PoolDeleted or ProfileInUse (another session holds the user's profile and " +
          "the pool's spec.profile.concurrentSession is Refuse).",
        type: "string",
        enum: SESSION_END_REASONS,
      },
      "Why a DesktopSession ended.",
    ),
    connected: {
      description:
        "Whether a console is open now, as reported by a broker (status.console has the times). Closing the " +
        "browser is a disconnect, not a logoff: the session goes on and a reconnect finds it.",
      type: "boolean",
    },
    console: tsNamed("SessionConsole", {
      description:
        "Written by a broker: the console tickets already used (each works once, across every broker " +
        "replica) until they expire, and when a console last opened and closed.",
      type: "object",
      properties: {
        connectedAt: dateTime("When a console of this session last opened."),
        disconnectedAt: dateTime("When a console of this session last closed."),
        redeemedTickets: {
          description: "Used tickets that have not expired yet; expired ones are dropped on the next write.",
          type: "array",
          maxItems: 32,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["id"],
          items: tsNamed("RedeemedTicket", {
            description: "A console ticket used once, kept until it expires.",
            type: "object",
            required: ["id", "expiresAt"],
            properties: {
              id: text("The ticket's id (not the ticket: it cannot be used to connect).", 64, {
                pattern: "^[A-Za-z0-9_-]+$",
              }),
              expiresAt: dateTime("When the ticket expires."),
            },
          }),
        },
      },
    }),
    lastActivityTime: dateTime(
      "Last user input seen, as reported by a broker; drives spec.session.idleTimeout.",
    ),
    notice: tsNamed("SessionNotice", {
      description: "A notice for the user, e.g. that the host is being drained and when logoff is forced.",
      type: "object",
      required: ["message"],
      properties: {
        message: text("The text to show the user.", 1024),
        deadline: dateTime("When the session will be ended, if it will."),
      },
    }),
    profile: tsNamed("SessionProfile", {
      description: "The user's DesktopProfile for this session, on a ProfileManaged pool.",
      type: "object",
      required: ["name", "mode"],
      properties: {
        name: objectName("Name of the DesktopProfile (same namespace)."),
        mode: profileMode,
        epoch: {
          description: "The fencing epoch of the write lock this session holds (ReadWrite only).",
          type: "integer",
          format: "int64",
          minimum: 1,
        },
      },
    }),
    conditions: conditions("Ready (summary) and Bound; see src/api/conditions.ts."),
  },
});

export const desktopSession: KindDefinition = {
  kind: "DesktopSession",
  plural: Plurals.DesktopSession,
  singular: "desktopsession",
  shortNames: ["sess"], // not "ds": kubectl resolves that to DaemonSets
  scope: "Namespaced",
  description:
    "DesktopSession is one user's logon to a DesktopPool: it binds to one Desktop and publishes its " +
    "endpoint. Deleting it logs the user off and destroys the desktop.",
  spec,
  status,
  printerColumns: [
    { name: "User", type: "string", jsonPath: ".spec.user", description: "User logged on." },
    { name: "Pool", type: "string", jsonPath: ".spec.poolRef", description: "Pool the desktop comes from." },
    {
      name: "Host",
      type: "string",
      jsonPath: ".status.hostRef",
      description: "HostNode of the bound desktop.",
    },
    { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Lifecycle phase." },
    {
      name: "Desktop",
      type: "string",
      jsonPath: ".status.desktopRef",
      description: "Bound desktop.",
      priority: 1,
    },
    {
      name: "Age",
      type: "date",
      jsonPath: ".metadata.creationTimestamp",
      description: "Time since creation.",
    },
  ],
  selectableFields: [".spec.poolRef", ".spec.user"],
};
