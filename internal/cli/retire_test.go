package cli

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// logReader signs the tenant's commands in as an automation app that may
// do what rotate-secret, rotate-certificate and retire need and read the
// sign-in logs (AuditLog.Read.All with Directory.Read.All): the identity
// for which retire knows which credential an app last signed in with.
func logReader(t *testing.T, tt *tenant) {
	t.Helper()
	id, secret := sandboxtest.Principal(t, tt.sb, "", "operations", []string{
		"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
		"RoleManagement.ReadWrite.Directory", "Organization.Read.All", "AuditLog.Read.All", "Directory.Read.All",
	}, nil)
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
}

// product signs in as the app with secret, as the product does: a token,
// and a sign-in in the tenant's logs.
func (tt *tenant) product(t *testing.T, appID, secret string) error {
	t.Helper()
	_, err := tt.token(appID, secret, graphLogin, "https://graph.microsoft.com/.default")
	return err
}

// TestStagedRotation is the zero-downtime rotation: rotate-secret adds a
// secret and keeps the old one; retire refuses while the sign-in logs show
// the product still signs in with the old secret; once the product has
// switched (a token with the new secret), retire removes the old one, which
// then gets no token, while the new one does.
func TestStagedRotation(t *testing.T) {
	tt := newTenant(t)
	logReader(t, tt)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID, oldSecret, oldKey := str(res, "clientId"), str(res, "clientSecret"), str(res, "clientSecretKeyId")
	if err := tt.product(t, appID, oldSecret); err != nil {
		t.Fatal(err)
	}

	// 1. Rotate: the new secret is delivered, the old one kept.
	r := tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json")
	j := decode(t, r.stdout)
	newSecret, newKey := str(j, "clientSecret"), str(j, "clientSecretKeyId")
	mustContain(t, "rotate-secret", strings.Join(toStrings(j["warnings"]), " "), "retire them: entra-link retire --app-id "+appID)
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, sorted(oldKey, newKey)) {
		t.Fatalf("secrets %v after rotate-secret", got)
	}

	// 2. The product has not switched: retire shows it and refuses.
	before := len(tt.sb.Requests())
	r = tt.day2(2, "retire", "--app-id", appID, "--dry-run")
	mustContain(t, "dry run", r.stdout, "Plan to retire old credentials", "remove  client secret", "(key ID "+oldKey+")",
		"keep    client secret", "(key ID "+newKey+") — the newest valid client secret", "delivered by entra-link rotate-secret on", "to standard output")
	mustContain(t, "refusal", r.stderr, "last signed in with client secret", "(key ID "+oldKey+")",
		"so Entitle may still use it", "Check that Entitle uses the new client secret", "--force retires it anyway", "nothing was changed")
	r = tt.day2(2, "retire", "--app-id", appID, "--yes")
	mustContain(t, "refusal", r.stderr, "last signed in with client secret", "--force retires it anyway")
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("the refused retire changed the tenant: %v", w)
	}

	// 3. The product switches: it signs in with the new secret.
	if err := tt.product(t, appID, newSecret); err != nil {
		t.Fatalf("the new secret does not work: %v", err)
	}

	// 4. Retire: the preview says what goes, then the old secret goes.
	r = tt.day2(0, "retire", "--app-id", appID, "--dry-run", "--output", "json")
	plan := decode(t, r.stdout)
	if ret, kept := plan["retired"].([]any), plan["kept"].([]any); len(ret) != 1 || len(kept) != 1 ||
		str(ret[0].(map[string]any), "keyId") != oldKey || str(kept[0].(map[string]any), "keyId") != newKey {
		t.Fatalf("dry run retires %v, keeps %v", plan["retired"], plan["kept"])
	}
	if last := plan["signIns"].(map[string]any)["last"].(map[string]any); str(last, "keyId") != newKey {
		t.Errorf("last sign-in %v, want the new secret", last)
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("a dry run changed the tenant: %v", w)
	}
	r = tt.day2(0, "retire", "--app-id", appID, "--yes")
	mustContain(t, "retire", r.stdout, "Retired 1 credential of", "removed client secret", "(key ID "+oldKey+")",
		"Kept", "(key ID "+newKey+")", "The app last signed in with client secret")
	mustContain(t, "retire", r.stderr, "the app last signed in with client secret", "(key ID "+newKey+")", "it stays")
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{newKey}) {
		t.Fatalf("secrets %v after retire, want only the new one", got)
	}
	if err := tt.product(t, appID, oldSecret); err == nil {
		t.Error("the retired secret still gets a token")
	}
	if err := tt.product(t, appID, newSecret); err != nil {
		t.Errorf("the new secret stopped working: %v", err)
	}
	if strings.Contains(r.stdout+r.stderr, newSecret) || strings.Contains(r.stdout+r.stderr, oldSecret) {
		t.Error("retire printed a secret")
	}

	// 5. Again: nothing to retire, nothing changed, exit 0.
	before = len(tt.sb.Requests())
	r = tt.day2(0, "retire", "--app-id", appID, "--yes")
	mustContain(t, "second retire", r.stdout, "Nothing to retire")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("a retire with nothing to retire changed the tenant: %v", w)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// TestRetireNeverTheNewest: the newest valid secret stays whatever the
