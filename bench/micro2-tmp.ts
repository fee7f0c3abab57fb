// temporary: the controller's bind sequence with RestClient, timed per step
import { KubeConfig } from "@kubernetes/client-node";
import { RestClient } from "../src/runtime/rest.js";
const kc = new KubeConfig(); kc.loadFromFile(process.env.KUBECONFIG as string);
const rest = new RestClient(kc);
const path = "/api/v1/namespaces/default/configmaps";
for (let i = 0; i < 8; i++) await rest.request({ method: "POST", path, body: { metadata: { name: `p${i}` }, data: { a: "0" } } }).catch(() => undefined);
const steps: number[][] = [];
await Promise.all(Array.from({ length: Number(process.env.C ?? 1) }, async (_, w) => {
  for (let i = 0; i < 30; i++) {
    const t = [performance.now()];
    for (let s = 0; s < 3; s++) {
      await rest.request({ method: "PATCH", path: `${path}/p${w}`, body: { data: { a: String(i * 3 + s) } }, contentType: "application/merge-patch+json" });
      t.push(performance.now());
    }
    steps.push(t.slice(1).map((x, j) => x - (t[j] as number)));
  }
}));
const avg = (j: number) => (steps.reduce((a, s) => a + (s[j] as number), 0) / steps.length).toFixed(1);
console.log(`C=${process.env.C ?? 1}: step ms avg ${avg(0)} ${avg(1)} ${avg(2)}`);
process.exit(0);
