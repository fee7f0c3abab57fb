// The agent's Desktop reconciler: makes each Desktop bound to one of its hosts real through the
// host's adapter, and reports what the hypervisor says. Level-triggered; every step idempotent.
// Opening sequence: fetch from the cache, ignore other agents' hosts, finalize if deleting,
// ensure the finalizer, leave Failed desktops to the pool; then observe the VM (creating it when
// there is none) and write status once, by a resourceVersion-checked merge patch, if it changed.
import {
  Finalizers,
  toKubeTime,
  type Desktop,
  type DesktopStatus,
  type ProfileDiskStatus,
} from "../api/index.js";
import type { EventSink } from "../controllers/shared/events.js";
import { Superseded } from "../controllers/shared/superseded.js";
import { AdapterError, describeEndpoint, type VmStatus } from "../hypervisors/index.js";
import {
  done,
  keyOf,
  requeueAfter,
  type Cached,
  type Clock,
  type Informer,
  type ObjectClient,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from "../runtime/index.js";
import { QuantityError } from "../scheduler/quantity.js";
import { desiredDesktopStatus, type VmObservation } from "./desktop-status.js";
import { desktopIdentity, vmSpecFor } from "./desktop-vm.js";
import type { ConsoleSecrets } from "./console-secrets.js";
import { deliverNotice } from "./notice.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "./finalizers.js";
import type { HostTable, ServedHost } from "./hosts.js";
import type { ProfileDisks } from "./profile-disks.js";
import { profileRetryIn, writeBackIn } from "./profile-retry.js";
import { AGENT_DESKTOP_FIELDS, fieldPatch } from "./status-patch.js";

const FINALIZER = Finalizers.DesktopCleanup;

/**
 * A VM made in this pass is given this long to come up before its desktop's first status write:
 * most do (the adapter's hint brings the next pass), and their desktops go straight to
 * Available, one status write instead of two. Slower ones are reported Provisioning then.
 */
const FIRST_REPORT_GRACE_MS = 1_000;

export interface DesktopReconcilerDeps {
  readonly desktops: Informer<Desktop>;
  readonly client: ObjectClient<Desktop>;
  readonly hosts: HostTable;
  readonly events: EventSink;
  readonly clock: Clock;
  /** Safety net while a VM provisions (a lost adapter hint costs this much latency). */
  readonly provisioningRecheckMs: number;
  /** Level-triggered safety net for settled desktops: a lost hint (VM gone) is noticed this late. */
  readonly resyncMs: number;
  /** How soon to look again when the desktop's host is ours but not served yet. */
  readonly hostWaitMs: number;
  /** The host's VMs or images changed: report its status soon. */
  readonly hostTouched: (host: string) => void;
  /** Attaches users' profile disks at logon and publishes them at logoff. */
  readonly profiles: ProfileDisks;
  /** Console passwords, for hosts whose adapter sets them. */
  readonly consoles: ConsoleSecrets;
}

/**
 * Saves of a profile at logoff tried before the agent gives up and lets the desktop go: with the
 * retry backoff (profile-retry.ts: 2 s doubling to 5 min) 20 attempts span about an hour. The
 * disk is never deleted: it stays on the host, named in the status and the Event, for recovery.
 */
const MAX_SAVE_ATTEMPTS = 20;

export class DesktopReconciler implements Reconciler {
  /** Desktops this agent wrote: a pass on a cache that has not seen the write is skipped. */
  private readonly superseded = new Superseded();

  constructor(private readonly deps: DesktopReconcilerDeps) {}

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result> {
    const desktop = this.deps.desktops.get(keyOf(req));
    if (desktop === undefined) this.superseded.forget(keyOf(req));
    else if (this.superseded.isBehind(desktop)) return done(); // our write's event is on its way
    const hostName = desktop?.spec.hostRef;
    if (desktop === undefined || hostName === undefined || !this.deps.hosts.isOurs(hostName)) return done();
    const host = this.deps.hosts.get(hostName);
    if (host === undefined) {
      if (this.deps.hosts.isRefused(hostName)) return done();
      ctx.log.debug({ host: hostName }, "host not served (yet); waiting");
      return requeueAfter(this.deps.hostWaitMs);
    }
    if (desktop.metadata.deletionTimestamp) return this.finalize(desktop, host);
    if (!hasFinalizer(desktop, FINALIZER)) {
      await addFinalizer(this.deps.client, desktop, FINALIZER); // its own write; the update re-queues
      this.superseded.wrote(desktop);
      return done();
    }
    if (desktop.status?.phase === "Failed") return done(); // the pool controller replaces it
    return this.sync(desktop, host, ctx);
  }

  private async finalize(desktop: Cached<Desktop>, host: ServedHost): Promise<Result> {
    if (!hasFinalizer(desktop, FINALIZER)) return done();
    // The profile first: unplugged from the running guest and published. Until it is safely on
    // the store the desktop (and the session waiting for it) stays, and a failed save is tried
    // again after a backoff. The finalizer is then removed from the newest copy (the profile's
    // status writes replaced this one).
    let latest = desktop;
    if (desktop.spec.profile) {
      const saved = await this.releaseProfile(desktop, host);
      if ("retryInMs" in saved) return requeueAfter(saved.retryInMs);
      latest = saved.latest;
    }
    await host.adapter.destroy(desktopIdentity(desktop));
    if (host.adapter.consolePasswords) await this.deps.consoles.remove(desktopIdentity(desktop));
    await removeFinalizer(this.deps.client, latest, FINALIZER);
    this.superseded.wrote(latest);
    this.deps.events.event(desktop, "Normal", "Destroyed", `VM and overlay removed from host ${host.name}`);
    this.deps.hostTouched(host.name);
    return done();
  }

  private async sync(desktop: Cached<Desktop>, host: ServedHost, ctx: ReconcileContext): Promise<Result> {
    const obs = await this.observe(desktop, host, ctx);
    if (obs.kind === "vm" && obs.created && obs.vm.state === "provisioning" && !desktop.status?.phase)
      return requeueAfter(Math.min(FIRST_REPORT_GRACE_MS, this.deps.provisioningRecheckMs));
    const running = obs.kind === "vm" && obs.vm.state === "running";
    let profile = running ? await this.attachProfile(desktop, host, ctx) : desktop.status?.profile;
    if (running && profile) profile = await this.writeBackProfile(desktop, host, profile, ctx);
    const status = {
      ...desiredDesktopStatus(desktop, obs, new Date(this.deps.clock.now())),
      ...(profile ? { profile } : {}),
    };
    const patch = fieldPatch(desktop.status, status, AGENT_DESKTOP_FIELDS);
    if (patch !== undefined) {
      const { namespace, name, resourceVersion } = desktop.metadata;
      await this.deps.client.mergePatch(
        { namespace, name: name as string },
        { metadata: { resourceVersion }, status: patch },
        { subresource: "status" },
      );
      this.superseded.wrote(desktop);
      this.announce(desktop, status, host);
    }
    if (obs.kind !== "vm" || obs.vm.state === "failed") return done(); // Failed: the pool's turn
    if (obs.vm.state === "running")
      await deliverNotice(desktop, host.adapter, this.deps.client, this.deps.events);
    const provisioning = obs.vm.state === "provisioning";
    if (profile?.phase === "Failed")
      return requeueAfter(Math.max(profileRetryIn(profile, this.deps.clock.now()), 1));
    const next = provisioning ? this.deps.provisioningRecheckMs : this.deps.resyncMs;
    const writeBack = writeBackIn(profile, desktop.spec.profile?.writeBackInterval, this.deps.clock.now());
    return requeueAfter(writeBack === undefined ? next : Math.max(1, Math.min(next, writeBack)));
  }

  /**
   * A bound desktop's profile disk, attached once its VM runs (the status to report). A failure
   * is reported (phase Failed, attempts) and retried, never fatal to the desktop.
   */
  private async attachProfile(
    desktop: Cached<Desktop>,
    host: ServedHost,
    ctx: ReconcileContext,
  ): Promise<ProfileDiskStatus | undefined> {
    const current = desktop.status?.profile;
    if (!desktop.spec.profile || !desktop.spec.sessionRef || current?.phase === "Attached") return current;
    if (profileRetryIn(current, this.deps.clock.now()) > 0) return current; // not yet: backing off
    try {
      const { version } = await this.deps.profiles.attach(desktop, host);
      this.deps.events.event(
        desktop,
        "Normal",
        "ProfileAttached",
        `profile ${desktop.spec.profile.name} (${desktop.spec.profile.mode}) attached`,
      );
      // attempts and message are written out (not left out): a status is merge-patched, and an
      // earlier failure's would otherwise stay. A write-back's interval starts at the attach.
      return {
        phase: "Attached",
        ...(version ? { version } : {}),
        attempts: 0,
        message: "",
        lastWriteBackTime: toKubeTime(new Date(this.deps.clock.now())),
      };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      ctx.log.warn({ err: why, profile: desktop.spec.profile.name }, "attaching the profile failed");
      this.deps.events.event(desktop, "Warning", "ProfileAttachFailed", why);
      return {
        phase: "Failed",
        message: `attaching the profile failed: ${why}`,
        attempts: (current?.attempts ?? 0) + 1,
        lastAttemptTime: toKubeTime(new Date(this.deps.clock.now())),
      };
    }
  }

  /**
   * Logoff: the profile disk unplugged and published (or thrown away). Resolves the newest copy
   * of the desktop when the desktop may go, or how long to wait before the next attempt.
   */
  private async releaseProfile(
    desktop: Cached<Desktop>,
    host: ServedHost,
  ): Promise<{ latest: Cached<Desktop> } | { retryInMs: number }> {
    const report = async (profile: ProfileDiskStatus) => {
      const written = await this.deps.client.mergePatch(
        { namespace: desktop.metadata.namespace, name: desktop.metadata.name },
        { status: { profile } },
        { subresource: "status" },
      );
      this.superseded.wrote(desktop);
      return written as Cached<Desktop>;
    };
    const now = this.deps.clock.now();
    const last = desktop.status?.profile;
    const wait = profileRetryIn(last, now);
    if (wait > 0) return { retryInMs: wait };
    const version = last?.version ? { version: last.version } : {};
    const attempts = last?.attempts ?? 0;
    if (attempts >= MAX_SAVE_ATTEMPTS) {
      const why =
        `gave up saving the profile after ${attempts} attempts; its disk stays on host ${host.name} for ` +
        `recovery (last error: ${last?.message ?? "unknown"})`;
      this.deps.events.event(desktop, "Warning", "ProfileSaveAbandoned", why);
      return { latest: await report({ phase: "Failed", ...version, message: why, attempts }) };
    }
    // A retry keeps the last failure in view (attempts and message) until it succeeds.
    const failures = attempts ? { attempts, ...(last?.message ? { message: last.message } : {}) } : {};
    const syncing = await report({ phase: "Syncing", ...version, ...failures });
    try {
      await this.deps.profiles.release(desktop, host);
      return { latest: syncing };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const failed: ProfileDiskStatus = {
        phase: "Failed",
        ...version,
        message: `saving the profile failed; the disk is kept and the save retried: ${why}`,
        attempts: attempts + 1,
        lastAttemptTime: toKubeTime(new Date(this.deps.clock.now())),
      };
      await report(failed);
      return { retryInMs: Math.max(profileRetryIn(failed, this.deps.clock.now()), 1) };
    }
  }

  /**
   * Write-back while the session runs, when the pool asks for it and it is due: the profile's
   * state so far is published (ProfileDisks.writeBack). A failure is an Event and a message, and
   * waits one interval; the logoff's save does not depend on it.
   */
  private async writeBackProfile(
    desktop: Cached<Desktop>,
    host: ServedHost,
    current: ProfileDiskStatus,
    ctx: ReconcileContext,
  ): Promise<ProfileDiskStatus> {
    const now = this.deps.clock.now();
    const due = writeBackIn(current, desktop.spec.profile?.writeBackInterval, now);
    if (due === undefined || due > 0 || !desktop.spec.sessionRef) return current;
    const at = toKubeTime(new Date(now));
    try {
      const { version } = await this.deps.profiles.writeBack(desktop, host);
      return { ...current, ...(version ? { version } : {}), lastWriteBackTime: at, message: "" };
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      ctx.log.warn({ err: why, profile: desktop.spec.profile?.name }, "writing the profile back failed");
      this.deps.events.event(desktop, "Warning", "ProfileWriteBackFailed", why);
      return {
        ...current,
        lastWriteBackTime: at,
        message: `writing the profile back failed, tried again in one interval: ${why}`,
      };
    }
  }

  /** The VM as the adapter reports it, creating it when there is none (and there should be). */
  private async observe(
    desktop: Cached<Desktop>,
    host: ServedHost,
    ctx: ReconcileContext,
  ): Promise<VmObservation> {
    const { adapter } = host;
    let vm: VmStatus | null = await adapter.get(desktopIdentity(desktop));
    let created = false;
    if (vm === null) {
      const phase = desktop.status?.phase;
      if (phase === "Available" || phase === "InUse") return { kind: "lost", host: host.name };
      try {
        const spec = vmSpecFor(desktop);
        // A fresh password for each VM made, kept in its Secret before the VM asks for it.
        vm = await adapter.create(
          adapter.consolePasswords
            ? { ...spec, consolePassword: await this.deps.consoles.issue(spec.id, host.name) }
            : spec,
        );
      } catch (err) {
        if (err instanceof QuantityError)
          return { kind: "rejected", reason: "InvalidSpec", message: err.message };
        if (err instanceof AdapterError && !err.retryable)
          return { kind: "rejected", reason: err.reason, message: err.message };
        throw err; // retried with backoff (host unreachable, no room right now, ...)
      }
      created = true;
      ctx.log.info({ host: host.name, state: vm.state }, "VM created");
      this.deps.hostTouched(host.name);
    }
    if (vm.state === "running") return { kind: "vm", vm, created };
    // Provisioning or failed: the image's state says whether (and why) the pull is the cause.
    const image = (await adapter.listImages()).find((i) => i.sha256 === vm.imageSha256);
    return { kind: "vm", vm, created, ...(image ? { image } : {}) };
  }

  /**
   * Events for phase transitions, once each: the status write that made them was checked. A VM
   * that came up within the first-report grace has one Event, DesktopReady, not two.
   */
  private announce(desktop: Cached<Desktop>, status: DesktopStatus, host: ServedHost): void {
    const was = desktop.status?.phase;
    const ready = (p: string | undefined): boolean => p === "Available" || p === "InUse";
    if (status.phase === "Provisioning" && !was)
      this.deps.events.event(desktop, "Normal", "Provisioning", `creating the VM on host ${host.name}`);
    if (ready(status.phase) && !ready(was)) {
      const e = status.endpoint;
      const where = e ? ` at ${describeEndpoint(e)}` : "";
      this.deps.events.event(desktop, "Normal", "DesktopReady", `VM running on host ${host.name}${where}`);
    }
    if (status.phase === "Failed" && was !== "Failed") {
      const reason = status.conditions?.find((c) => c.type === "Ready")?.reason ?? "Failed";
      this.deps.events.event(desktop, "Warning", reason, status.message ?? "the desktop failed");
    }
  }
}
