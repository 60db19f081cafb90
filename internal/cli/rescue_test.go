package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// panicOn makes the tenant's transport panic on the first request for
// which match is true: a bug in the middle of a run.
func (tt *tenant) panicOn(match func(*http.Request) bool) {
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if match(r) {
				panic("injected bug")
			}
			return next.RoundTrip(r)
		})
	}
}

// A panic in one of apply's concurrent steps after the secret exists: the
// secret is delivered (stdout), the output says the run was cut short, the
// exit status is 1, never Go's 2, and no stack trace reaches the user.
func TestSetupPanicAfterSecretDeliversIt(t *testing.T) {
	tt := newTenant(t)
	tt.panicOn(func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/appRoleAssignedTo")
	})
	r := tt.run("setup", "--auth", "env", "--profile", "entitle", "--yes", "-o", "json")
	tt.wrap = nil
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	j := decode(t, r.stdout)
	if str(j, "clientSecret") == "" || !strings.Contains(str(j, "error"), "internal error") {
		t.Fatalf("stdout has no secret or no word of the failure:\n%s", r.stdout)
	}
	mustContain(t, "stderr", r.stderr, "internal error (a bug in entra-link): injected bug", "please report it")
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, str(j, "clientSecret")) {
		t.Errorf("stderr shows a stack trace or the secret:\n%s", r.stderr)
	}
	if _, err := tt.token(str(j, "clientId"), str(j, "clientSecret"), graphLogin, "https://graph.microsoft.com/.default"); err != nil {
		t.Errorf("the delivered secret does not work: %v", err)
	}
}

// A panic while rotate-secret proves the new secret: the secret is in the
// --output-file, nothing is removed, exit 1.
func TestRotatePanicWhileProvingDeliversSecret(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID := str(res, "clientId")
	tt.panicOn(func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") && formClientID(r) == appID
	})
	out := filepath.Join(t.TempDir(), "roger.env")
	r := tt.run("rotate-secret", "--auth", "env", "--app-id", appID, "--remove-old", "-o", "env", "--output-file", out)
	tt.wrap = nil
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "internal error (a bug in entra-link): injected bug")
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), "AZURE_CLIENT_SECRET=") {
		t.Fatalf("secret not delivered: %v %q", err, data)
	}
	if keys := tt.state().secretKeys(t, appID); len(keys) != 2 {
		t.Errorf("secrets %v: the old one must be kept (the new one was never proven)", keys)
	}
}

// A panic before anything was changed: exit 1 with one line, no secret.
func TestPanicBeforeChangesIsInternalError(t *testing.T) {
	tt := newTenant(t)
	tt.panicOn(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/organization") })
	before := len(tt.sb.Requests())
	r := tt.run("setup", "--auth", "env", "--profile", "entitle", "--yes", "-o", "json")
	tt.wrap = nil
	if r.code != 1 || r.stdout != "" || len(tt.writes(before)) != 0 {
		t.Fatalf("exit %d, stdout %q, writes %v", r.code, r.stdout, tt.writes(before))
	}
	// One message (wrapped to the terminal), the last thing said.
	if msg := flowed(r.stderr[strings.LastIndex(r.stderr, "entra-link: "):]); !strings.HasPrefix(msg, "entra-link: internal error (a bug in entra-link): injected bug in ") || strings.Count(msg, "entra-link: ") != 1 {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// formClientID reads client_id from a token request, leaving its body
// intact.
func formClientID(r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	b, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return ""
	}
	v, _ := url.ParseQuery(string(b))
	return v.Get("client_id")
}