// flags say, --force included; exit 2, nothing changed.
func TestRetireNeverTheNewest(t *testing.T) {
	tt := newTenant(t)
	logReader(t, tt)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID, oldKey := str(res, "clientId"), str(res, "clientSecretKeyId")
	r := tt.day2(0, "retire", "--app-id", appID, "--dry-run")
	mustContain(t, "dry run of an app with one secret", r.stdout, "Nothing to retire")
	if strings.Contains(r.stdout, "without --dry-run to retire") {
		t.Errorf("the dry run offers to retire nothing:\n%s", r.stdout)
	}
	newKey := str(decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout), "clientSecretKeyId")
	before := len(tt.sb.Requests())
	for _, args := range [][]string{
		{"--key-id", newKey},
		{"--key-id", newKey, "--force"},
		{"--key-id", strings.ToUpper(newKey), "--key-id", oldKey, "--force"},
	} {
		r := tt.day2(2, append([]string{"retire", "--app-id", appID, "--yes"}, args...)...)
		mustContain(t, "stderr", r.stderr, "--key-id "+newKey+":", "is the app's newest valid client secret", "retire never removes it",
			"entra-link rotate-secret --app-id "+appID, "nothing was changed")
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("changed the tenant: %v", w)
	}
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, sorted(oldKey, newKey)) {
		t.Errorf("secrets %v", got)
	}
	// Named explicitly, an old secret goes.
	tt.day2(0, "retire", "--app-id", appID, "--key-id", oldKey, "--yes")
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{newKey}) {
		t.Errorf("secrets %v after retiring the old one by key ID", got)
	}
}

// TestRetireLogsUnreadable: an identity that may not read the sign-in logs
// (the sandbox's bootstrap admin has no AuditLog.Read.All) is told so, and
// retire goes by its other rules: everything but the newest valid secret.
func TestRetireLogsUnreadable(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID, oldSecret := str(res, "clientId"), str(res, "clientSecret")
	tt.day2(0, "rotate-secret", "--app-id", appID)
	j := decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout)
	if err := tt.product(t, appID, oldSecret); err != nil {
		t.Fatal(err)
	}
	r := tt.day2(0, "retire", "--app-id", appID, "--yes", "--output", "json")
	out := decode(t, r.stdout)
	logs := out["signIns"].(map[string]any)
	if logs["read"] != false || !strings.Contains(str(logs, "unread"), "AuditLog.Read.All") {
		t.Errorf("signIns %v", logs)
	}
	mustContain(t, "stderr", r.stderr, "the sign-in logs could not be read: the signed-in app lacks the AuditLog.Read.All application permission",
		"entra-link cannot tell which credential Entitle uses now: make sure it uses the one kept")
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{str(j, "clientSecretKeyId")}) {
		t.Errorf("secrets %v, want only the newest", got)
	}
	if len(out["retired"].([]any)) != 2 {
		t.Errorf("retired %v", out["retired"])
	}

	// AuditLog.Read.All without Directory.Read.All: Graph refuses (the
	// documented known issue), and retire says what is missing.
	id, secret := sandboxtest.Principal(t, tt.sb, "", "half reader", []string{"Application.ReadWrite.All", "Organization.Read.All", "AuditLog.Read.All"}, nil)
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
	r = tt.day2(0, "retire", "--app-id", appID, "--dry-run")
	mustContain(t, "plan", r.stdout, "the sign-in logs could not be read: the signed-in app may not read them (it needs AuditLog.Read.All and Directory.Read.All)")
}

