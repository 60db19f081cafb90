package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// operator is an automation identity that may rotate and retire
// credentials and read the sign-in logs (AuditLog.Read.All with
// Directory.Read.All): for it, retire knows which credential an app last
// signed in with.
func (tn *tenant) operator() map[string]string {
	tn.t.Helper()
	var p struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	tn.adminPost("principals", map[string]any{"name": "operations", "graphAppRoles": []string{
		"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "Organization.Read.All",
		"AuditLog.Read.All", "Directory.Read.All"}}, &p)
	return map[string]string{"AZURE_CLIENT_ID": p.ClientID, "AZURE_CLIENT_SECRET": p.ClientSecret}
}

func (a *tenantApp) certKeys() []string {
	var out []string
	for _, k := range a.KeyCredentials {
		out = append(out, k.KeyID)
	}
	return out
}

// TestNetnsStagedRotation: the zero-downtime rotation as a runbook runs it
// with the real binary: rotate-secret, the product switches (a token with
// the new secret), retire; the old secret gets no token, the new one
// does. Before the switch, retire refuses (exit 2, nothing changed).
func TestNetnsStagedRotation(t *testing.T) {
	tn := startTenant(t)
	op := tn.operator()
	j := decodeJSON(t, tn.must(0, op, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json"))
	appID, oldSecret := str(j, "clientId"), str(j, "clientSecret")
	tn.proveSecret(appID, oldSecret) // the product signs in with it

	file := filepath.Join(tn.home, "entitle.json")
	tn.must(0, op, "rotate-secret", "--app-id", appID, "--no-input", "--output", "handover", "--output-file", file, "--auth", "env")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	newSecret := secretLike.FindString(string(data))
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 2 {
		t.Fatalf("secrets %v after rotate-secret, want the old and the new", keys)
	}

	n := len(tn.requests())
	r := tn.must(2, op, "retire", "--app-id", appID, "--yes", "--auth", "env")
	mustContain(t, "stderr", r.stderr, "last signed in with client secret", "so Entitle may still use it",
		"delivered by entra-link rotate-secret", "to --output-file "+file, "--force retires it anyway", "nothing was changed")
	if w := tn.writesSince(n); len(w) != 0 {
		t.Fatalf("the refused retire wrote %v", w)
	}

	tn.proveSecret(appID, newSecret) // the product switches
	r = tn.must(0, op, "retire", "--app-id", appID, "--dry-run", "--auth", "env")
	mustContain(t, "dry run", r.stdout, "remove", "keep", "the newest valid client secret", "dry run: nothing is changed")
	r = tn.must(0, op, "retire", "--app-id", appID, "--yes", "--auth", "env", "--output", "json")
	out := decodeJSON(t, r)
	if len(out["retired"].([]any)) != 1 || len(out["kept"].([]any)) != 1 {
		t.Errorf("retired %v kept %v", out["retired"], out["kept"])
	}
	if keys := tn.state().app(appID).secretKeys(); len(keys) != 1 {
		t.Errorf("secrets %v after retire, want only the new one", keys)
	}
	if err := tn.token(appID, oldSecret, globalLogin, globalScope); err == nil {
		t.Error("the retired secret still gets a token")
	}
	tn.proveSecret(appID, newSecret)
	tn.onlyHosts(n, "login.microsoftonline.com", "graph.microsoft.com")
}

// TestNetnsCertificateRotation: Hire2Retire's certificate rotated with the
// real binary: the new certificate (a key pair generated here) gets a
// token, the old one still does until retired, then no longer.
func TestNetnsCertificateRotation(t *testing.T) {
	tn := startTenant(t)
	op := tn.operator()
	j := decodeJSON(t, tn.must(0, op, "setup", "--profile", "hire2retire", "--certificate-out", filepath.Join(tn.home, "one"), "--auth", "env", "--yes", "--output", "json"))
	appID := str(j, "clientId")
	oldBundle := readFile(t, str(j, "certificateBundlePath"))
	if err := tn.certToken(appID, oldBundle, globalLogin, globalScope); err != nil {
		t.Fatalf("the first certificate does not work: %v", err)
	}

	r := tn.must(0, op, "rotate-certificate", "--app-id", appID, "--certificate-out", filepath.Join(tn.home, "two"), "--no-input", "--output", "env", "--auth", "env")
	vars := envLines(r.stdout)
	newBundle := readFile(t, vars["AZURE_CLIENT_CERTIFICATE_PATH"])
	if fi, err := os.Stat(filepath.Join(tn.home, "two", "hire2retire.key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v %v", fi, err)
	}
	if err := tn.certToken(appID, newBundle, globalLogin, globalScope); err != nil {
		t.Errorf("the new certificate gets no token: %v", err)
	}
	if err := tn.certToken(appID, oldBundle, globalLogin, globalScope); err != nil {
		t.Errorf("the old certificate stopped working before it was retired: %v", err)
	}
	if keys := tn.state().app(appID).certKeys(); len(keys) != 2 {
		t.Fatalf("certificates %v, want two", keys)
	}

	if err := tn.certToken(appID, newBundle, globalLogin, globalScope); err != nil { // Hire2Retire switches
		t.Fatal(err)
	}
	tn.must(0, op, "retire", "--app-id", appID, "--yes", "--auth", "env")
	if keys := tn.state().app(appID).certKeys(); len(keys) != 1 {
		t.Errorf("certificates %v after retire, want one", keys)
	}
	if err := tn.certToken(appID, oldBundle, globalLogin, globalScope); err == nil {
		t.Error("the retired certificate still gets a token")
	}
	if err := tn.certToken(appID, newBundle, globalLogin, globalScope); err != nil {
		t.Errorf("the new certificate stopped working: %v", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data
}

// TestNetnsSignalAfterCertificateAdded: SIGTERM while the tenant has
// taken the new certificate (its answer held): the key pair was written
// first, the result says where, exit 130, and the certificate works.
func TestNetnsSignalAfterCertificateAdded(t *testing.T) {
	tn := startTenant(t)
	j := decodeJSON(t, tn.must(0, nil, "setup", "--profile", "hire2retire", "--certificate-out", filepath.Join(tn.home, "one"), "--auth", "env", "--yes", "--output", "json"))
	appID := str(j, "clientId")
	old := tn.state().app(appID).certKeys()
	tn.inject(rule{Method: "PATCH", Path: `^/applications/[0-9a-f-]+$`, Action: "hang"})
	file := filepath.Join(tn.home, "h2r.json")
	p := tn.start(nil, "rotate-certificate", "--app-id", appID, "--certificate-out", filepath.Join(tn.home, "two"), "--auth", "env",
		"--output", "json", "--output-file", file)
	if h := tn.waitHeld(); h[0].Method != "PATCH" || h[0].Status != 204 {
		t.Fatalf("held %+v", h)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitStderr("Stopping (", 30*time.Second)
	tn.release()
	r := p.wait(2 * time.Minute)
	if r.code != 130 {
		t.Fatalf("exit %d, want 130: %s", r.code, r)
	}
	data := readFile(t, file)
	res := decodeJSON(t, result{stdout: string(data)})
	if !strings.Contains(str(res, "error"), "interrupted") || str(res, "certificateThumbprint") == "" {
		t.Errorf("result %s", data)
	}
	if err := tn.certToken(appID, readFile(t, str(res, "certificateBundlePath")), globalLogin, globalScope); err != nil {
		t.Errorf("the delivered key pair does not work: %v", err)
	}
	if keys := tn.state().app(appID).certKeys(); len(keys) != 2 || !slices.Contains(keys, old[0]) {
		t.Errorf("certificates %v, want the old and the new", keys)
	}
}
