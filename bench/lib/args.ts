// Command-line flags for the benchmarks: `--name value` or `--name=value`, each with an
// environment fallback (BENCH_NAME, dashes as underscores) and a default. `--help` prints them.
export interface FlagSpec {
  default: string | number | boolean;
  help: string;
}

export type Flags<S extends Record<string, FlagSpec>> = {
  [K in keyof S]: S[K]["default"] extends number
    ? number
    : S[K]["default"] extends boolean
      ? boolean
      : string;
};

export function parseFlags<S extends Record<string, FlagSpec>>(
  name: string,
  about: string,
  spec: S,
  argv = process.argv.slice(2),
): Flags<S> {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--help" || arg === "-h") {
      console.log(`${name}: ${about}\n\nflags (env BENCH_<NAME> works too):`);
      for (const [k, s] of Object.entries(spec))
        console.log(`  --${k.padEnd(22)} ${s.help} (default ${JSON.stringify(s.default)})`);
      process.exit(0);
    }
    if (!arg.startsWith("--")) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf("=");
    const key = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(key in spec)) throw new Error(`unknown flag --${key} (try --help)`);
    const isBool = typeof spec[key]?.default === "boolean";
    const value =
      eq > 0
        ? arg.slice(eq + 1)
        : isBool && !(argv[i + 1] ?? "").match(/^(true|false)$/)
          ? "true"
          : argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    given.set(key, value);
  }
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) {
    const env = process.env[`BENCH_${k.toUpperCase().replace(/-/g, "_")}`];
    const raw = given.get(k) ?? env;
    if (raw === undefined) out[k] = s.default;
    else if (typeof s.default === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`--${k} expects a number, got ${raw}`);
      out[k] = n;
    } else if (typeof s.default === "boolean") out[k] = raw === "true" || raw === "1";
    else out[k] = raw;
  }
  return out as Flags<S>;
}

/** Flags every benchmark shares: cluster placement, profiling, output. */
export const commonFlags = {
  "cluster-dir": { default: "", help: "control-plane state directory (default .griddesk/bench-<name>)" },
  "port-base": {
    default: 0,
    help: "API server port; etcd +1/+2, controller-manager +3 (default per benchmark)",
  },
  "keep-cluster": { default: false, help: "leave the control plane running afterwards" },
  "client-sockets": {
    default: 64,
    help: "connections the load generator (and the floor) keep to the API server",
  },
  "session-workers": { default: 0, help: "controller --session-workers (0: the controller's default)" },
  "pool-workers": { default: 0, help: "controller --pool-workers (0: the controller's default)" },
  "host-workers": { default: 0, help: "controller --host-workers (0: the controller's default)" },
  "agent-workers": { default: 0, help: "agent --workers (0: the agent's default)" },
  runner: {
    default: "tsx",
    help: "run controller and agent from the sources through tsx, or compiled (dist: as deployed)",
  },
  profile: {
    default: false,
    help: "write CPU profiles (--cpu-prof) of controller and agent, and summarise them",
  },
  "out-dir": {
    default: "",
    help: "where logs, profiles and results.json go (default .griddesk/bench-out/<name>-<time>)",
  },
} as const satisfies Record<string, FlagSpec>;
