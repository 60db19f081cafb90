//go:build clients

package clienttest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// debianPython is the interpreter Debian's python3-msal is installed for
// (a pyenv or virtualenv python3 on PATH would not see it).
const debianPython = "/usr/bin/python3"

// requirePythonMSAL skips the test when python3-msal is not installed.
func requirePythonMSAL(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(debianPython, "-c", "import msal, requests").CombinedOutput(); err != nil {
		missing(t, fmt.Sprintf("Debian python3-msal is not installed: %v: %s", err, strings.TrimSpace(string(out))))
	}
}

// checkMSALPythonResult asserts that the secret and certificate flows got
// a Graph token with the consented role that worked on Graph, and that the
// wrong secret surfaced AADSTS7000215.
func checkMSALPythonResult(t *testing.T, s *sandbox.Server, res map[string]any, log, graph string) {
	t.Helper()
	info := s.Tenant()
	for _, name := range []string{"secret", "certSha1"} {
		r, _ := res[name].(map[string]any)
		if r == nil || r["ok"] != true {
			t.Errorf("MSAL Python %s flow failed: %v\n%s", name, r, log)
			continue
		}
		c, _ := r["claims"].(map[string]any)
		roles, _ := c["roles"].([]any)
		if c["aud"] != graph || c["tid"] != info.TenantID || !slices.Contains(roles, any("Application.Read.All")) {
			t.Errorf("MSAL Python %s: token claims %v, want aud %s, tid %s and role Application.Read.All", name, c, graph, info.TenantID)
		}
		apps, _ := r["applications"].(map[string]any)
		if apps["status"] != float64(200) || apps["count"].(float64) < 1 {
			t.Errorf("MSAL Python %s: GET /applications with the token: %v", name, apps)
		}
		if r["cachedSecondCall"] != true {
			t.Errorf("MSAL Python %s: the second acquisition was not served from MSAL's cache", name)
		}
	}
	wrong, _ := res["wrongSecret"].(map[string]any)
	codes, _ := wrong["codes"].([]any)
	if wrong == nil || wrong["ok"] != false || wrong["error"] != "invalid_client" || !slices.Contains(codes, any(float64(7000215))) {
		t.Errorf("MSAL Python wrong secret: %v, want invalid_client with error code 7000215", wrong)
	}
}

// TestMSALPython runs Debian's python3-msal confidential clients (client
// secret, certificate) against the sandbox's own address (instance
// discovery off: it would otherwise ask login.microsoftonline.com), then
// calls Graph with requests. The script refuses non-loopback connections.
// REQUESTS_CA_BUNDLE is set as well as verify=: requests lets the
// environment variable override a session's verify setting.
func TestMSALPython(t *testing.T) {
	requirePythonMSAL(t)
	s := sandboxtest.New(t, sandboxtest.StateDir(t.TempDir()))
	clientID, secret, err := s.CreatePrincipal(context.Background(), "msal-python secret", []string{"Application.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := newCertPrincipal(t, s, "msal-python cert", []string{"Application.Read.All"})
	before := len(s.Requests())

	env := append(clientEnv(s, s.URL(), "", s.URL(), clientID, secret, cp),
		"CA_FILE="+filepath.Join(s.StateDir(), "ca.pem"), "REQUESTS_CA_BUNDLE="+filepath.Join(s.StateDir(), "ca.pem"), "INSTANCE_DISCOVERY=0", "LOOPBACK_ONLY=1")
	res, log := runJSON(t, 2*time.Minute, env, debianPython, "msal_python.py")
	t.Logf("msal-python: %v", res)
	checkMSALPythonResult(t, s, res, log, s.URL())

	recs := requestsSince(s, before)
	if !sawRequest(recs, "GET", "/"+s.Tenant().TenantID+"/v2.0/.well-known/openid-configuration", 200) ||
		!sawRequest(recs, "POST", "/"+s.Tenant().TenantID+"/oauth2/v2.0/token", 200) {
		t.Errorf("MSAL Python did not go through openid-configuration and the v2 token endpoint:%s", formatRequests(recs))
	}
	t.Logf("requests:%s", formatRequests(recs))
}
