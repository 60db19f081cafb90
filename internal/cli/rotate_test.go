package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// secretKeys lists the app's password credential key ids.
func (s sbState) secretKeys(t *testing.T, appID string) []string {
	t.Helper()
	var out []string
	for _, pc := range s.Applications[s.app(t, appID)].PasswordCredentials {
		out = append(out, pc.KeyID)
	}
	slices.Sort(out)
	return out
}

// TestRotateKeepsOldSecrets: the new secret is delivered like setup's,
// in every format, and the old one keeps working next to it.
func TestRotateKeepsOldSecrets(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID, oldSecret, oldKey := str(res, "clientId"), str(res, "clientSecret"), str(res, "clientSecretKeyId")

	r := tt.day2(0, "rotate-secret", "--app-id", appID, "--yes", "--output", "json")
	j := decode(t, r.stdout)
	newSecret, newKey := str(j, "clientSecret"), str(j, "clientSecretKeyId")
	if newSecret == "" || newSecret == oldSecret || newKey == oldKey || str(j, "clientSecretExpiresAt") == "" {
		t.Fatalf("rotate result %v", j)
	}
	if str(j, "clientId") != appID || str(j, "tenantId") != tt.sb.Tenant().TenantID || str(j, "profile") != "entitle" || str(j, "servicePrincipalId") != str(res, "servicePrincipalId") {
		t.Errorf("ids %v", j)
	}
	if _, ok := j["certificateThumbprint"]; ok {
		t.Error("certificate fields do not apply to rotate-secret")
	}
	ho := j["handover"].(map[string]any)
	if ho["client_id"] != appID || ho["secret"] != newSecret || ho["tenant"] != tt.sb.Tenant().TenantID {
		t.Errorf("Entitle's Connection JSON %v", ho)
	}
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, sorted(oldKey, newKey)) {
		t.Errorf("secrets %v, want old and new", got)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if _, err := tt.token(appID, s, graphLogin, "https://graph.microsoft.com/.default"); err != nil {
			t.Errorf("a secret stopped working: %v", err)
		}
	}
	if strings.Contains(r.stderr, newSecret) {
		t.Error("the secret leaked to stderr")
	}

	// The other formats, as setup prints them.
	r = tt.day2(0, "rotate-secret", "--name", "Entitle", "--yes", "--output", "handover")
	conn := decode(t, r.stdout)
	if len(conn) != 3 || str(conn, "secret") == "" || !strings.HasPrefix(r.stdout, "{\n  \"client_id\": ") {
		t.Errorf("handover %s", r.stdout)
	}
	r = tt.day2(0, "rotate-secret", "--name", "Entitle", "--yes", "--output", "env")
	mustContain(t, "env", r.stdout, "AZURE_TENANT_ID="+tt.sb.Tenant().TenantID, "AZURE_CLIENT_ID="+appID, "AZURE_CLIENT_SECRET=")
	r = tt.day2(0, "rotate-secret", "--name", "Entitle", "--yes")
	mustContain(t, "text", r.stdout, "shown only this once", "other secret(s) were kept and still work", "client_id")
	out := filepath.Join(t.TempDir(), "entitle.json")
	r = tt.day2(0, "rotate-secret", "--name", "Entitle", "--yes", "--output", "json", "--output-file", out)
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 || r.stdout != "" {
		t.Fatalf("output file %v %v; stdout %q", fi, err, r.stdout)
	}
	data, _ := os.ReadFile(out)
	if str(decode(t, string(data)), "clientSecret") == "" {
		t.Errorf("file lacks the secret: %s", data)
	}
	if n := len(tt.state().secretKeys(t, appID)); n != 6 {
		t.Errorf("%d secrets after 5 rotations of one, want 6 (all kept)", n)
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// TestRotateRemoveOld: the old secrets go only once the new one obtained a
// token, waiting while Entra replicates it; certificates stay.
func TestRotateRemoveOld(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "relution", "--server-url", "https://relution.contoso.com")
	appID, oldSecret := str(res, "clientId"), str(res, "clientSecret")
	tt.day2(0, "rotate-secret", "--app-id", appID, "--yes") // a second old secret

	// New secrets reach the token service only after a delay, as in Entra.
	tt.sb.SetFaults(sandbox.Faults{ReplicationDelay: 800 * time.Millisecond})
	r := tt.day2(0, "rotate-secret", "--app-id", appID, "--yes", "--remove-old", "--output", "json")
	tt.sb.SetFaults(sandbox.Faults{})
	j := decode(t, r.stdout)
	newSecret, newKey := str(j, "clientSecret"), str(j, "clientSecretKeyId")
	mustContain(t, "stderr", r.stderr, "Entra does not accept the new secret yet (AADSTS", "still replicating", "✓ check the new client secret works")
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{newKey}) {
		t.Errorf("secrets %v, want only the new %s", got, newKey)
	}
	if _, err := tt.token(appID, newSecret, graphLogin, "https://graph.microsoft.com/.default"); err != nil {
		t.Errorf("the new secret does not work: %v", err)
	}
	if _, err := tt.token(appID, oldSecret, graphLogin, "https://graph.microsoft.com/.default"); err == nil {
		t.Error("the old secret still works")
	}
	removed := 0
	for _, s := range j["steps"].([]any) {
		s := s.(map[string]any)
		if s["action"] == "remove" && s["kind"] == "client-secret" && s["status"] == "done" {
			removed++
		}
	}
	if removed != 2 {
		t.Errorf("steps %v", j["steps"])
	}

	// Certificates are never touched.
	h2r, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	r = tt.day2(2, "rotate-secret", "--app-id", str(h2r, "clientId"), "--yes")
	mustContain(t, "stderr", r.stderr, "authenticates with a certificate")
}

