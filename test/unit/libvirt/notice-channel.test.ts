import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import {
  NOTICE_ACK,
  noticeLine,
  noticeSocketPath,
  sendNotice,
} from "../../../src/hypervisors/libvirt/notice-channel.js";

describe("notice line", () => {
  it("is one tagged line of printable text", () => {
    expect(noticeLine("Maintenance at 18:00.\nSave your work.\u0007")).toBe(
      "griddesk-notice Maintenance at 18:00. Save your work.\n",
    );
  });

  it("cuts long text", () => {
    const line = noticeLine("x".repeat(5000));
    expect(line.length).toBeLessThanOrEqual("griddesk-notice ".length + 1001);
    expect(line.endsWith("…\n")).toBe(true);
  });
});

describe("notice socket path", () => {
  const uid = "0b7c2f5e-1111-2222-3333-444455556666";
  it("is <dir>/<uid>.sock when it fits a UNIX socket address", () => {
    expect(noticeSocketPath("/var/lib/griddesk/notices", uid)).toBe(`/var/lib/griddesk/notices/${uid}.sock`);
  });
  it("is undefined when the path is too long to bind", () => {
    expect(noticeSocketPath(`/${"d".repeat(80)}`, uid)).toBeUndefined();
  });
});

// The guest's side is played by a local UNIX socket server (the real guest answers in the
// libvirt integration tests).
describe("sending a notice", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "gd-notice-"));
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const listen = (name: string, answer: (line: string) => string | undefined): Promise<string> =>
    new Promise((resolve) => {
      const file = path.join(dir, name);
      const server = createServer((sock) => {
        sock.on("data", (d: Buffer) => {
          const reply = answer(d.toString("utf8"));
          if (reply !== undefined) sock.write(reply);
        });
      });
      servers.push(server);
      server.listen(file, () => resolve(file));
    });

  it("is shown when the guest acknowledges", async () => {
    let got = "";
    const file = await listen("ack.sock", (line) => ((got = line), `${NOTICE_ACK}\n`));
    expect(await sendNotice(file, "Reboot at 18:00", 2000)).toBe(true);
    expect(got).toBe("griddesk-notice Reboot at 18:00\n");
  });

  it("is not shown when the guest stays silent, or there is no socket", async () => {
    const file = await listen("silent.sock", () => undefined);
    expect(await sendNotice(file, "hello", 200)).toBe(false);
    expect(await sendNotice(path.join(dir, "absent.sock"), "hello", 200)).toBe(false);
  });
});
