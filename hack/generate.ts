// `npm run generate` writes the CRDs and TypeScript types from src/api/schema, and KubeVirt's
// types and test CRDs from its spec (third_party/kubevirt);
// `npm run verify-generated` (--check) writes nothing and exits 1 naming each stale file.
import { fileURLToPath } from "node:url";
import { findStale, writeGenerated } from "../src/api/codegen/files.js";
import { renderGeneratedFiles } from "../src/api/codegen/render.js";
import { kindDefinitions } from "../src/api/schema/index.js";
import { renderKubevirtFiles } from "../src/hypervisors/kubevirt/codegen/render.js";

const root = fileURLToPath(new URL("..", import.meta.url));

async function main(check: boolean): Promise<number> {
  const files = [...(await renderGeneratedFiles(kindDefinitions)), ...(await renderKubevirtFiles(root))];
  if (!check) {
    const changed = await writeGenerated(root, files);
    console.log(changed.length ? `updated: ${changed.join(", ")}` : "generated files are up to date");
    return 0;
  }
  const stale = await findStale(root, files);
  for (const s of stale) console.error(`stale (${s.why}): ${s.path}`);
  if (stale.length) console.error("run `npm run generate` and commit the result");
  return stale.length ? 1 : 0;
}

main(process.argv.includes("--check")).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
