//go:build clients

package clienttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/netnstest"
	"github.com/entra-link/entra-link/internal/sandbox"
)

// The real-hostname tests run inside a private network and mount
// namespace (unshare --net --mount) that has only a loopback interface and
// a private /etc/hosts mapping the Microsoft login and Graph host names to
// 127.0.0.1, where the sandbox listens on port 443. Unmodified clients
// (the CLI for Microsoft 365, the Azure CLI, MSAL with its default
// authority) then talk to "login.microsoftonline.com" and
// "graph.microsoft.com" and reach the sandbox; no other address exists.
//
// TestRealHostnames re-executes this test binary in such a namespace with
// netnsEnv=1, where TestMain prepares the namespace and only the TestNetns*
// tests run.

const netnsEnv = "ENTRA_LINK_CLIENTTEST_NETNS"

func inNetns() bool { return netnstest.Inside(netnsEnv) }

func TestMain(m *testing.M) {
	if inNetns() {
		if err := netnstest.Prepare(); err != nil {
			fmt.Fprintln(os.Stderr, "clienttest: prepare network namespace:", err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

// TestRealHostnames runs the TestNetns* tests in a fresh network and mount
// namespace. It needs root and util-linux unshare; without them it skips.
func TestRealHostnames(t *testing.T) {
	if inNetns() {
		t.Skip("already inside the namespace")
	}
	if reason := netnstest.Unavailable(); reason != "" {
		missing(t, reason)
	}
	bin := buildEntraLink(t, t.TempDir())
	run := "^TestNetns"
	if r := os.Getenv("ENTRA_LINK_CLIENTTEST_RUN"); r != "" {
		run = r // while working on one client
	}
	// The namespace's verdicts are surfaced line by line: skipped clients
	// are part of the record.
	r := netnstest.Run(moduleDir(t), netnsEnv, []string{binEnv + "=" + bin}, run, 14*time.Minute)
	for _, l := range r.Lines {
		t.Log(l)
	}
	if r.Err != nil {
		t.Fatalf("inside the network namespace, %d of %d tests failed: %s (%v)", len(r.Failed), len(r.Ran), strings.Join(r.Failed, ", "), r.Err)
	}
	if !slices.ContainsFunc(r.Ran, func(n string) bool { return strings.HasPrefix(n, "TestNetns") }) {
		t.Fatalf("no TestNetns test ran inside the namespace")
	}
}

// requireNetns skips a TestNetns* test outside the namespace.
func requireNetns(t *testing.T) {
	t.Helper()
	if !inNetns() {
		t.Skip("runs inside the private network namespace started by TestRealHostnames")
	}
}

// startOn443 starts a sandbox on 127.0.0.1:443, where the real host names
// resolve inside the namespace, with its state in a temporary directory.
func startOn443(t *testing.T) *sandbox.Server {
	t.Helper()
	s, err := sandbox.Start(context.Background(), sandbox.Options{Listen: "127.0.0.1:443", StateDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start sandbox on 127.0.0.1:443: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close sandbox: %v", err)
		}
	})
	return s
}

// cmdResult is one client command's outcome.
type cmdResult struct {
	stdout, stderr string
	err            error
}

// secretField matches the JSON fields in which the CLIs print a new secret
// (az ad app credential reset: "password"), so a failure message never
// repeats one.
var secretField = regexp.MustCompile(`("(?:password|secretText|clientSecret)"\s*:\s*)"[^"]*"`)

func (r cmdResult) String() string {
	redact := func(s string) string { return secretField.ReplaceAllString(s, `$1"<redacted>"`) }
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.err, redact(r.stdout), redact(r.stderr))
}

// run runs a client command with env added to the environment.
func run(t *testing.T, env []string, name string, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = moduleDir(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return cmdResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// TestNetnsMSALNode runs msal-node.mjs with the default authority
// https://login.microsoftonline.com (MSAL's own instance discovery and
// metadata, no knownAuthorities) and Graph at https://graph.microsoft.com.
func TestNetnsMSALNode(t *testing.T) {
	requireNetns(t)
	requireNodeModule(t, "@azure/msal-node")
	s := startOn443(t)
	clientID, secret, err := s.CreatePrincipal(context.Background(), "msal-node real hosts", []string{"Application.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := newCertPrincipal(t, s, "msal-node real hosts cert", []string{"Application.Read.All"})
	before := len(s.Requests())
	graph := "https://graph.microsoft.com"
	env := clientEnv(s, "https://login.microsoftonline.com", "", graph, clientID, secret, cp)
	res, log := runJSON(t, 2*time.Minute, env, "node", "msal-node.mjs")
	t.Logf("msal-node: %v", res)
	checkMSALNodeResult(t, s, res, log, graph)
	// msal-node 7 carries the public cloud's metadata built in: it asks
	// for neither instance discovery nor openid-configuration and goes
	// straight to the token endpoint.
	recs := requestsSince(s, before)
	checkRealHosts(t, recs)
	if !sawRequest(recs, "POST", "/"+s.Tenant().TenantID+"/oauth2/v2.0/token", 200) {
		t.Errorf("MSAL Node never got a token from login.microsoftonline.com:%s", formatRequests(recs))
	}
	t.Logf("requests:%s", formatRequests(recs))
}

// checkRealHosts asserts that the clients addressed the sandbox by the
// real Microsoft host names (the Host header the sandbox saw).
func checkRealHosts(t *testing.T, recs []sandbox.RequestRecord) {
	t.Helper()
	if len(recs) == 0 {
		t.Error("the client sent no request to the sandbox")
	}
	for _, r := range recs {
		if !slices.Contains(netnstest.RealHosts, r.Host) {
			t.Errorf("request to %s%s: not a real Microsoft host name", r.Host, r.Path)
		}
	}
}

// TestNetnsMSALPython runs msal_python.py with the default authority host
// and Graph host names.
func TestNetnsMSALPython(t *testing.T) {
	requireNetns(t)
	requirePythonMSAL(t)
	s := startOn443(t)
	clientID, secret, err := s.CreatePrincipal(context.Background(), "msal-python real hosts", []string{"Application.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := newCertPrincipal(t, s, "msal-python real hosts cert", []string{"Application.Read.All"})
	before := len(s.Requests())
	graph := "https://graph.microsoft.com"
	ca := filepath.Join(s.StateDir(), "ca.pem")
	env := append(clientEnv(s, "https://login.microsoftonline.com", "", graph, clientID, secret, cp),
		"CA_FILE="+ca, "REQUESTS_CA_BUNDLE="+ca, "INSTANCE_DISCOVERY=1", "LOOPBACK_ONLY=1")
	res, log := runJSON(t, 2*time.Minute, env, debianPython, "msal_python.py")
	t.Logf("msal-python: %v", res)
	checkMSALPythonResult(t, s, res, log, graph)
	recs := requestsSince(s, before)
	checkRealHosts(t, recs)
	t.Logf("requests:%s", formatRequests(recs))
}

// nationalClouds are the US Government and China sign-in and Graph hosts
// (clouds.md): MSAL with each cloud's default authority, reached by name.
var nationalClouds = []struct{ name, authority, graph, issuer string }{
	{"US Government", "https://login.microsoftonline.us", "https://graph.microsoft.us", "https://login.microsoftonline.us/"},
	{"China", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", "https://sts.chinacloudapi.cn/"},
}

// checkIssuer asserts the tokens of every successful flow came from the
// cloud's own token service.
func checkIssuer(t *testing.T, res map[string]any, issuerPrefix string) {
	t.Helper()
	for k, v := range res {
		r, _ := v.(map[string]any)
		if r == nil || r["ok"] != true {
			continue
		}
		c, _ := r["claims"].(map[string]any)
		if iss, _ := c["iss"].(string); !strings.HasPrefix(iss, issuerPrefix) {
			t.Errorf("%s: iss %q, want %s…", k, iss, issuerPrefix)
		}
	}
}

// TestNetnsMSALNodeNationalClouds runs msal-node.mjs against the US
// Government and China clouds' real host names: secret and certificate
// flows, each cloud's Graph audience and issuer.
func TestNetnsMSALNodeNationalClouds(t *testing.T) {
	requireNetns(t)
	requireNodeModule(t, "@azure/msal-node")
	s := startOn443(t)
	for _, c := range nationalClouds {
		t.Run(c.name, func(t *testing.T) {
			clientID, secret, err := s.CreatePrincipal(context.Background(), "msal-node "+c.name, []string{"Application.Read.All"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			cp := newCertPrincipal(t, s, "msal-node "+c.name+" cert", []string{"Application.Read.All"})
			before := len(s.Requests())
			res, log := runJSON(t, 2*time.Minute, clientEnv(s, c.authority, "", c.graph, clientID, secret, cp), "node", "msal-node.mjs")
			checkMSALNodeResult(t, s, res, log, c.graph)
			checkIssuer(t, res, c.issuer)
			recs := requestsSince(s, before)
			checkRealHosts(t, recs)
			t.Logf("requests:%s", formatRequests(recs))
		})
	}
}

// TestNetnsMSALPythonNationalClouds is the same with MSAL for Python.
func TestNetnsMSALPythonNationalClouds(t *testing.T) {
	requireNetns(t)
	requirePythonMSAL(t)
	s := startOn443(t)
	ca := filepath.Join(s.StateDir(), "ca.pem")
	for _, c := range nationalClouds {
		t.Run(c.name, func(t *testing.T) {
			clientID, secret, err := s.CreatePrincipal(context.Background(), "msal-python "+c.name, []string{"Application.Read.All"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			cp := newCertPrincipal(t, s, "msal-python "+c.name+" cert", []string{"Application.Read.All"})
			before := len(s.Requests())
			env := append(clientEnv(s, c.authority, "", c.graph, clientID, secret, cp),
				"CA_FILE="+ca, "REQUESTS_CA_BUNDLE="+ca, "INSTANCE_DISCOVERY=1", "LOOPBACK_ONLY=1")
			res, log := runJSON(t, 2*time.Minute, env, debianPython, "msal_python.py")
			checkMSALPythonResult(t, s, res, log, c.graph)
			checkIssuer(t, res, c.issuer)
			recs := requestsSince(s, before)
			checkRealHosts(t, recs)
			t.Logf("requests:%s", formatRequests(recs))
		})
	}
}
