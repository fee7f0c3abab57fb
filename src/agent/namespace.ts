// The system namespace holds the host heartbeat Leases. The agent creates it when missing, as a
// convenience for local runs; where it may not (RBAC: 403) someone else must have made it.
import { ApiError, ConflictError, type KubeObject, type ObjectClient } from "../runtime/index.js";

export async function ensureNamespace(client: ObjectClient<KubeObject>, name: string): Promise<void> {
  try {
    if ((await client.tryGet({ name })) !== undefined) return;
  } catch (err) {
    if (!(err instanceof ApiError && err.statusCode === 403)) throw err;
  }
  try {
    await client.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
  } catch (err) {
    if (err instanceof ConflictError || (err instanceof ApiError && err.statusCode === 403)) return;
    throw err;
  }
}
