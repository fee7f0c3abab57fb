// The system namespace (heartbeat and leader Leases) is created on first start if missing.
// Installs through Helm already have it; a forbidden create is fine there.
import type { Logger } from "pino";
import { ApiError, type RestClient } from "../../runtime/index.js";

export async function ensureNamespace(rest: RestClient, name: string, log: Logger): Promise<void> {
  try {
    await rest.request({
      method: "POST",
      path: "/api/v1/namespaces",
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name } },
    });
    log.info({ namespace: name }, "created system namespace");
  } catch (err) {
    if (err instanceof ApiError && (err.statusCode === 409 || err.statusCode === 403)) return;
    throw err;
  }
}
