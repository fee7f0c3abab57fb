// A desktop's console password: made by the agent that runs the desktop, set on the VM's VNC
// server, and kept in a Secret in the broker's namespace, where only the broker may read it. The
// Secret is named after the desktop's uid, so a desktop made again under the same name never
// finds its predecessor's password. The password goes into the VM and the Secret only: never into
// a log line, an Event, a status or a page.
import { randomInt } from "node:crypto";
import { GROUP, Labels } from "../api/constants.js";
import type { DesktopIdentity } from "../hypervisors/adapter.js";
import type { KubeObject } from "../runtime/index.js";

/** The Secret key that holds the password. */
export const CONSOLE_PASSWORD_KEY = "password";

/** VNC authentication uses the first 8 bytes of the password; longer ones would only mislead. */
export const CONSOLE_PASSWORD_LENGTH = 8;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const CONSOLE_PASSWORD_PATTERN = /^[A-Za-z0-9]{1,8}$/;

/** For people and selectors; the uid in the name is what the broker goes by. */
export const ConsoleMarks = {
  /** Label: the desktop's namespace. */
  desktopNamespace: `${GROUP}/desktop-namespace`,
  /** Annotation: namespace/name of the desktop (a name may be too long for a label value). */
  desktop: `${GROUP}/desktop`,
} as const;

export interface ConsoleSecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export const consoleSecretName = (desktopUid: string): string => `console-${desktopUid}`;

/** 8 characters from a CSPRNG (about 47 bits: VNC authentication is defence in depth only). */
export function newConsolePassword(): string {
  let out = "";
  for (let i = 0; i < CONSOLE_PASSWORD_LENGTH; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function consoleSecret(
  namespace: string,
  desktop: DesktopIdentity,
  host: string,
  password: string,
): ConsoleSecretObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      namespace,
      name: consoleSecretName(desktop.uid),
      labels: { [ConsoleMarks.desktopNamespace]: desktop.namespace, [Labels.Host]: host },
      annotations: { [ConsoleMarks.desktop]: `${desktop.namespace}/${desktop.name}` },
    },
    type: "Opaque",
    data: { [CONSOLE_PASSWORD_KEY]: Buffer.from(password).toString("base64") },
  };
}

/** The password a console Secret holds, or undefined when it holds none that VNC could use. */
export function passwordOf(secret: ConsoleSecretObject): string | undefined {
  const encoded = secret.data?.[CONSOLE_PASSWORD_KEY];
  if (!encoded) return undefined;
  const password = Buffer.from(encoded, "base64").toString("utf8");
  return CONSOLE_PASSWORD_PATTERN.test(password) ? password : undefined;
}
