// Where a griddesk process finds the API server: --kubeconfig, else $KUBECONFIG, else
// ~/.kube/config, else the in-cluster service account (client-node's loadFromDefault order).
import { KubeConfig } from "@kubernetes/client-node";

export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster())
    throw new Error("no Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG");
  return kc;
}

/** ":8080" or "127.0.0.1:0" → {host, port}. */
export function parseBindAddress(flag: string, value: string): { host?: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  if (!m) throw new Error(`${flag}: expected [host]:port, e.g. :8080 or 127.0.0.1:0, got "${value}"`);
  return { host: m[1] || undefined, port: Number(m[2]) };
}