// TestRetireForce: --force retires the secret the app last signed in with
// (not the newest), and says so.
func TestRetireForce(t *testing.T) {
	tt := newTenant(t)
	logReader(t, tt)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID, oldSecret := str(res, "clientId"), str(res, "clientSecret")
	newKey := str(decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout), "clientSecretKeyId")
	if err := tt.product(t, appID, oldSecret); err != nil {
		t.Fatal(err)
	}
	r := tt.day2(0, "retire", "--app-id", appID, "--yes", "--force")
	mustContain(t, "stderr", r.stderr, "retired anyway (--force)")
	if got := tt.state().secretKeys(t, appID); !slices.Equal(got, []string{newKey}) {
		t.Errorf("secrets %v", got)
	}
}

// TestRetireNotItsOwnSecret: signed in as the app itself with a secret
// (an automation app that may update apps, the sandbox's own admin),
// retire never removes the secret it signed in with, --force or not: it
// would lock out entra-link and whatever else signs in with it. Once
// switched to the new secret, the old one goes.
func TestRetireNotItsOwnSecret(t *testing.T) {
	tt := newTenant(t)
	id, secret := sandboxtest.Principal(t, tt.sb, "", "self-rotating", []string{"Application.ReadWrite.All", "Organization.Read.All"}, nil)
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
	j := decode(t, tt.day2(0, "rotate-secret", "--app-id", id, "--output", "json").stdout)
	newSecret, newKey := str(j, "clientSecret"), str(j, "clientSecretKeyId")
	before := len(tt.sb.Requests())
	for _, args := range [][]string{{"--yes"}, {"--yes", "--force"}, {"--dry-run"}} {
		r := tt.day2(2, append([]string{"retire", "--app-id", id}, args...)...)
		mustContain(t, "stderr", r.stderr, "is the client secret entra-link is signed in with", "First sign in with the new secret", "nothing was changed")
	}
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("changed the tenant: %v", w)
	}
	if n := len(tt.state().secretKeys(t, id)); n != 2 {
		t.Fatalf("%d secrets, want both", n)
	}
	tt.env["AZURE_CLIENT_SECRET"] = newSecret
	tt.day2(0, "retire", "--app-id", id, "--yes")
	if got := tt.state().secretKeys(t, id); !slices.Equal(got, []string{newKey}) {
		t.Errorf("secrets %v after switching to the new one, want only it", got)
	}
}

// TestRetireBadInput: each mistake is exit 2, says what is wrong, and
// changes nothing.
func TestRetireBadInput(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID := str(res, "clientId")
	tt.day2(0, "rotate-secret", "--app-id", appID)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"key id not a GUID", []string{"--app-id", appID, "--key-id", "old", "--yes"}, []string{`invalid value "old" for --key-id`, "GUID", "thumbprint"}},
		{"key id not on the app", []string{"--app-id", appID, "--key-id", "00000000-1111-2222-3333-444444444444", "--yes"},
			[]string{"--key-id 00000000-1111-2222-3333-444444444444", "has no secret or certificate with this key ID", "retire --dry-run lists them", "nothing was changed"}},
		{"no --yes without a terminal", []string{"--app-id", appID}, []string{"retire cannot ask for confirmation here: add --yes", "nothing was changed"}},
		{"env output", []string{"--app-id", appID, "--output", "env"}, []string{`invalid value "env" for --output: retire prints text or json`}},
		{"dry run and yes", []string{"--app-id", appID, "--dry-run", "--yes"}, []string{"--dry-run and --yes contradict each other"}},
		{"unknown app", []string{"--app-id", "00000000-1111-2222-3333-444444444444", "--yes"}, []string{"no application with this application (client) ID"}},
		{"no app, runbook style", []string{"--no-input", "--yes"}, []string{"--app-id or --name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tt.sb.Requests())
			r := tt.day2(2, append([]string{"retire"}, tc.args...)...)
			mustContain(t, "stderr", r.stderr, tc.want...)
			if w := tt.writes(before); len(w) != 0 {
				t.Errorf("changed the tenant: %v", w)
			}
		})
	}
	if n := len(tt.state().secretKeys(t, appID)); n != 2 {
		t.Errorf("%d secrets, want both", n)
	}
}

