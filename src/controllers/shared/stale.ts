// A resourceVersion-checked write refused because the copy it was based on is out of date:
// a 409 for a PUT or create, a 422 for a JSON patch whose `test` op failed.
import { ConflictError } from "../../runtime/index.js";

export function isStale(err: unknown): boolean {
  return err instanceof ConflictError || isTestFailure(err);
}

function isTestFailure(err: unknown): boolean {
  return err instanceof Error && "statusCode" in err && (err as { statusCode: number }).statusCode === 422;
}
