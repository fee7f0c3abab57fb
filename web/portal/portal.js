// The griddesk portal: sign in, pick a pool, see the desktop (noVNC), reconnect after a drop, log
// off. Plain ES modules, no framework: the broker's API does the work (src/broker/portal.ts). The
// page never sees a VNC address or password: a one-time ticket opens the broker's console relay.
import RFB from "/novnc/core/rfb.js";

const $ = (id) => document.getElementById(id);
const MAX_RECONNECTS = 10;
const state = { rfb: undefined, session: undefined, reconnects: 0, leaving: false, watch: undefined };

async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(path, init);
  let json = {};
  try {
    json = await res.json();
  } catch {
    // no body
  }
  return { status: res.status, json };
}

const sessionPath = (s) => `/api/sessions/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.name)}`;

function say(text) {
  $("status").textContent = text;
}

function show(section) {
  for (const id of ["signin", "pools", "desktop"]) $(id).hidden = id !== section;
}

function describe(s) {
  const phase =
    {
      Pending: "Waiting for a desktop",
      Bound: "Your desktop is starting",
      Ready: "Your desktop is ready",
      Ending: "Logging off",
      Ended: "The session ended",
      Failed: "The session failed",
    }[s.phase] ?? s.phase;
  return s.message ? `${phase}: ${s.message}` : `${phase}…`;
}

async function start() {
  const me = await api("GET", "/api/me");
  if (me.status !== 200) return showSignIn();
  $("who").hidden = false;
  $("who-name").textContent = me.json.user;
  return showPools();
}

async function showSignIn(message = "") {
  closeConsole();
  $("who").hidden = true;
  const cfg = await api("GET", "/api/config");
  $("signin-form").hidden = !cfg.json.staticUsers;
  $("oidc").hidden = !cfg.json.oidc;
  $("signin-error").textContent = message;
  show("signin");
  say("");
  (cfg.json.oidc ? $("oidc") : $("user")).focus();
}

async function showPools(message = "") {
  closeConsole();
  show("pools");
  say(message);
  const r = await api("GET", "/api/pools");
  if (r.status === 401) return showSignIn();
  const pools = r.json.pools ?? [];
  $("pools-empty").hidden = pools.length > 0;
  $("pools-empty").textContent = r.json.message ?? "";
  const items = pools.map((p) => {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "pool-name";
    name.textContent = p.name;
    const where = document.createElement("span");
    where.className = "muted";
    where.textContent = p.namespace;
    const avail = document.createElement("span");
    avail.className = "availability";
    avail.textContent = p.session
      ? `Your desktop is ${p.session.phase === "Ready" ? "running" : p.session.phase.toLowerCase()}`
      : p.available > 0
        ? `${p.available} ready now`
        : "None warm: starting one takes a minute";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "primary";
    button.textContent = p.session ? "Reconnect" : "Connect";
    button.setAttribute("aria-label", `${button.textContent} to ${p.name}`);
    button.addEventListener("click", () => void connect(p));
    li.append(name, where, avail, button);
    return li;
  });
  $("pool-list").replaceChildren(...items);
  items[0]?.querySelector("button")?.focus();
}

async function connect(pool) {
  say(`Connecting to ${pool.name}…`);
  const r = await api(
    "POST",
    `/api/pools/${encodeURIComponent(pool.namespace)}/${encodeURIComponent(pool.name)}/connect`,
  );
  if (r.status === 401) return showSignIn();
  if (r.status !== 200 && r.status !== 201) return say(r.json.error ?? "Could not connect.");
  state.session = r.json.session;
  try {
    await waitReady(state.session);
    await openConsole();
  } catch (err) {
    await showPools(err.message);
  }
}

