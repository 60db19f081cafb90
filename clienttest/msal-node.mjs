// MSAL for Node confidential clients against the entra-link sandbox, driven
// by msal_node_test.go. Configuration comes from the environment:
//   AUTHORITY_HOST   https://127.0.0.1:PORT (the sandbox) or https://login.microsoftonline.com
//   KNOWN_AUTHORITY  host[:port] for knownAuthorities ("" = MSAL's own instance discovery)
//   TENANT           tenant id or verified domain
//   GRAPH            Graph endpoint (https://127.0.0.1:PORT or https://graph.microsoft.com)
//   SCOPE            the .default scope to request
//   SECRET_CLIENT_ID, SECRET                      client-secret flow
//   CERT_CLIENT_ID, CERT_KEY_FILE, CERT_THUMBPRINT_SHA256, CERT_THUMBPRINT_SHA1  certificate flow
//   MSAL_VERBOSE     non-empty: MSAL's verbose log (no PII) in the output
// Prints one JSON line: per flow the token's claims (never the token) and the
// Graph call made with it.
import { readFileSync } from "node:fs";
import { ConfidentialClientApplication, LogLevel } from "@azure/msal-node";

const env = (k, d = "") => process.env[k] ?? d;
const authority = `${env("AUTHORITY_HOST")}/${env("TENANT")}`;
// An explicit knownAuthorities: undefined replaces MSAL's default [] and
// breaks its metadata lookup (endpoints_resolution_error), so the key is
// set only when there is a value.
const known = env("KNOWN_AUTHORITY") ? { knownAuthorities: [env("KNOWN_AUTHORITY")] } : {};
const logs = [];

function claims(token) {
  const c = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString());
  return { aud: c.aud, iss: c.iss, tid: c.tid, appid: c.appid, idtyp: c.idtyp, roles: c.roles ?? [], wids: c.wids ?? [] };
}

async function graphGet(token, path) {
  const r = await fetch(env("GRAPH") + "/v1.0" + path, { headers: { Authorization: `Bearer ${token}` } });
  const body = await r.json();
  return { status: r.status, body };
}

async function flow(name, auth) {
  const app = new ConfidentialClientApplication({
    auth: { authority, ...known, ...auth },
    system: {
      loggerOptions: {
        logLevel: env("MSAL_VERBOSE") ? LogLevel.Verbose : LogLevel.Warning,
        piiLoggingEnabled: false,
        loggerCallback: (_level, message) => logs.push(`${name}: ${message}`),
      },
    },
  });
  try {
    const res = await app.acquireTokenByClientCredential({ scopes: [env("SCOPE")] });
    const out = { ok: true, tokenType: res.tokenType, expiresInFuture: res.expiresOn > new Date(), claims: claims(res.accessToken) };
    const apps = await graphGet(res.accessToken, "/applications?$select=id,appId,displayName&$top=5");
    out.applications = { status: apps.status, count: apps.body.value?.length ?? -1, context: apps.body["@odata.context"] ?? "", error: apps.body.error?.code ?? "" };
    // A second acquisition is answered from MSAL's cache.
    const again = await app.acquireTokenByClientCredential({ scopes: [env("SCOPE")] });
    out.cachedSecondCall = again.fromCache === true;
    return out;
  } catch (e) {
    return { ok: false, errorCode: e.errorCode ?? "", error: String(e.message ?? e).split("\n")[0] };
  }
}

const result = {};
if (env("SECRET_CLIENT_ID")) {
  result.secret = await flow("secret", { clientId: env("SECRET_CLIENT_ID"), clientSecret: env("SECRET") });
  result.wrongSecret = await flow("wrong-secret", { clientId: env("SECRET_CLIENT_ID"), clientSecret: "not-the-secret" });
}
if (env("CERT_CLIENT_ID")) {
  const privateKey = readFileSync(env("CERT_KEY_FILE"), "utf8");
  result.certSha256 = await flow("cert-sha256", {
    clientId: env("CERT_CLIENT_ID"),
    clientCertificate: { thumbprintSha256: env("CERT_THUMBPRINT_SHA256"), privateKey },
  });
  // The deprecated SHA-1 thumbprint (x5t, RS256), still what many
  // deployments configure.
  result.certSha1 = await flow("cert-sha1", {
    clientId: env("CERT_CLIENT_ID"),
    clientCertificate: { thumbprint: env("CERT_THUMBPRINT_SHA1"), privateKey },
  });
}
result.msalLogs = env("MSAL_VERBOSE") ? logs : logs.slice(0, 20);
console.log(JSON.stringify(result));
