import { describe, expect, it } from "@jest/globals";
import { IMAGE_CACHED_BONUS, rankHosts, scoreHost } from "../../../src/scheduler/index.js";
import { GiB, host, request } from "./fixtures.js";

const names = (hosts: readonly { name: string }[]): string[] => hosts.map((h) => h.name);
const image = "f".repeat(64);

// A 64-core/512 GiB host with 16 cores and 128 GiB used is 25% loaded; an 8-core/32 GiB host
// with 4 cores and 16 GiB used is 50% loaded, although it has far fewer cores in use.
const big = host("big", {
  capacity: { cpuMilli: 64_000, memoryBytes: 512 * GiB },
  allocated: { cpuMilli: 16_000, memoryBytes: 128 * GiB },
});
const small = host("small", {
  capacity: { cpuMilli: 8000, memoryBytes: 32 * GiB },
  allocated: { cpuMilli: 4000, memoryBytes: 16 * GiB },
});
const empty = host("empty", { capacity: { cpuMilli: 4000, memoryBytes: 16 * GiB } });

describe("rankHosts", () => {
  const req = request({ cpuMilli: 1000, memoryBytes: 2 * GiB });

  it("BreadthFirst prefers the least loaded host by fraction, not by absolute use", () => {
    expect(names(rankHosts(req, [small, big]))).toEqual(["big", "small"]);
    expect(names(rankHosts(req, [small, big, empty]))).toEqual(["empty", "big", "small"]);
  });

  it("DepthFirst prefers the most loaded host", () => {
    const depth = request({ ...req, strategy: "DepthFirst" });
    expect(names(rankHosts(depth, [big, empty, small]))).toEqual(["small", "big", "empty"]);
  });

  it("measures load after placing the request, so a small empty host ranks below a big empty one", () => {
    const tiny = host("a-tiny", { capacity: { cpuMilli: 2000, memoryBytes: 4 * GiB } });
    const huge = host("z-huge", { capacity: { cpuMilli: 64_000, memoryBytes: 256 * GiB } });
    expect(names(rankHosts(req, [tiny, huge]))).toEqual(["z-huge", "a-tiny"]);
    expect(names(rankHosts({ ...req, strategy: "DepthFirst" }, [huge, tiny]))).toEqual(["a-tiny", "z-huge"]);
  });

  it("breaks ties by host name, whatever the input order", () => {
    const hosts = ["c", "a", "b"].map((n) => host(n));
    expect(names(rankHosts(req, hosts))).toEqual(["a", "b", "c"]);
    expect(names(rankHosts({ ...req, strategy: "DepthFirst" }, hosts.reverse()))).toEqual(["a", "b", "c"]);
  });

  it("ties unlike hosts at equal load despite floating-point noise", () => {
    const b = host("b", {
      capacity: { cpuMilli: 30_000, memoryBytes: 30 * GiB },
      allocated: { cpuMilli: 9000 },
    });
    const a = host("a", {
      capacity: { cpuMilli: 10_000, memoryBytes: 10 * GiB },
      allocated: { cpuMilli: 3000 },
    });
    const zero = request({ cpuMilli: 0, memoryBytes: 0 });
    expect(scoreHost(zero, a)).toBe(scoreHost(zero, b));
    expect(names(rankHosts(zero, [b, a]))).toEqual(["a", "b"]);
  });

  it("gives a cached image a bonus worth ten points of load", () => {
    expect(IMAGE_CACHED_BONUS).toBe(0.1);
    const cached = host("z-cached", {
      cachedImages: [image],
      allocated: { cpuMilli: 800, memoryBytes: 3.2 * GiB },
    });
    const bare = host("a-bare");
    const req2 = request({ ...req, imageSha256: image });
    // 5% loaded with the image beats 0% without it...
    expect(names(rankHosts(req2, [bare, cached]))).toEqual(["z-cached", "a-bare"]);
    // ...but 15% loaded with the image does not.
    const busier = host("z-cached", {
      cachedImages: [image],
      allocated: { cpuMilli: 2400, memoryBytes: 9.6 * GiB },
    });
    expect(names(rankHosts(req2, [bare, busier]))).toEqual(["a-bare", "z-cached"]);
  });

  it("does not mutate or reorder its input", () => {
    const hosts = [small, big, empty];
    rankHosts(req, hosts);
    expect(names(hosts)).toEqual(["small", "big", "empty"]);
  });
});