/** Resolves once the session is Ready, saying how it goes; rejects if it ends first. */
function waitReady(s) {
  if (s.phase === "Ready") return Promise.resolve();
  return new Promise((resolve, reject) => {
    const events = new EventSource(`${sessionPath(s)}/progress`);
    events.addEventListener("session", (e) => {
      const view = JSON.parse(e.data);
      say(describe(view));
      if (view.phase === "Ready") {
        events.close();
        resolve();
      } else if (view.phase === "Ended" || view.phase === "Failed") {
        events.close();
        reject(new Error(view.message ?? "The session ended."));
      }
    });
    events.onerror = () => {
      // The stream broke before Ready: look again in a moment.
      events.close();
      setTimeout(() => {
        api("GET", sessionPath(s)).then((r) => {
          if (r.status !== 200) reject(new Error("The session ended."));
          else waitReady(r.json.session).then(resolve, reject);
        }, reject);
      }, 1000);
    };
  });
}

async function openConsole() {
  const s = state.session;
  const t = await api("POST", `${sessionPath(s)}/ticket`);
  if (t.status !== 200) throw new Error(t.json.error ?? "The desktop cannot be reached now.");
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${t.json.path}`;
  show("desktop");
  $("desktop-name").textContent = s.pool;
  state.leaving = false;
  const rfb = new RFB($("screen"), url, { shared: true });
  rfb.scaleViewport = true;
  rfb.background = "#282828";
  rfb.addEventListener("connect", () => {
    state.reconnects = 0;
    say(`Connected to ${s.pool}`);
    $("screen").focus();
  });
  rfb.addEventListener("disconnect", () => onDisconnect(rfb));
  state.rfb = rfb;
  watchSession();
}

/** A dropped console (network, a broker restarting): the session goes on; open it again. */
function onDisconnect(rfb) {
  if (state.rfb !== rfb) return;
  state.rfb = undefined;
  if (state.leaving) return;
  if (state.reconnects >= MAX_RECONNECTS)
    return void showPools(
      "The connection to your desktop was lost. Your session is still running: reconnect below.",
    );
  state.reconnects++;
  const delay = Math.min(1000 * 2 ** (state.reconnects - 1), 10_000);
  say(`Connection lost; reconnecting (attempt ${state.reconnects})…`);
  setTimeout(() => void reconnect(), delay);
}

async function reconnect() {
  if (state.leaving || state.rfb) return;
  const r = await api("GET", sessionPath(state.session)).catch(() => ({ status: 0, json: {} }));
  if (r.status === 401) return showSignIn();
  if (r.status === 404) return showPools("Your session has ended.");
  if (r.status !== 200 || r.json.session.phase !== "Ready") return onDisconnect(undefined);
  try {
    await openConsole();
  } catch {
    onDisconnect(undefined);
  }
}

/** While the desktop is shown: notices (e.g. host maintenance) and the session's end. */
function watchSession() {
  clearInterval(state.watch);
  state.watch = setInterval(async () => {
    if (!state.session) return;
    const r = await api("GET", sessionPath(state.session)).catch(() => undefined);
    if (!r) return;
    if (r.status === 404) return void showPools("Your session has ended.");
    const notice = r.json.session?.notice;
    $("notice").hidden = !notice;
    $("notice").textContent = notice
      ? `${notice.message}${notice.deadline ? ` (until ${new Date(notice.deadline).toLocaleTimeString()})` : ""}`
      : "";
  }, 15_000);
}

function closeConsole() {
  state.leaving = true;
  clearInterval(state.watch);
  const rfb = state.rfb;
  state.rfb = undefined;
  rfb?.disconnect();
  $("notice").hidden = true;
}

$("signin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await api("POST", "/api/signin", { user: $("user").value, password: $("password").value });
  $("password").value = "";
  if (r.status !== 200) {
    $("signin-error").textContent = r.json.error ?? "Sign-in failed.";
    return;
  }
  $("signin-error").textContent = "";
  await start();
});
$("signout").addEventListener("click", async () => {
  await api("POST", "/api/signout");
  await showSignIn("Signed out.");
});
$("leave").addEventListener("click", () => void showPools("Disconnected. Your desktop keeps running."));
$("fullscreen").addEventListener("click", () => void $("screen").requestFullscreen?.());
$("logoff").addEventListener("click", async () => {
  const s = state.session;
  closeConsole();
  say("Logging off…");
  const r = await api("POST", `${sessionPath(s)}/logoff`);
  state.session = undefined;
  await showPools(r.status === 202 ? "Logged off." : (r.json.error ?? "Could not log off."));
});

void start();
