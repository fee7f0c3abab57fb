import { describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { controllerLogger, createLogger, reconcileLogger } from "../../../src/runtime/logger.js";

function capture(): { lines: Record<string, unknown>[]; destination: Writable } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, destination };
}

describe("logger", () => {
  it("writes JSON with level names and the context of controller, object and reconcile", () => {
    const { lines, destination } = capture();
    const base = createLogger({ name: "griddesk-controller", destination });
    const log = reconcileLogger(
      controllerLogger(base, "desktoppool"),
      { namespace: "team-a", name: "callcenter" },
      "r-1",
    );
    log.info({ desired: 3 }, "scaling");
    reconcileLogger(base, { name: "rack3-node07" }, "r-2").warn("cluster-scoped");
    expect(lines[0]).toEqual(
      expect.objectContaining({
        level: "info",
        name: "griddesk-controller",
        controller: "desktoppool",
        object: { namespace: "team-a", name: "callcenter" },
        reconcileID: "r-1",
        desired: 3,
        msg: "scaling",
      }),
    );
    expect(lines[1]).toEqual(expect.objectContaining({ level: "warn", object: { name: "rack3-node07" } }));
    expect(typeof lines[0]?.time).toBe("string");
  });

  it("takes its level from the option", () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: "warn", destination });
    log.info("hidden");
    log.debug("hidden");
    log.error("shown");
    expect(lines.map((l) => l.msg)).toEqual(["shown"]);
  });
});
