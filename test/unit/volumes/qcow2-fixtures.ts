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

/**
 * Images an attacker would craft, each made by the qemu-img commands given (`file` is the
 * image's path; whatever else they name sits beside it), with what the inspector must say of it
 * when it is declared `format`.
 */
export interface CraftedImage {
  readonly file: string;
  readonly commands: (file: string) => string[][];
  readonly format: "qcow2" | "raw";
  readonly refusal: RegExp;
}

export const CRAFTED_IMAGES: readonly CraftedImage[] = [
  {
    file: "data-file.qcow2",
    // qemu-img create makes (or truncates) the data file it is given: never name a real one here.
    commands: (f) => [["create", "-q", "-f", "qcow2", "-o", `data_file=${f}.data,data_file_raw=on`, f, "1M"]],
    format: "qcow2",
    refusal: /external data file/,
  },
  {
    file: "backing.qcow2",
    // -u: the backing file is named, never opened.
    commands: (f) => [["create", "-q", "-f", "qcow2", "-u", "-b", `${f}.host-file`, "-F", "raw", f, "1M"]],
    format: "qcow2",
    refusal: /names a backing file \(".*\.host-file"\), and this image must stand alone/,
  },
  {
    file: "encrypted.qcow2",
    commands: (f) => [
      [
        "create",
        "-q",
        "--object",
        "secret,id=s0,data=not-a-secret",
        "-f",
        "qcow2",
        "-o",
        "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10",
        f,
        "1M",
      ],
    ],
    format: "qcow2",
    refusal: /encrypted/,
  },
  {
    file: "snapshot.qcow2",
    commands: (f) => [
      ["create", "-q", "-f", "qcow2", f, "1M"],
      ["snapshot", "-c", "before", f],
    ],
    format: "qcow2",
    refusal: /1 internal snapshot/,
  },
  {
    file: "qcow2-says-raw.qcow2",
    commands: (f) => [["create", "-q", "-f", "qcow2", f, "1M"]],
    format: "raw",
    refusal: /the file is qcow2 \(or qcow\), the image says raw/,
  },
];

export const craftedPath = (c: CraftedImage): string => path.join(FIXTURE_DIR, `${c.file}.header`);