// TestRetireInterrupted: Ctrl-C while the old secrets are being removed:
// the run ends with 130 and says what was removed; the newest secret stays.
func TestRetireInterrupted(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID := str(res, "clientId")
	tt.day2(0, "rotate-secret", "--app-id", appID)
	newKey := str(decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout), "clientSecretKeyId")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/removePassword") {
				cancel() // Ctrl-C while a secret is being removed
			}
			return next.RoundTrip(r)
		})
	}
	r := tt.runCtx(ctx, "retire", "--auth", "env", "--app-id", appID, "--yes", "--output", "json")
	tt.wrap = nil
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	j := decode(t, r.stdout)
	mustContain(t, "result", str(j, "error"), "interrupted after removing", "retire --dry-run shows what is left")
	if keys := tt.state().secretKeys(t, appID); !slices.Contains(keys, newKey) {
		t.Errorf("secrets %v: the newest is gone", keys)
	}
	// What is left is retired by the next run.
	tt.day2(0, "retire", "--app-id", appID, "--yes")
	if keys := tt.state().secretKeys(t, appID); !slices.Equal(keys, []string{newKey}) {
		t.Errorf("secrets %v after the second run", keys)
	}
}

// TestRetireNoSecretsLeftBehind: a secret an interrupted rotate-secret
// created and never handed over (its journal record still "adding") is
// not "the newest": retire removes it with the others and keeps the
// newest delivered one.
func TestRetireNoSecretsLeftBehind(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "roger365")
	appID := str(res, "clientId")
	keep := str(decode(t, tt.day2(0, "rotate-secret", "--app-id", appID, "--output", "json").stdout), "clientSecretKeyId")
	// The answer to addPassword is lost and the read-back fails: the run
	// cannot tell whether a secret was made (it was).
	tt.sb.Inject(sandbox.Rule{Method: "POST", Path: `/addPassword$`, Action: sandbox.ActionDrop})
	tt.sb.Inject(sandbox.Rule{Method: "GET", Path: `^/applications/[0-9a-f-]+$`, Status: 500})
	tt.day2(1, "rotate-secret", "--app-id", appID)
	if n := len(tt.state().secretKeys(t, appID)); n != 3 {
		t.Fatalf("%d secrets; the test needs the lost one", n)
	}
	r := tt.day2(0, "retire", "--app-id", appID, "--dry-run")
	mustContain(t, "plan", r.stdout, "an interrupted run on this machine added it and could not hand it over; nobody has its value",
		"(key ID "+keep+") — the newest valid client secret")
	tt.day2(0, "retire", "--app-id", appID, "--yes")
	if keys := tt.state().secretKeys(t, appID); !slices.Equal(keys, []string{keep}) {
		t.Errorf("secrets %v, want only %s", keys, keep)
	}
	if j := tt.journalText(t); strings.Contains(j, `"event":"adding"`) && !strings.Contains(j, `"event":"delivered"`) {
		t.Errorf("the journal still holds the leftover's record:\n%s", j)
	}
}

// TestCredentialRoundTrips: what the staged rotation costs in sequential
// Graph round trips, counted from the sandbox's request log with a
// latency that separates them. retire --app-id reads the app, the tenant
// and the sign-in logs at once, then removes in one round; --name needs
// the app's id first. rotate-certificate reads, then reads the app's
// certificates and writes them back.
func TestCredentialRoundTrips(t *testing.T) {
	tt := newTenant(t, sandboxtest.Latency(100*time.Millisecond))
	logReader(t, tt)
	res, _ := tt.setup(0, "--profile", "entitle")
	appID := str(res, "clientId")
	h2r, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	for _, c := range []struct {
		name string
		max  int
		args []string
	}{
		{"rotate-secret", 3, []string{"rotate-secret", "--app-id", appID}},
		{"retire --app-id", 2, []string{"retire", "--app-id", appID, "--yes"}},
		{"rotate-secret again", 3, []string{"rotate-secret", "--app-id", appID}},
		{"retire --name", 3, []string{"retire", "--name", "Entitle", "--yes", "--force"}},
		{"rotate-certificate", 4, []string{"rotate-certificate", "--app-id", str(h2r, "clientId"), "--certificate-out", t.TempDir()}},
		{"retire certificates", 3, []string{"retire", "--app-id", str(h2r, "clientId"), "--yes", "--force"}},
	} {
		before := len(tt.sb.Requests())
		tt.day2(0, c.args...)
		recs := tt.sb.Requests()[before:]
		rounds, n := sequentialRounds(recs)
		if rounds > c.max {
			t.Errorf("%s: %d sequential Graph round trips (%d requests), want ≤ %d:\n%s", c.name, rounds, n, c.max, describeRequests(recs))
		}
		t.Logf("%s: %d requests in %d sequential round trips", c.name, n, rounds)
	}
}
