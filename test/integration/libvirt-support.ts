// Shared set-up for the libvirt tests: the real libvirtd (hack/libvirt-up.sh), the bootable test
// image (hack/build-test-image.sh), storage directories QEMU can reach, and a VNC check.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import type { ImageRef } from "../../src/hypervisors/adapter.js";
import { fileURLToPath } from "node:url";
import type { DirectKernelBoot } from "../../src/api/types.generated.js";
import { DEFAULT_FETCH_LIMITS, type SourcePolicy } from "../../src/volumes/index.js";

const repo = new URL("../../", import.meta.url).pathname;

export type BootableImage = ImageRef & { readonly boot: DirectKernelBoot };

/** Starts the host's libvirtd if needed (installing packages on a fresh machine). */
export function libvirtUp(): void {
  execFileSync(path.join(repo, "hack/libvirt-up.sh"), { stdio: ["ignore", "ignore", "inherit"] });
}

/** Starts (or finds) an independent libvirtd in its own mount namespace; returns its PID. */
export function libvirtInstanceUp(name: string): number {
  const out = execFileSync(path.join(repo, "hack/libvirt-up.sh"), ["--instance", name], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return Number(out.trim().split("\n").pop());
}

export function libvirtInstanceDown(name: string): void {
  execFileSync(path.join(repo, "hack/libvirt-down.sh"), ["--instance", name], { stdio: "inherit" });
}

/** The test image's directory (built once, cached outside the repo). */
export function testImageDir(): string {
  const out = execFileSync(path.join(repo, "hack/build-test-image.sh"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim().split("\n").pop() as string;
}

/** The golden image with its real sha256, booting the test kernel and initramfs. */
export function testImage(dir = testImageDir()): BootableImage {
  const sha = (file: string): string => readFileSync(path.join(dir, `${file}.sha256`), "utf8").trim();
  return {
    source: `file://${dir}/golden.qcow2`,
    sha256: sha("golden.qcow2"),
    format: "qcow2",
    boot: {
      kernel: `${dir}/vmlinuz`,
      kernelSha256: sha("vmlinuz"),
      initrd: `${dir}/initrd.gz`,
      initrdSha256: sha("initrd.gz"),
      cmdline: "console=tty0 quiet",
    },
  };
}

/** The admin's source policy for hosts that boot `image`: its directory is the one allowed root. */
export function imageSources(image: BootableImage): SourcePolicy {
  return { localRoots: [imageRoot(image)], urlPrefixes: [], limits: DEFAULT_FETCH_LIMITS };
}

/** The directory the test image lives in. */
export function imageRoot(image: BootableImage): string {
  return path.dirname(fileURLToPath(image.source));
}

/** A fresh storage directory that the QEMU user can traverse (mkdtemp makes 0700). */
export function storageDir(prefix: string): string {
  const dir = mkdtempSync(path.join("/var/tmp", `griddesk-${prefix}-`));
  chmodSync(dir, 0o755);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The banner a VNC server sends first ("RFB 003.008\n"), proving the console is live. */
export function rfbBanner(port: number, host = "127.0.0.1", timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no RFB banner from ${host}:${port} in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("data", (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString("latin1"));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Runs virsh (optionally inside another mount namespace); returns stdout. */
export function virsh(args: string[], nsPid?: number): string {
  const argv = ["-q", "-c", "qemu:///system", ...args];
  const [file, full] = nsPid
    ? ["nsenter", ["-t", String(nsPid), "-m", "--", "virsh", ...argv]]
    : ["virsh", argv];
  return execFileSync(file, full, { encoding: "utf8" });
}

/** Names of the domains running on a libvirtd. */
export function domainNames(nsPid?: number): string[] {
  return virsh(["list", "--name"], nsPid)
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean);
}
