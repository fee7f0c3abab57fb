// `griddesk drain --wait [--exec CMD]`: follows the drains until every host is drained, showing
// live progress (a table redrawn in place on a terminal, one line per change otherwise). With
// --exec it also runs the maintenance: as each host reaches Drained, CMD runs with GRIDDESK_HOST
// set; on success the host's drain request is removed (it returns to service, freeing its
// pools' budgets for the next hosts, which the controller then starts) — a rolling maintenance.
// A failing CMD halts the rollout: drains that have not started yet are withdrawn.
import { spawn } from "node:child_process";
import type { HostNode } from "../api/types.generated.js";
import type { ObjectClient } from "../runtime/index.js";
import {
  FAILED,
  progressRow,
  renderTable,
  settled,
  summary,
  type LocalState,
  type ProgressRow,
} from "./drain-progress.js";

export interface WaitOptions {
  exec?: string;
  intervalMs: number;
  timeoutMs?: number;
  out: NodeJS.WriteStream;
}

export async function waitForDrains(
  client: ObjectClient<HostNode>,
  names: readonly string[],
  o: WaitOptions,
): Promise<number> {
  const local = new Map<string, LocalState>();
  const running: Promise<void>[] = [];
  const started = Date.now();
  const view = new ProgressView(o.out);
  let halted = false;
  let rows: ProgressRow[] = [];
  for (;;) {
    const hosts = new Map((await client.list()).map((h) => [h.metadata.name, h]));
    if (o.exec && !halted)
      for (const name of names) {
        if (local.has(name) || hosts.get(name)?.status?.drain?.phase !== "Drained") continue;
        if (!hosts.get(name)?.spec.drain) continue;
        local.set(name, "Maintenance");
        running.push(
          maintain(client, name, o.exec).then(async (ok) => {
            local.set(name, ok ? "Returned" : "MaintenanceFailed");
            if (!ok && !halted) {
              halted = true;
              await withdrawWaiting(client, names);
            }
          }),
        );
      }
    const now = Date.now();
    rows = names.map((n) => progressRow(n, hosts.get(n), now, local.get(n)));
    view.show(rows);
    const exec = o.exec !== undefined && !halted;
    if (rows.every((r) => settled(r.state, exec) || (halted && r.state !== "Maintenance"))) break;
    if (o.timeoutMs !== undefined && now - started > o.timeoutMs) {
      o.out.write(`timed out after ${Math.round(o.timeoutMs / 1000)}s\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
  await Promise.all(running);
  const final = rows.map((r) => local.get(r.host) ?? r.state);
  return halted || final.some((s) => FAILED.includes(s)) ? 1 : 0;
}

/** Runs the maintenance command for one drained host, then returns the host to service. */
async function maintain(client: ObjectClient<HostNode>, host: string, command: string): Promise<boolean> {
  const code = await new Promise<number>((resolve) => {
    const child = spawn("sh", ["-c", command], {
      env: { ...process.env, GRIDDESK_HOST: host },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("error", () => resolve(127));
    child.once("exit", (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    console.error(`maintenance of ${host} failed (exit ${code}); it stays drained`);
    return false;
  }
  await client.mergePatch({ name: host }, { spec: { drain: null } });
  return true;
}

/** Withdraws the drain requests of named hosts whose drain has not started (nothing lost there). */
async function withdrawWaiting(client: ObjectClient<HostNode>, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const h = await client.tryGet({ name });
    if (h?.spec.drain && !h.status?.drain?.startedAt) {
      await client.mergePatch({ name }, { spec: { drain: null } });
      console.error(`halted: withdrew the drain request of ${name}, which had not started`);
    }
  }
}

/** Shows progress: redrawn in place on a terminal, else a timestamped line per change. */
class ProgressView {
  private drawn = 0;
  private readonly last = new Map<string, string>();

  constructor(private readonly out: NodeJS.WriteStream) {}

  show(rows: readonly ProgressRow[]): void {
    if (this.out.isTTY) {
      const lines = [summary(rows), ...renderTable(rows, this.out.columns || 160)];
      if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
      for (const line of lines) this.out.write(`\x1b[2K${line}\n`);
      this.drawn = lines.length;
      return;
    }
    for (const r of rows) {
      const key = [r.state, r.sessions, r.detail].join("|");
      if (this.last.get(r.host) === key) continue;
      this.last.set(r.host, key);
      const due = r.deadline ? ` deadline ${r.deadline}` : "";
      const sessions = r.sessions ? ` sessions=${r.sessions}` : "";
      this.out.write(`${new Date().toISOString()} ${r.host} ${r.state}${sessions}${due} ${r.detail}\n`);
    }
  }
}
