// The RFB opening at both ends, each against a peer written here from RFC 6143 over in-memory
// queues, and VNC authentication's DES response against one computed independently (the bit
// reversal done on strings). The real VNC server (QEMU's) is in test/integration/console-relay.
import { describe, expect, it } from "@jest/globals";
import { createCipheriv } from "node:crypto";
import {
  authenticateToServer,
  ByteQueue,
  greetClient,
  RFB_VERSION_3_8,
  RfbError,
  SecurityType,
  vncAuthResponse,
} from "../../../src/console/rfb.js";

/** A VNC server's side of the opening, offering `types`, checking a VNC-auth response. */
async function fakeServerSide(
  q: ByteQueue,
  write: (b: Buffer) => void,
  opts: { types: number[]; password?: string; version?: string },
): Promise<"ok" | "refused"> {
  write(Buffer.from(opts.version ?? RFB_VERSION_3_8, "latin1"));
  await q.read(12);
  write(Buffer.from([opts.types.length, ...opts.types]));
  const chosen = (await q.read(1))[0];
  if (chosen === SecurityType.VncAuthentication) {
    const challenge = Buffer.from("0123456789abcdef", "latin1");
    write(challenge);
    const answer = await q.read(16);
    const good = vncAuthResponse(opts.password ?? "", challenge).equals(answer);
    if (!good) {
      const reason = Buffer.from("Authentication failed");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(reason.length);
      write(Buffer.concat([Buffer.from([0, 0, 0, 1]), len, reason]));
      return "refused";
    }
  }
  write(Buffer.alloc(4));
  return "ok";
}

function pipePair(): { a: ByteQueue; b: ByteQueue; toA: (x: Buffer) => void; toB: (x: Buffer) => void } {
  const a = new ByteQueue();
  const b = new ByteQueue();
  return { a, b, toA: (x) => a.push(x), toB: (x) => b.push(x) };
}

describe("VNC authentication", () => {
  it("is DES of the challenge with the bit-reversed password as key", () => {
    const challenge = Buffer.from("00112233445566778899aabbccddeeff", "hex");
    // Independent computation: reverse each byte's bits by string manipulation.
    const key = Buffer.from(
      [..."secret\0\0"].map((ch) =>
        parseInt(ch.charCodeAt(0).toString(2).padStart(8, "0").split("").reverse().join(""), 2),
      ),
    );
    const c = createCipheriv("des-ede3-ecb", Buffer.concat([key, key, key]), null).setAutoPadding(false);
    const expected = Buffer.concat([c.update(challenge), c.final()]);
    expect(vncAuthResponse("secret", challenge).equals(expected)).toBe(true);
    // Only the first 8 characters count, as in every VNC server.
    expect(vncAuthResponse("abcdefghXYZ", challenge)).toEqual(vncAuthResponse("abcdefgh", challenge));
    expect(vncAuthResponse("abcdefgh", challenge)).not.toEqual(vncAuthResponse("abcdefgi", challenge));
  });

  it("refuses a challenge that is not 16 bytes", () => {
    expect(() => vncAuthResponse("x", Buffer.alloc(8))).toThrow(RfbError);
  });
});

describe("the client half towards a VNC server", () => {
  it("answers VNC authentication with the right password", async () => {
    const { a, b, toA, toB } = pipePair();
    const [server] = await Promise.all([
      fakeServerSide(a, toB, { types: [SecurityType.VncAuthentication], password: "Pw123456" }),
      authenticateToServer(b, toA, "Pw123456"),
    ]);
    expect(server).toBe("ok");
  });

  it("fails with the server's reason for a wrong password", async () => {
    const { a, b, toA, toB } = pipePair();
    const server = fakeServerSide(a, toB, { types: [SecurityType.VncAuthentication], password: "right" });
    await expect(authenticateToServer(b, toA, "wrong")).rejects.toThrow("Authentication failed");
    expect(await server).toBe("refused");
  });

  it("uses None when that is all the server offers, and refuses what it cannot answer", async () => {
    let p = pipePair();
    const [server] = await Promise.all([
      fakeServerSide(p.a, p.toB, { types: [SecurityType.None] }),
      authenticateToServer(p.b, p.toA, undefined),
    ]);
    expect(server).toBe("ok");
    p = pipePair();
    void fakeServerSide(p.a, p.toB, { types: [SecurityType.VncAuthentication] }).catch(() => undefined);
    await expect(authenticateToServer(p.b, p.toA, undefined)).rejects.toThrow(/no password is kept/);
    p = pipePair();
    void fakeServerSide(p.a, p.toB, { types: [SecurityType.None], version: "RFB 003.003\n" }).catch(
      () => undefined,
    );
    await expect(authenticateToServer(p.b, p.toA, undefined)).rejects.toThrow(/3.8 is required/);
  });

  it("fails cleanly when the server hangs up mid-handshake", async () => {
    const { b, toA } = pipePair();
    b.push(Buffer.from(RFB_VERSION_3_8, "latin1"));
    const pending = authenticateToServer(b, toA, "x");
    b.end(new RfbError("closed"));
    await expect(pending).rejects.toThrow("closed");
  });
});

describe("the server half towards a browser", () => {
  it("offers None only and completes with a 3.8 client", async () => {
    const { a, b, toA, toB } = pipePair();
    const client = (async () => {
      expect((await a.read(12)).toString("latin1")).toBe(RFB_VERSION_3_8);
      toB(Buffer.from(RFB_VERSION_3_8, "latin1"));
      expect([...(await a.read(2))]).toEqual([1, SecurityType.None]);
      toB(Buffer.from([SecurityType.None]));
      expect((await a.read(4)).readUInt32BE(0)).toBe(0);
    })();
    await Promise.all([greetClient(b, toA), client]);
  });

  it("refuses an older client with a reason, and a client choosing another type", async () => {
    let p = pipePair();
    p.b.push(Buffer.from("RFB 003.003\n", "latin1"));
    await expect(greetClient(p.b, p.toA)).rejects.toThrow(/3.8 is required/);
    const sent = p.a.drain();
    expect(sent.subarray(12, 13)[0]).toBe(0); // no security types: the reason follows
    expect(sent.toString("utf8")).toContain("needs an RFB 3.8 client");
    p = pipePair();
    p.b.push(Buffer.from(RFB_VERSION_3_8, "latin1"));
    p.b.push(Buffer.from([SecurityType.VncAuthentication]));
    await expect(greetClient(p.b, p.toA)).rejects.toThrow(/not None/);
  });

  it("keeps bytes that arrive beyond the handshake for the relay", async () => {
    const q = new ByteQueue();
    q.push(Buffer.from("abc"));
    q.push(Buffer.from("defg"));
    expect((await q.read(2)).toString()).toBe("ab");
    expect(q.drain().toString()).toBe("cdefg");
    expect(q.drain().length).toBe(0);
  });
});