// TestRotateUnprovenSecret: when the new secret cannot get a token, it is
// still delivered, the old secrets stay, and the command says so (exit 1).
func TestRotateUnprovenSecret(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID, oldKey := str(res, "clientId"), str(res, "clientSecretKeyId")
	tt.sb.Inject(sandbox.Rule{ClientID: appID, Status: http.StatusUnauthorized, Times: 20})
	tt.env["ENTRA_LINK_PROOF_TIMEOUT"] = "1500ms"
	out := filepath.Join(t.TempDir(), "conn.json")
	r := tt.day2(1, "rotate-secret", "--app-id", appID, "--yes", "--remove-old", "--output", "handover", "--output-file", out)
	mustContain(t, "stderr", r.stderr, "could not prove that it works", "Entra still rejected the new secret (AADSTS7000215)",
		"1 old secret(s) were kept: nothing was removed")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	conn := decode(t, string(data))
	if str(conn, "secret") == "" || str(conn, "client_id") != appID {
		t.Fatalf("the new secret was not delivered: %s", data)
	}
	keys := tt.state().secretKeys(t, appID)
	if len(keys) != 2 || !slices.Contains(keys, oldKey) {
		t.Errorf("secrets %v: the old one must be kept next to the new one", keys)
	}
}

// TestRotateBadInput: each mistake is exit 2, says what is wrong, and
// changes nothing.
func TestRotateBadInput(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	tt.setup(0, "--profile", "roger365", "--name", "Entitle")
	bare, _ := tt.setup(0, "--profile", "roger365", "--name", "No secrets")
	if code := tt.admin(http.MethodPost, "/applications/"+str(bare, "applicationObjectId")+"/removePassword", map[string]string{"keyId": str(bare, "clientSecretKeyId")}); code != http.StatusNoContent {
		t.Fatalf("removePassword: %d", code)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown app", []string{"--app-id", "00000000-1111-2222-3333-444444444444", "--yes"}, []string{"no application with this application (client) ID"}},
		{"unknown name", []string{"--name", "Relution", "--yes"}, []string{`--name "Relution": no app with this name was made by entra-link`}},
		{"ambiguous name", []string{"--name", "entitle", "--yes"}, []string{"matches 2 apps made by entra-link", str(res, "clientId"), "say which one with --app-id"}},
		{"remove-old without other secrets", []string{"--name", "No secrets", "--yes", "--remove-old"}, []string{"--remove-old", "has no other client secret to retire", "nothing was changed"}},
		{"longer than the profile allows", []string{"--app-id", str(res, "clientId"), "--yes", "--secret-expiry", "25m"}, []string{"invalid value for --secret-expiry", "2 years"}},
		// Reported before anything else, also without --yes (design.md §2).
		{"unknown app, runbook style", []string{"--app-id", "00000000-1111-2222-3333-444444444444", "--no-input"}, []string{"no application with this application (client) ID"}},
		{"ambiguous name, runbook style", []string{"--name", "entitle", "--no-input"}, []string{"matches 2 apps made by entra-link"}},
		{"bad proof timeout", []string{"--app-id", str(res, "clientId"), "--yes"}, []string{"ENTRA_LINK_PROOF_TIMEOUT"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "bad proof timeout" {
				tt.env["ENTRA_LINK_PROOF_TIMEOUT"] = "soon"
				defer delete(tt.env, "ENTRA_LINK_PROOF_TIMEOUT")
			}
			before := len(tt.sb.Requests())
			r := tt.day2(2, append([]string{"rotate-secret"}, tc.args...)...)
			mustContain(t, "stderr", r.stderr, tc.want...)
			if w := tt.writes(before); len(w) != 0 {
				t.Errorf("changed the tenant: %v", w)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

// TestRotateNeedsNoConfirmation: adding a secret is additive (design.md
// §2). A runbook's `rotate-secret --app-id X --no-input` works without
// --yes; on a terminal it says what it does and does it, unasked; --yes is
// accepted and changes nothing.
func TestRotateNeedsNoConfirmation(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID := str(res, "clientId")
	r := tt.day2(0, "rotate-secret", "--app-id", appID, "--no-input", "-o", "json")
	if j := decode(t, r.stdout); str(j, "clientSecret") == "" || strings.Contains(r.stderr, "--yes") {
		t.Errorf("no secret, or --yes asked for:\n%s\n%s", r.stdout, r.stderr)
	}
	r = tt.runTTY("", "rotate-secret", "--auth", "env", "--cloud", "global", "--app-id", appID, "--remove-old", "--secret-expiry", "90d", "-o", "json")
	mustContain(t, "stderr", r.stderr, "Add a new client secret to", "valid 90 days", "2 other secret(s) will be removed once the new secret has been proven")
	if strings.Contains(r.stderr, "[Y/n]") {
		t.Errorf("asked for confirmation:\n%s", r.stderr)
	}
	j := decode(t, r.stdout)
	exp, err := time.Parse(time.RFC3339, str(j, "clientSecretExpiresAt"))
	if left := time.Until(exp); r.code != 0 || err != nil || left < 89*24*time.Hour || left > 91*24*time.Hour {
		t.Errorf("exit %d, expiry %v (%v)\n%s", r.code, exp, err, r.stderr)
	}
	if keys := tt.state().secretKeys(t, appID); len(keys) != 1 || keys[0] != str(j, "clientSecretKeyId") {
		t.Errorf("secrets %v, want only the new, proven one", keys)
	}
	tt.day2(0, "rotate-secret", "--app-id", appID, "--no-input", "--yes") // a harmless no-op
}

// TestRotateInterrupted: Ctrl-C while the secret is being created does not
// lose it: it is delivered, nothing is removed, exit 130.
func TestRotateInterrupted(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID, oldKey := str(res, "clientId"), str(res, "clientSecretKeyId")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/addPassword") {
				cancel() // the user presses Ctrl-C while Graph creates the secret
			}
			return next.RoundTrip(r)
		})
	}
	out := filepath.Join(t.TempDir(), "roger.env")
	r := tt.runCtx(ctx, "rotate-secret", "--auth", "env", "--app-id", appID, "--yes", "--remove-old", "--verbose", "--output", "env", "--output-file", out)
	tt.wrap = nil
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "interrupted before the new secret was proven", "the old secrets were kept")
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), "AZURE_CLIENT_SECRET=") {
		t.Fatalf("secret not delivered: %v %q", err, data)
	}
	var secret string
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "AZURE_CLIENT_SECRET="); ok {
			secret = strings.Trim(v, "'")
		}
	}
	if strings.Contains(r.stderr, secret) {
		t.Error("--verbose printed the secret")
	}
	if _, err := tt.token(appID, secret, graphLogin, "https://graph.microsoft.com/.default"); err != nil {
		t.Errorf("the delivered secret does not work: %v", err)
	}
	if keys := tt.state().secretKeys(t, appID); len(keys) != 2 || !slices.Contains(keys, oldKey) {
		t.Errorf("secrets %v, want the old one kept", keys)
	}
}
