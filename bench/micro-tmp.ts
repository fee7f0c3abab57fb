// temporary micro-benchmark (not committed): sequential requests through RestClient vs node:https
import { KubeConfig } from "@kubernetes/client-node";
import { RestClient } from "../src/runtime/rest.js";
import { Kube, loadTarget } from "./lib/kube.js";
const kc = new KubeConfig(); kc.loadFromFile(process.env.KUBECONFIG as string);
const rest = new RestClient(kc);
const kube = new Kube(loadTarget(process.env.KUBECONFIG as string), 8);
const path = "/api/v1/namespaces/default/configmaps";
await kube.request("POST", path, { metadata: { name: "probe" }, data: { a: "0" } }).catch(() => undefined);
const N = Number(process.env.N ?? 200);
for (const [name, fn] of [
  ["node:https", (i: number) => kube.request("PATCH", `${path}/probe`, { data: { a: String(i) } }, "application/merge-patch+json")],
  ["RestClient", (i: number) => rest.request({ method: "PATCH", path: `${path}/probe`, body: { data: { a: String(i) } }, contentType: "application/merge-patch+json" })],
  ["node:https", (i: number) => kube.request("PATCH", `${path}/probe`, { data: { a: String(i) } }, "application/merge-patch+json")],
  ["RestClient", (i: number) => rest.request({ method: "PATCH", path: `${path}/probe`, body: { data: { a: String(i) } }, contentType: "application/merge-patch+json" })],
] as const) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let i = 0; i < N; i++) await fn(i);
  const wall = performance.now() - t0; const c = process.cpuUsage(c0);
  console.log(`${name}: ${(wall / N).toFixed(2)} ms/request wall, ${((c.user + c.system) / 1000 / N).toFixed(2)} ms CPU/request`);
}
kube.close(); process.exit(0);
