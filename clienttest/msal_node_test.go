//go:build clients

package clienttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// requireNodeModule skips the test when `make test-clients` could not
// install the npm package (or node is missing).
func requireNodeModule(t *testing.T, pkg string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(moduleDir(t), "node_modules", pkg, "package.json")); err != nil {
		missing(t, fmt.Sprintf("npm package %s is not installed in clienttest/node_modules: %v", pkg, err))
	}
}

// clientEnv is the environment msal-node.mjs and msal_python.py read.
func clientEnv(s *sandbox.Server, authorityHost, knownAuthority, graph, secretID, secret string, cp certPrincipal) []string {
	info := s.Tenant()
	return []string{
		"NODE_EXTRA_CA_CERTS=" + filepath.Join(s.StateDir(), "ca.pem"),
		"AUTHORITY_HOST=" + authorityHost,
		"KNOWN_AUTHORITY=" + knownAuthority,
		"TENANT=" + info.TenantID,
		"GRAPH=" + graph,
		"SCOPE=" + graph + "/.default",
		"SECRET_CLIENT_ID=" + secretID,
		"SECRET=" + secret,
		"CERT_CLIENT_ID=" + cp.ClientID,
		"CERT_KEY_FILE=" + cp.KeyFile,
		"CERT_THUMBPRINT_SHA256=" + cp.SHA256,
		"CERT_THUMBPRINT_SHA1=" + cp.SHA1,
	}
}

// checkMSALNodeResult asserts what every MSAL Node run must show: both
// credential kinds got a Graph token carrying the consented role, the
// token worked on Graph, and the wrong secret surfaced Entra's AADSTS code.
func checkMSALNodeResult(t *testing.T, s *sandbox.Server, res map[string]any, log string, graph string) {
	t.Helper()
	info := s.Tenant()
	for _, name := range []string{"secret", "certSha256", "certSha1"} {
		r, _ := res[name].(map[string]any)
		if r == nil || r["ok"] != true {
			t.Errorf("MSAL Node %s flow failed: %v\n%s", name, r, log)
			continue
		}
		c, _ := r["claims"].(map[string]any)
		roles, _ := c["roles"].([]any)
		if c["aud"] != graph || c["tid"] != info.TenantID || c["idtyp"] != "app" ||
			!slices.Contains(roles, any("Application.Read.All")) {
			t.Errorf("MSAL Node %s: token claims %v, want aud %s, tid %s, idtyp app and role Application.Read.All", name, c, graph, info.TenantID)
		}
		if r["tokenType"] != "Bearer" || r["expiresInFuture"] != true {
			t.Errorf("MSAL Node %s: tokenType %v expiresInFuture %v", name, r["tokenType"], r["expiresInFuture"])
		}
		apps, _ := r["applications"].(map[string]any)
		if apps["status"] != float64(200) || apps["count"].(float64) < 1 {
			t.Errorf("MSAL Node %s: GET /applications with the token: %v", name, apps)
		}
		if r["cachedSecondCall"] != true {
			t.Errorf("MSAL Node %s: the second acquisition was not served from MSAL's cache", name)
		}
	}
	wrong, _ := res["wrongSecret"].(map[string]any)
	if wrong == nil || wrong["ok"] != false || wrong["errorCode"] != "invalid_client" {
		t.Errorf("MSAL Node wrong secret: %v, want errorCode invalid_client", wrong)
	} else if msg, _ := wrong["error"].(string); !strings.Contains(msg, "AADSTS7000215") {
		t.Errorf("MSAL Node wrong secret: message %q lacks AADSTS7000215", msg)
	}
}

// TestMSALNode runs @azure/msal-node confidential clients (client secret,
// certificate with SHA-256 and with SHA-1 thumbprint) against the sandbox's
// own address as a known authority, then calls Graph with the token using
// Node's fetch. The loopback guard preloaded into node refuses any
// connection that is not to loopback.
func TestMSALNode(t *testing.T) {
	requireNodeModule(t, "@azure/msal-node")
	s := sandboxtest.New(t, sandboxtest.StateDir(t.TempDir()))
	clientID, secret, err := s.CreatePrincipal(context.Background(), "msal-node secret", []string{"Application.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := newCertPrincipal(t, s, "msal-node cert", []string{"Application.Read.All"})
	before := len(s.Requests())

	host := s.URL()[len("https://"):]
	env := clientEnv(s, s.URL(), host, s.URL(), clientID, secret, cp)
	env = append(env, "NODE_OPTIONS=--require "+filepath.Join(moduleDir(t), "loopback-guard.cjs"))
	res, log := runJSON(t, 2*time.Minute, env, "node", "msal-node.mjs")
	t.Logf("msal-node: %v", res)
	checkMSALNodeResult(t, s, res, log, s.URL())

	recs := requestsSince(s, before)
	for _, want := range []struct{ method, path string }{
		{"GET", "/" + s.Tenant().TenantID + "/v2.0/.well-known/openid-configuration"},
		{"POST", "/" + s.Tenant().TenantID + "/oauth2/v2.0/token"},
		{"GET", "/v1.0/applications"},
	} {
		if !sawRequest(recs, want.method, want.path, 200) {
			t.Errorf("MSAL Node never got a 200 for %s %s:%s", want.method, want.path, formatRequests(recs))
		}
	}
	t.Logf("requests:%s", formatRequests(recs))
}
