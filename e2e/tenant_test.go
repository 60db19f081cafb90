package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// requireNetns skips a TestNetns* test outside the namespace.
func requireNetns(t *testing.T) {
	t.Helper()
	if !inNetns() {
		t.Skip("runs inside the private network namespace started by TestProductionPath")
	}
}

// tenantInfo is DIR/tenant.json.
type tenantInfo struct {
	TenantID      string `json:"tenantId"`
	TenantDomain  string `json:"tenantDomain"`
	AuthorityHost string `json:"authorityHost"`
	GraphEndpoint string `json:"graphEndpoint"`
	ClientID      string `json:"clientId"`
	ClientSecret  string `json:"clientSecret"`
	// Tenants are the further tenants (sandbox --add-tenant).
	Tenants []struct {
		TenantID     string `json:"tenantId"`
		TenantDomain string `json:"tenantDomain"`
		DisplayName  string `json:"displayName"`
	} `json:"tenants"`
}

// tenant is `entra-link sandbox --listen 127.0.0.1:443 --state-dir DIR`,
// running as its own process, and what a runbook knows about it.
type tenant struct {
	t      *testing.T
	dir    string
	info   tenantInfo
	ca     *x509.CertPool
	caFile string
	admin  *http.Client // trusts only the sandbox CA; real host names resolve to it here
	cli    string       // the entra-link under test
	hooks  string       // ... built with -tags testhooks
	home   string
}

