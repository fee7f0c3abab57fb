// The portal page and the noVNC client it loads, served by the broker as static files (web/portal
// in this repository, and @novnc/novnc's core and vendor directories as the package ships them:
// ES modules, no bundler). Every answer carries headers that keep the page to itself: a Content
// Security Policy of its own origin only (the console's WebSocket included), no framing, no
// referrer (a console URL never leaves in a Referer), no MIME sniffing.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

export const PAGE_DIR = fileURLToPath(new URL("../../web/portal/", import.meta.url));
/** noVNC's package root, found from its entry point (core/rfb.js); its exports hide package.json. */
export const NOVNC_DIR = dirname(dirname(fileURLToPath(import.meta.resolve("@novnc/novnc"))));

const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; " +
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
} as const;

export async function registerPage(app: FastifyInstance): Promise<void> {
  app.addHook("onSend", async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });
  await app.register(fastifyStatic, { root: PAGE_DIR, prefix: "/", index: "index.html" });
  for (const part of ["core", "vendor"])
    await app.register(fastifyStatic, {
      root: `${NOVNC_DIR}/${part}`,
      prefix: `/novnc/${part}/`,
      decorateReply: false,
    });
}
