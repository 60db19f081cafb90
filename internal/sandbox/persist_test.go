package sandbox_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/entra-link/entra-link/internal/sandbox"
)

func TestPersistenceAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	s1, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	info1 := s1.Tenant()
	ca1 := s1.CACertPEM()
	admin := adminClient(t, s1)
	app, sp := newAppAndSP(t, admin, "survivor")
	secret := admin.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).must(t, 200)["secretText"].(string)
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	assignment := admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo",
		map[string]any{"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).must(t, 201)
	role := admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": sp["id"], "directoryScopeId": "/"}).must(t, 201)
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	// Files and their modes: only ca.pem and server.pem are world-readable.
	modes := map[string]os.FileMode{"ca.pem": 0o644, "ca-key.pem": 0o600, "server.pem": 0o644, "server-key.pem": 0o600,
		"signing-key.pem": 0o600, "tenant.json": 0o600, "state.json": 0o600, "lock": 0o600}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		want, known := modes[e.Name()]
		fi, _ := e.Info()
		if !known {
			t.Errorf("unexpected file %s in the state directory", e.Name())
			continue
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", e.Name(), fi.Mode().Perm(), want)
		}
	}
	state, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if bytes.Contains(state, []byte(secret)) || bytes.Contains(state, []byte(info1.ClientSecret)) {
		t.Errorf("state.json stores a secret in clear")
	}
	var tj map[string]string
	raw, _ := os.ReadFile(filepath.Join(dir, "tenant.json"))
	if err := json.Unmarshal(raw, &tj); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tenantId", "tenantDomain", "authorityHost", "graphEndpoint", "clientId", "clientSecret"} {
		if tj[k] == "" {
			t.Errorf("tenant.json lacks %s", k)
		}
	}
	if tj["clientSecret"] != info1.ClientSecret || tj["tenantId"] != info1.TenantID {
		t.Errorf("tenant.json does not match Tenant(): %v", tj)
	}

	s2, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	info2 := s2.Tenant()
	if info2.TenantID != info1.TenantID || info2.ClientID != info1.ClientID || info2.ClientSecret != info1.ClientSecret || info2.TenantDomain != info1.TenantDomain {
		t.Errorf("tenant changed across restart: %+v vs %+v", info1, info2)
	}
	if !bytes.Equal(s2.CACertPEM(), ca1) {
		t.Errorf("CA changed across restart")
	}
	admin2 := adminClient(t, s2)
	got := admin2.do("GET", "/applications/"+app["id"].(string), nil).must(t, 200)
	validateEntity(t, "application", got)
	if got["displayName"] != "survivor" {
		t.Errorf("application after restart: %v", got)
	}
	// The secret added before the restart still works (only its hash was kept).
	c := appClient(t, s2, app["appId"].(string), secret)
	if cl := claimsOf(t, c.token); !has(strs(cl["roles"]), "User.Read.All") || !has(strs(cl["wids"]), userAdminTemplate) {
		t.Errorf("roles after restart: %v", cl)
	}
	admin2.do("GET", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo/"+assignment["id"].(string), nil).must(t, 200)
	admin2.do("GET", "/roleManagement/directory/roleAssignments/"+role["id"].(string), nil).must(t, 200)
	graph2 := admin2.do("GET", "/servicePrincipals(appId='"+graphAppID+"')", nil).must(t, 200)
	if len(graph2["appRoles"].([]any)) < 400 {
		t.Errorf("Microsoft Graph SP lost its app roles across restart")
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	// Reserve a free port, as `--listen 127.0.0.1:8443` would name one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, log syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- sandbox.Serve(ctx, sandbox.Options{StateDir: dir, Listen: addr, Log: &log, ThrottleEvery: 100}, &out)
	}()

	// Wait for tenant.json, then call the server as an external client would:
	// trusting ca.pem (SSL_CERT_FILE) and using the tenant.json credentials.
	var tj map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "tenant.json"))
		if err == nil && json.Unmarshal(raw, &tj) == nil && strings.Contains(out.String(), "Ctrl-C") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sandbox did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem is not PEM")
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.PostForm(tj["authorityHost"]+"/"+tj["tenantDomain"]+"/oauth2/v2.0/token", map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {tj["clientId"]}, "client_secret": {tj["clientSecret"]}, "scope": {tj["graphEndpoint"] + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("token from the served sandbox: %d", resp.StatusCode)
	}
	banner := out.String()
	for _, want := range []string{"https://" + addr, tj["tenantId"], tj["tenantDomain"], filepath.Join(dir, "ca.pem"), filepath.Join(dir, "tenant.json"), "throttle-every=100"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	// Laid out for 80 columns (stdout is not a terminal): no line wider,
	// unless it is one word, and every word whole (the checks above find
	// the ids, domains and paths unbroken).
	for _, l := range strings.Split(strings.TrimRight(banner, "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 80 && len(strings.Fields(l)) > 1 {
			t.Errorf("banner line of %d columns:\n%s", n, l)
		}
	}
	for _, want := range []string{"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "admin@" + tj["tenantDomain"]} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q whole:\n%s", want, banner)
		}
	}
	if strings.Contains(banner, tj["clientSecret"]) || strings.Contains(log.String(), tj["clientSecret"]) {
		t.Errorf("the bootstrap secret reached stdout or the log")
	}
	if !strings.Contains(log.String(), "POST https://"+addr+"/"+tj["tenantDomain"]+"/oauth2/v2.0/token 200") {
		t.Errorf("request log: %q", log.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if err := sandbox.Serve(context.Background(), sandbox.Options{}, &out); err == nil {
		t.Errorf("Serve without a state directory must fail")
	}
}