// startTenant starts a sandbox process with a fresh tenant for this test;
// flags are added to its command line (faults: --fail-every 7 …; further
// tenants: --add-tenant NAME).
func startTenant(t *testing.T, flags ...string) *tenant {
	t.Helper()
	requireNetns(t)
	cli, hooks, sbBin := binaries(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, sbBin, append([]string{"sandbox", "--listen", "127.0.0.1:443", "--state-dir", dir}, flags...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start the sandbox: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		if err := <-exited; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("the sandbox ended with %v:\n%s", err, log.String())
		}
	})
	// Ready when it has written tenant.json (after ca.pem) and answers.
	tn := &tenant{t: t, dir: dir, caFile: filepath.Join(dir, "ca.pem"), cli: cli, hooks: hooks, home: t.TempDir()}
	deadline := time.Now().Add(60 * time.Second)
	for ready := false; !ready; {
		select {
		case err := <-exited:
			t.Fatalf("the sandbox exited: %v\n%s", err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sandbox did not come up within a minute:\n%s", log.String())
		}
		b, err := os.ReadFile(filepath.Join(dir, "tenant.json"))
		if err != nil || json.Unmarshal(b, &tn.info) != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if tn.admin == nil {
			pem, err := os.ReadFile(tn.caFile)
			if err != nil {
				t.Fatal(err)
			}
			tn.ca = x509.NewCertPool()
			if !tn.ca.AppendCertsFromPEM(pem) {
				t.Fatal("ca.pem holds no certificate")
			}
			tn.admin = &http.Client{Timeout: 90 * time.Second, Transport: &http.Transport{
				Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: tn.ca, MinVersion: tls.VersionTLS12}}}
		}
		if resp, err := tn.admin.Get("https://127.0.0.1:443/_sandbox/faults"); err == nil {
			_ = resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
		}
		if !ready {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return tn
}

// env is what a runbook sets: the bootstrap admin's credentials for
// --auth env and the sandbox CA as SSL_CERT_FILE. extra adds or (with "")
// removes variables.
func (tn *tenant) env(extra map[string]string) []string {
	vars := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": tn.home, "LANG": "C.UTF-8",
		"AZURE_TENANT_ID": tn.info.TenantID, "AZURE_CLIENT_ID": tn.info.ClientID, "AZURE_CLIENT_SECRET": tn.info.ClientSecret,
		"SSL_CERT_FILE": tn.caFile,
	}
	for k, v := range extra {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// result is one run of the binary.
type result struct {
	args           []string
	stdout, stderr string
	code           int
	took           time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("entra-link %s: exit %d after %s\nstderr:\n%s\nstdout:\n%s", strings.Join(r.args, " "), r.code, r.took.Round(time.Millisecond),
		redact(r.stderr), redact(r.stdout))
}

// secretLike matches the values the sandbox issues as client secrets, so
// that a failure message never shows one.
var secretLike = regexp.MustCompile(`[A-Za-z0-9_\-.~]{3}8Q~[A-Za-z0-9_\-.~]{34}`)

func redact(s string) string { return secretLike.ReplaceAllString(s, "<secret>") }

// run runs the entra-link under test to its end (at most two minutes: a
// run that takes longer has hung, and fails the test).
func (tn *tenant) run(extra map[string]string, args ...string) result {
	tn.t.Helper()
	return tn.runBin(tn.cli, extra, args...)
}

func (tn *tenant) runBin(bin string, extra map[string]string, args ...string) result {
	tn.t.Helper()
	p := tn.startBin(bin, extra, args...)
	return p.wait(2 * time.Minute)
}

// proc is a running entra-link.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	args           []string
	stdout, stderr syncBuffer
	start          time.Time
	done           chan struct{}
	err            error
}

func (tn *tenant) start(extra map[string]string, args ...string) *proc {
	tn.t.Helper()
	return tn.startBin(tn.cli, extra, args...)
}

func (tn *tenant) startBin(bin string, extra map[string]string, args ...string) *proc {
	tn.t.Helper()
	p := &proc{t: tn.t, args: args, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = tn.env(extra)
	p.cmd.Dir = tn.home
	p.cmd.Stdin = nil // not a terminal: --no-input is implied
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		tn.t.Fatalf("start entra-link: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tn.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit; past timeout it is killed and the
// test fails: it hung.
func (p *proc) wait(timeout time.Duration) result {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("entra-link %s hung: killed after %s\nstderr:\n%s", strings.Join(p.args, " "), timeout, redact(p.stderr.String()))
	}
	r := result{args: p.args, stdout: p.stdout.String(), stderr: p.stderr.String(), took: time.Since(p.start), code: p.cmd.ProcessState.ExitCode()}
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.code = 128 + int(ws.Signal())
	}
	return r
}

// waitStderr waits until stderr shows want (the process acknowledged
// something, e.g. a signal).
func (p *proc) waitStderr(want string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.stderr.String(), want) {
		select {
		case <-p.done:
			p.t.Fatalf("entra-link exited before its stderr showed %q:\n%s", want, redact(p.stderr.String()))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("stderr did not show %q within %s:\n%s", want, timeout, redact(p.stderr.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// must runs and checks the exit status.
func (tn *tenant) must(code int, extra map[string]string, args ...string) result {
	tn.t.Helper()
	r := tn.run(extra, args...)
	if r.code != code {
		tn.t.Fatalf("exit %d, want %d: %s", r.code, code, r)
	}
	return r
}

// --- the sandbox's inspection API ---

func (tn *tenant) call(method, path string, body any, out any) int {
	tn.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, "https://127.0.0.1:443"+path, rd)
	if err != nil {
		tn.t.Fatal(err)
	}
	resp, err := tn.admin.Do(req)
	if err != nil {
		tn.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tn.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// rule is the sandbox's fault rule (internal/sandbox.Rule), as JSON.
type rule struct {
	Method   string          `json:"method,omitempty"`
	Path     string          `json:"path,omitempty"`
	ClientID string          `json:"clientId,omitempty"`
	Action   string          `json:"action,omitempty"`
	Skip     int             `json:"skip,omitempty"`
	Times    int             `json:"times,omitempty"`
	Status   int             `json:"status,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
}

func (tn *tenant) inject(r rule) {
	tn.t.Helper()
	if code := tn.call("POST", "/_sandbox/inject", r, nil); code != http.StatusOK {
		tn.t.Fatalf("inject %+v: %d", r, code)
	}
}

type held struct {
	ID     int64  `json:"id"`
	Method string `json:"method"`
	Host   string `json:"host"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// waitHeld waits until the sandbox holds a response (after committing its
// request) and returns what it holds.
func (tn *tenant) waitHeld() []held {
	tn.t.Helper()
	var out struct {
		Held []held `json:"held"`
	}
	if code := tn.call("GET", "/_sandbox/held?wait=60s", nil, &out); code != http.StatusOK || len(out.Held) == 0 {
		tn.t.Fatalf("no response was held within a minute (%d)", code)
	}
	return out.Held
}

func (tn *tenant) release() {
	tn.t.Helper()
	if code := tn.call("POST", "/_sandbox/release", nil, nil); code != http.StatusOK {
		tn.t.Fatalf("release: %d", code)
	}
}

type record struct {
	Method string `json:"method"`
	Host   string `json:"host"`
	Path   string `json:"path"`
	Status int    `json:"status"`
	Kind   string `json:"kind"`
	Fault  string `json:"fault"`
}

func (tn *tenant) requests() []record {
	tn.t.Helper()
	var out struct {
		Requests []record `json:"requests"`
	}
	tn.call("GET", "/_sandbox/requests", nil, &out)
	return out.Requests
}

// hostsSince lists the distinct Host headers of the requests after the
// first n.
func (tn *tenant) hostsSince(n int) []string {
	var out []string
	for _, r := range tn.requests()[n:] {
		if !slices.Contains(out, r.Host) {
			out = append(out, r.Host)
		}
	}
	slices.Sort(out)
	return out
}

// writesSince lists the state-changing Graph requests after the first n.
func (tn *tenant) writesSince(n int) []string {
	var out []string
	for _, r := range tn.requests()[n:] {
		if strings.HasSuffix(r.Path, "/$batch") {
			continue // its items are recorded one by one
		}
		if (r.Kind == "graph" || r.Kind == "batch-item") && r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

type tenantApp struct {
	ID                  string   `json:"id"`
	AppID               string   `json:"appId"`
	DisplayName         string   `json:"displayName"`
	Tags                []string `json:"tags"`
	PasswordCredentials []struct {
		KeyID string `json:"keyId"`
	} `json:"passwordCredentials"`
	KeyCredentials []struct {
		KeyID string `json:"keyId"`
	} `json:"keyCredentials"`
}

type tenantState struct {
	Applications      []tenantApp `json:"applications"`
	ServicePrincipals []struct {
		ID    string `json:"id"`
		AppID string `json:"appId"`
	} `json:"servicePrincipals"`
	AppRoleAssignments []struct {
		PrincipalID string `json:"principalId"`
		AppRole     string `json:"appRole"`
	} `json:"appRoleAssignments"`
	Grants []struct {
		ClientID   string `json:"clientId"`
		ResourceID string `json:"resourceId"`
		Scope      string `json:"scope"`
	} `json:"oauth2PermissionGrants"`
	RoleAssignments []struct {
		PrincipalID string `json:"principalId"`
		RoleName    string `json:"roleName"`
	} `json:"roleAssignments"`
}

func (tn *tenant) state() tenantState {
	tn.t.Helper()
	var s tenantState
	tn.call("GET", "/_sandbox/state", nil, &s)
	return s
}

// app returns the application with this client id (nil: none).
func (s tenantState) app(appID string) *tenantApp {
	for i := range s.Applications {
		if s.Applications[i].AppID == appID {
			return &s.Applications[i]
		}
	}
	return nil
}

func (a *tenantApp) secretKeys() []string {
	var out []string
	for _, p := range a.PasswordCredentials {
		out = append(out, p.KeyID)
	}
	return out
}

// --- proving credentials the way a product would use them ---

// realClient trusts only the sandbox CA and reaches it by the real host
// names (this namespace's /etc/hosts).
func (tn *tenant) realClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil,
		TLSClientConfig: &tls.Config{RootCAs: tn.ca, MinVersion: tls.VersionTLS12}}}
}

// token gets an app-only Graph token with a client secret from the given
// authority (https://login.microsoftonline.com, …) for scope.
func (tn *tenant) token(clientID, secret, authority, scope string) error {
	tn.t.Helper()
	return tn.tokenIn(tn.info.TenantID, clientID, secret, authority, scope)
}

// tokenIn is token in one tenant of the sandbox.
func (tn *tenant) tokenIn(tenantID, clientID, secret, authority, scope string) error {
	tn.t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: tn.realClient(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority + "/"}},
	})
	if err != nil {
		return err
	}
	return getToken(cred, scope)
}

// certToken does the same with a certificate and key (PEM bundle).
func (tn *tenant) certToken(clientID string, bundle []byte, authority, scope string) error {
	tn.t.Helper()
	certs, key, err := azidentity.ParseCertificates(bundle, nil)
	if err != nil {
		return err
	}
	cred, err := azidentity.NewClientCertificateCredential(tn.info.TenantID, clientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: tn.realClient(), Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authority + "/"}},
	})
	if err != nil {
		return err
	}
	return getToken(cred, scope)
}

func getToken(cred azcore.TokenCredential, scope string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
	return err
}

const (
	globalLogin = "https://login.microsoftonline.com"
	globalScope = "https://graph.microsoft.com/.default"
)

// --- output parsing ---

func decodeJSON(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
		t.Fatalf("stdout is not one JSON object (%v): %s", err, r)
	}
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// envLines parses KEY=VALUE lines (values possibly single-quoted).
func envLines(s string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && k != "" && !strings.HasPrefix(k, "#") {
			out[k] = strings.Trim(v, "'\"")
		}
	}
	return out
}

// mustContain checks that s says each of parts. Text is wrapped to the
// terminal (80 columns when it is not one), so line breaks and indentation
// count as one space.
func mustContain(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(s), " ")
	for _, p := range parts {
		if !strings.Contains(flat, strings.Join(strings.Fields(p), " ")) {
			t.Errorf("%s does not contain %q:\n%s", what, p, redact(s))
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and readers at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
