"""MSAL for Python confidential clients against the entra-link sandbox.

Driven by msal_python_test.go with the same environment as msal-node.mjs
(AUTHORITY_HOST, TENANT, GRAPH, SCOPE, SECRET_CLIENT_ID, SECRET,
CERT_CLIENT_ID, CERT_KEY_FILE, CERT_THUMBPRINT_SHA1) plus CA_FILE and
INSTANCE_DISCOVERY ("0" = off). With LOOPBACK_ONLY=1 every connection that
is not to loopback is refused before it is made. Prints one JSON line with
each flow's token claims (never the token) and a Graph call made with it.
"""

import base64
import json
import os
import socket
import sys

import msal
import requests

env = os.environ.get

if env("LOOPBACK_ONLY") == "1":
    _connect = socket.socket.connect

    def _loopback_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")):
            raise ConnectionRefusedError("loopback guard: refusing to connect to %s" % host)
        return _connect(self, address)

    socket.socket.connect = _loopback_only


def claims(token):
    part = token.split(".")[1]
    c = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return {k: c.get(k) for k in ("aud", "iss", "tid", "appid", "idtyp", "roles", "wids")}


def flow(client_id, credential):
    app = msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=env("AUTHORITY_HOST") + "/" + env("TENANT"),
        verify=env("CA_FILE"),
        instance_discovery=env("INSTANCE_DISCOVERY") != "0",
    )
    res = app.acquire_token_for_client(scopes=[env("SCOPE")])
    if "access_token" not in res:
        return {"ok": False, "error": res.get("error"), "codes": res.get("error_codes"),
                "description": (res.get("error_description") or "").split("\n")[0]}
    out = {"ok": True, "tokenType": res.get("token_type"), "claims": claims(res["access_token"])}
    r = requests.get(env("GRAPH") + "/v1.0/applications", params={"$select": "id,appId", "$top": "5"},
                     headers={"Authorization": "Bearer " + res["access_token"]}, verify=env("CA_FILE"), timeout=30)
    body = r.json()
    out["applications"] = {"status": r.status_code, "count": len(body.get("value", [])),
                           "error": (body.get("error") or {}).get("code", "")}
    # MSAL Python before 1.23 never reads the cache in acquire_token_for_client;
    # acquire_token_silent(account=None) is how such versions reuse the token.
    again = app.acquire_token_silent([env("SCOPE")], account=None) or {}
    out["cachedSecondCall"] = again.get("access_token") == res["access_token"]
    return out


result = {"msalVersion": msal.__version__}
if env("SECRET_CLIENT_ID"):
    result["secret"] = flow(env("SECRET_CLIENT_ID"), env("SECRET"))
    result["wrongSecret"] = flow(env("SECRET_CLIENT_ID"), "not-the-secret")
if env("CERT_CLIENT_ID"):
    with open(env("CERT_KEY_FILE")) as f:
        key = f.read()
    result["certSha1"] = flow(env("CERT_CLIENT_ID"), {"private_key": key, "thumbprint": env("CERT_THUMBPRINT_SHA1")})
json.dump(result, sys.stdout)
print()
