// Scale-in: which idle desktops to remove. Desktops on hosts that are gone or unavailable
// (unknown, not ready, cordoned or draining) go first; then one at a time from whichever host
// is most loaded (normalised) at that moment; ties by host name, then desktop name.

import { load, loadAt } from "./capacity.js";
import { compareNames } from "./score.js";
import type { HostView } from "./types.js";

export interface IdleDesktop {
  readonly name: string;
  readonly host: string;
  /** Size of the desktop; when absent, the host's average desktop size is assumed. */
  readonly cpuMilli?: number;
  readonly memoryBytes?: number;
}

interface Group {
  readonly host: string;
  readonly view: HostView | undefined;
  readonly tier: number; // 0 unknown host, 1 unavailable host, 2 available host
  readonly queue: IdleDesktop[]; // by name
  cpuMilli: number;
  memoryBytes: number;
  desktops: number;
  load: number;
}

/** The names of up to `count` idle desktops to remove, in removal order. Deterministic. */
export function chooseVictims(
  idle: readonly IdleDesktop[],
  hosts: readonly HostView[],
  count: number,
): string[] {
  const views = new Map<string, HostView>();
  for (const h of hosts) if (!views.has(h.name)) views.set(h.name, h);
  const groups = new Map<string, Group>();
  for (const desktop of idle) {
    let group = groups.get(desktop.host);
    if (group === undefined) {
      group = newGroup(desktop.host, views.get(desktop.host));
      groups.set(desktop.host, group);
    }
    group.queue.push(desktop);
  }
  for (const g of groups.values()) g.queue.sort((a, b) => compareNames(a.name, b.name));

  const victims: string[] = [];
  const wanted = Math.min(idle.length, Math.max(0, Math.floor(count) || 0));
  while (victims.length < wanted) {
    let pick: Group | undefined;
    for (const g of groups.values()) {
      if (g.queue.length > 0 && (pick === undefined || before(g, pick))) pick = g;
    }
    if (pick === undefined) break;
    const desktop = pick.queue.shift();
    if (desktop === undefined) break;
    victims.push(desktop.name);
    release(pick, desktop);
  }
  return victims;
}

function newGroup(host: string, view: HostView | undefined): Group {
  const tier = view === undefined ? 0 : !view.ready || view.unschedulable || view.draining ? 1 : 2;
  return {
    host,
    view,
    tier,
    queue: [],
    cpuMilli: view?.allocated.cpuMilli ?? 0,
    memoryBytes: view?.allocated.memoryBytes ?? 0,
    desktops: view?.allocated.desktops ?? 0,
    load: view === undefined ? 1 : load(view),
  };
}

function before(a: Group, b: Group): boolean {
  if (a.tier !== b.tier) return a.tier < b.tier;
  if (a.load !== b.load) return a.load > b.load;
  return compareNames(a.host, b.host) < 0;
}

function release(g: Group, desktop: IdleDesktop): void {
  if (g.view === undefined) return;
  const share = g.desktops > 0 ? 1 / g.desktops : 0;
  g.cpuMilli = Math.max(0, g.cpuMilli - (desktop.cpuMilli ?? g.cpuMilli * share));
  g.memoryBytes = Math.max(0, g.memoryBytes - (desktop.memoryBytes ?? g.memoryBytes * share));
  g.desktops = Math.max(0, g.desktops - 1);
  g.load = loadAt(g.view, g);
}
