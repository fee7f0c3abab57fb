// A lab OpenID Connect provider for tests and `make run`: the certified `oidc-provider` package in
// a process of its own, on loopback over HTTPS, with one client (the broker: code flow, PKCE
// required, client_secret_basic) and the users of a static users file (the broker's format:
// names, scrypt hashes, groups), whose passwords its login page checks. It issues
// preferred_username and groups. Not for production: a real identity provider takes its place.
//
//   node --import tsx hack/lab-idp.ts --port 0 --tls-cert-file C --tls-key-file K \
//     --users-file users.yaml --client-id griddesk --client-secret-file S --redirect-uri URI
// prints one JSON line {"issuer": "..."} once listening.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";
import { StaticUsers } from "../src/broker/static-users.js";

const { values: o } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    "tls-cert-file": { type: "string" },
    "tls-key-file": { type: "string" },
    "users-file": { type: "string" },
    "client-id": { type: "string", default: "griddesk" },
    "client-secret-file": { type: "string" },
    "redirect-uri": { type: "string", multiple: true },
  },
});
for (const flag of [
  "tls-cert-file",
  "tls-key-file",
  "users-file",
  "client-secret-file",
  "redirect-uri",
] as const)
  if (!o[flag]) throw new Error(`--${flag} is required`);

const users = StaticUsers.load(o["users-file"] as string);
const groupsOf = new Map<string, readonly string[]>();
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error = ""): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lab identity provider</title></head>
<body><h1>Lab identity provider</h1><p>Sign in to continue to griddesk.</p>
${error ? `<p role="alert">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">User name</label> <input id="login" name="login" autocomplete="username" required>
<label for="password">Password</label> <input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form></body></html>`;
}

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

async function main(): Promise<void> {
  const server = createServer({
    cert: readFileSync(o["tls-cert-file"] as string),
    key: readFileSync(o["tls-key-file"] as string),
  });
  await new Promise<void>((resolve) => server.listen(Number(o.port), o.host, () => resolve()));
  const issuer = `https://${o.host}:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: o["client-id"] as string,
        client_secret: readFileSync(o["client-secret-file"] as string, "utf8").trim(),
        redirect_uris: o["redirect-uri"] as string[],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: "lab", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    pkce: { required: () => true },
    scopes: ["openid", "profile", "groups"],
    claims: { openid: ["sub"], profile: ["preferred_username", "name"], groups: ["groups"] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const groups = groupsOf.get(id);
      if (groups === undefined) return undefined;
      return {
        accountId: id,
        claims: async () => ({ sub: id, preferred_username: id, name: id, groups: [...groups] }),
      };
    },
    // griddesk is this lab's only client, a first-party one: no consent screen.
    async loadExistingGrant(ctx) {
      const session = ctx.oidc.session;
      const client = ctx.oidc.client;
      if (!session?.accountId || !client) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope("openid profile groups");
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? "/", issuer);
      const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
      if (!m) return callback(req, res);
      const details = await provider.interactionDetails(req, res);
      if (req.method === "GET") {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(loginPage(details.uid));
        return;
      }
      const form = await body(req);
      const login = form.get("login") ?? "";
      const identity = await users.signIn(login, form.get("password") ?? "");
      if (!identity) {
        res
          .writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
          .end(loginPage(details.uid, "Wrong user name or password."));
        return;
      }
      groupsOf.set(identity.user, identity.groups);
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: identity.user } },
        { mergeWithLastSubmission: false },
      );
    })().catch((err: unknown) => {
      console.error(`lab-idp: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500).end("lab identity provider error\n");
    });
  });
  console.log(JSON.stringify({ issuer }));
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => server.close(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error(`lab-idp: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
