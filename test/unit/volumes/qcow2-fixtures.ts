// The qcow2 headers the unit tests parse: made once by qemu-img through the product's own
// createEmptyDisk/createOverlay (test/integration/qcow2-header.test.ts makes them afresh with the
// machine's qemu-img, checks they parse the same as these, and rewrites these files when run
// with GRIDDESK_WRITE_QCOW2_FIXTURES=1). Each file holds the first QCOW2_HEADER_BYTES of an
// image: what the profile writer reads over SFTP.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURE_DIR = fileURLToPath(new URL("./fixtures/qcow2/", import.meta.url));

export interface Qcow2Fixture {
  /** The image's file name (a backing name refers to another fixture's). */
  readonly file: string;
  /** The backing file's name as written into the overlay, or undefined for a standalone disk. */
  readonly backing?: string;
  /** qcow2's cluster size, when not qemu-img's default (the profile writer uses 16 KiB). */
  readonly clusterSize?: number;
}

export const QCOW2_FIXTURES: readonly Qcow2Fixture[] = [
  { file: "v000001-e1.qcow2" },
  { file: "v000002-e2.qcow2", backing: "v000001-e1.qcow2" },
  { file: "v000003-e2.qcow2", backing: "v000002-e2.qcow2", clusterSize: 16 * 1024 },
  { file: "c000003-e3.qcow2", clusterSize: 16 * 1024 },
];

export const fixturePath = (f: Qcow2Fixture): string => path.join(FIXTURE_DIR, `${f.file}.header`);
