package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// --- helpers of the tests across several tenants ---

// tenantsOut is setup's one JSON object across several tenants.
type tenantsOut struct {
	Profile string `json:"profile"`
	Cloud   string `json:"cloud"`
	DryRun  bool   `json:"dryRun"`
	Tenants []struct {
		Tenant     string         `json:"tenant"`
		TenantID   string         `json:"tenantId"`
		TenantName string         `json:"tenantName"`
		Status     string         `json:"status"`
		ExitCode   int            `json:"exitCode"`
		Error      string         `json:"error"`
		OutputFile string         `json:"outputFile"`
		Result     map[string]any `json:"result"`
	} `json:"tenants"`
	Summary  map[string]int `json:"summary"`
	ExitCode int            `json:"exitCode"`
}

// decodeTenants fails unless stdout is exactly one JSON object.
func decodeTenants(t *testing.T, stdout string) tenantsOut {
	t.Helper()
	var out tenantsOut
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	return out
}

// entry is the tenant's entry in the output.
func (o tenantsOut) entry(t *testing.T, tenant string) (status string, code int, errText string, result map[string]any) {
	t.Helper()
	for _, e := range o.Tenants {
		if e.Tenant == tenant {
			return e.Status, e.ExitCode, e.Error, e.Result
		}
	}
	t.Fatalf("no entry for tenant %s in %+v", tenant, o.Tenants)
	return "", 0, "", nil
}

// tenantOfRequest names the tenant a request goes to: the token
// endpoint's path, or the tid of the bearer token Graph gets.
func tenantOfRequest(r *http.Request) string {
	if strings.Contains(r.URL.Path, "/oauth2/") {
		return strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0]
	}
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
	}
	_ = json.Unmarshal(raw, &claims)
	return claims.TID
}

// tokenIn proves a client secret in one tenant of the sandbox.
func (tt *tenant) tokenIn(tenantID, clientID, secret string) error {
	tt.t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: &http.Client{Transport: tt.sb.Transport()}, Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: graphLogin}}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	return err
}

// refuseSignIn makes the tenant's token endpoint answer as Entra does
// once a customer has removed the MSP's enterprise application: the app
// is not found in that directory (AADSTS700016).
func (tt *tenant) refuseSignIn(tenantID string) {
	tt.t.Helper()
	body := fmt.Sprintf(`{"error":"unauthorized_client","error_description":"AADSTS700016: Application with identifier '%s' was not found in the directory 'Northwind'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.","error_codes":[700016]}`, tt.sb.Tenant().ClientID)
	tt.sb.Inject(sandbox.Rule{Method: http.MethodPost, Path: "^/" + tenantID + "/oauth2/v2.0/token$", Status: http.StatusBadRequest, Body: json.RawMessage(body), Times: 1000})
}

// appsIn lists the display names of a tenant's applications (the sandbox's
// own inspection, not entra-link's reading).
func (tt *tenant) appsIn(tenantID string) []string {
	tt.t.Helper()
	resp, err := (&http.Client{Transport: tt.sb.Transport()}).Get(tt.sb.URL() + "/_sandbox/state")
	if err != nil {
		tt.t.Fatal(err)
	}
	defer resp.Body.Close()
	type view struct {
		Tenant struct {
			ID string `json:"id"`
		} `json:"tenant"`
		Applications []struct {
			DisplayName string `json:"displayName"`
		} `json:"applications"`
	}
	var all struct {
		view
		Tenants []view `json:"tenants"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&all); err != nil {
		tt.t.Fatal(err)
	}
	for _, v := range append([]view{all.view}, all.Tenants...) {
		if v.Tenant.ID == tenantID {
			var names []string
			for _, a := range v.Applications {
				names = append(names, a.DisplayName)
			}
			slices.Sort(names)
			return names
		}
	}
	tt.t.Fatalf("no tenant %s in the sandbox", tenantID)
	return nil
}

// threeTenants is a sandbox with the home tenant, Fabrikam and Northwind,
// and their ids in that order.
func threeTenants(t *testing.T) (*tenant, []string) {
	t.Helper()
	tt := newTenant(t, sandboxtest.Tenants("Fabrikam", "Northwind"))
	var ids []string
	for _, x := range tt.sb.Tenants() {
		ids = append(ids, x.TenantID)
	}
	if len(ids) != 3 {
		t.Fatalf("tenants %v", ids)
	}
	return tt, ids
}

func tenantArgs(ids ...string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, "--tenant", id)
	}
	return out
}

// fitsWidth fails for a line of the summary table wider than 80 columns.
// tooWide: l is wider than 80 columns and is not a path or URL alone on
// its line, which is never cut and may be wider than the terminal (a dash
// never starts a line: it may stay after the path).
func tooWide(l string) bool {
	alone := len(strings.Fields(strings.TrimSuffix(l, " —"))) == 1 && strings.Contains(l, "/")
	return len([]rune(l)) > 80 && !alone
}

func summaryFits(t *testing.T, what, s string) {
	t.Helper()
	in := false
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "Tenant  ") {
			in = true
		}
		if in && tooWide(l) {
			t.Errorf("%s: summary line wider than 80 columns (%d): %q", what, len([]rune(l)), l)
		}
	}
	if !in {
		t.Errorf("%s has no summary table:\n%s", what, s)
	}
}

// --- the tests ---

// TestSetupTenantsOneFailing: one profile across three sandbox tenants,
// one of which fails part-way (Microsoft Graph answers 500 to its admin
// consent, after its secret exists) and one of which has the app already.
// One review for all, with the difference called out; the other two are
// set up; every secret created is delivered in the one JSON object on
// stdout and works in its own tenant; the summary table fits 80 columns;
// exit 1.
func TestSetupTenantsOneFailing(t *testing.T) {
	tt, ids := threeTenants(t)
	home, fabrikam, northwind := ids[0], ids[1], ids[2]
	// Fabrikam has Entitle already, from an earlier run there.
	before, _ := tt.setup(0, "--profile", "entitle", "--tenant", fabrikam)
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if tenantOfRequest(r) == northwind && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/appRoleAssignedTo") {
				body := `{"error":{"code":"InternalServerError","message":"Unexpected failure.","innerError":{"date":"2026-11-21T10:00:00","request-id":"r","client-request-id":"c"}}}`
				return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
			}
			return next.RoundTrip(r)
		})
	}
	r := tt.run(append([]string{"setup", "--auth", "env", "--yes", "--profile", "entitle", "-o", "json"}, tenantArgs(home, fabrikam, northwind)...)...)
	tt.wrap = nil
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	out := decodeTenants(t, r.stdout)
	if out.Profile != "entitle" || out.ExitCode != 1 || len(out.Tenants) != 3 || out.Summary["done"] != 2 || out.Summary["failed"] != 1 {
		t.Fatalf("object: %+v", out)
	}
	// The home tenant: set up, a new secret that works there.
	status, code, _, res := out.entry(t, home)
	if status != "done" || code != 0 || str(res, "clientSecret") == "" || str(res, "tenantId") != home {
		t.Errorf("home tenant: %s %d %v", status, code, res)
	}
	if err := tt.tokenIn(home, str(res, "clientId"), str(res, "clientSecret")); err != nil {
		t.Errorf("home tenant's secret: %v", err)
	}
	// Fabrikam: the same app, its valid secret kept (not shown), no duplicate.
	status, code, _, res = out.entry(t, fabrikam)
	if status != "done" || code != 0 || str(res, "clientId") != str(before, "clientId") || str(res, "clientSecret") != "" || res["keptSecret"] == nil {
		t.Errorf("Fabrikam: %s %d %v", status, code, res)
	}
	if apps := tt.appsIn(fabrikam); !slices.Equal(apps, []string{"Entitle"}) {
		t.Errorf("Fabrikam's apps: %v", apps)
	}
	// Northwind failed after its secret was created: delivered, and it works.
	status, code, errText, res := out.entry(t, northwind)
	if status != "failed" || code != 1 || !strings.Contains(errText, "consent") || str(res, "clientSecret") == "" || str(res, "error") == "" {
		t.Errorf("Northwind: %s %d %q %v", status, code, errText, res)
	}
	if err := tt.tokenIn(northwind, str(res, "clientId"), str(res, "clientSecret")); err != nil {
		t.Errorf("Northwind's secret: %v", err)
	}
	// One review for the three, the difference called out.
	mustContain(t, "stderr", r.stderr, "Plan for Entitle (profile entitle) in 3 tenants:",
		"In every tenant but "+fabrikam+":", "create  app registration \"Entitle\"",
		"In "+fabrikam+":", "keep  app registration \"Entitle\" — client ID "+str(before, "clientId"))
	summaryFits(t, "stderr", r.stderr)
	mustContain(t, "stderr", r.stderr, "failed (1)", "3 tenants: 2 done, 1 failed.")
	for _, s := range []string{str(res, "clientSecret")} {
		if strings.Contains(r.stderr, s) {
			t.Error("a secret reached stderr")
		}
	}
}

// TestSetupTenantsOutputDirectory: --output-file names a directory, each
// tenant gets its own 0600 hand-over there; a tenant whose admin removed
// the MSP's app cannot be signed in to and gets no file, and does not stop
// the others; stdout stays empty. A second run refuses, before any change,
// to overwrite the files.
func TestSetupTenantsOutputDirectory(t *testing.T) {
	tt, ids := threeTenants(t)
	home, fabrikam, northwind := ids[0], ids[1], ids[2]
	tt.refuseSignIn(northwind)
	dir := filepath.Join(t.TempDir(), "handovers")
	// The tenants file names Fabrikam by its initial domain.
	var fabDomain string
	for _, x := range tt.sb.Tenants() {
		if x.TenantID == fabrikam {
			fabDomain = x.TenantDomain
		}
	}
	list := filepath.Join(t.TempDir(), "customers.txt")
	content := "# our customers\n" + home + "\n\n" + fabDomain + "   # Fabrikam\n" + northwind + "\n"
	if err := os.WriteFile(list, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", "handover", "--output-file", dir, "--tenants-file", list}
	r := tt.run(args...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	if r.stdout != "" {
		t.Errorf("stdout with --output-file: %q", r.stdout)
	}
	for _, x := range []struct{ label, id string }{{home, home}, {fabDomain, fabrikam}} {
		path := filepath.Join(dir, strings.ToLower(x.label)+".json")
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("no hand-over for %s: %v\n%s", x.label, err, r.stderr)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", path, fi.Mode().Perm())
		}
		data, _ := os.ReadFile(path)
		var conn map[string]string
		if err := json.Unmarshal(data, &conn); err != nil || conn["tenant"] != x.id || conn["client_id"] == "" || conn["secret"] == "" {
			t.Errorf("%s: %v %s", path, err, data)
			continue
		}
		if err := tt.tokenIn(x.id, conn["client_id"], conn["secret"]); err != nil {
			t.Errorf("%s: the handed-over secret does not work: %v", path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, northwind+".json")); err == nil {
		t.Error("Northwind got a hand-over file, though nothing was set up there")
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory: %v %v", err, fi)
	}
	if apps := tt.appsIn(northwind); slices.Contains(apps, "Entitle") {
		t.Errorf("Northwind got an app: %v", apps)
	}
	mustContain(t, "stderr", r.stderr, "AADSTS700016", "Not set up — nothing changes there:", northwind+": ")
	summaryFits(t, "stderr", r.stderr)
	// The whole of stderr, the review included, fits 80 columns but for
	// a path or URL alone on its line.
	for _, l := range strings.Split(r.stderr, "\n") {
		if tooWide(l) {
			t.Errorf("stderr line wider than 80 columns (%d): %q", len([]rune(l)), l)
		}
	}

	// Again, without --force: the files exist; refused before any write.
	before := len(tt.sb.Requests())
	r = tt.run(args...)
	if r.code != 2 {
		t.Fatalf("second run: exit %d, want 2\n%s", r.code, r.stderr)
	}
	if n := len(tt.sb.Requests()); n != before {
		t.Errorf("second run: %d requests before the refusal", n-before)
	}
	mustContain(t, "stderr", r.stderr, strings.ToLower(fabDomain)+".json already exists", home+".json already exists", "--force")
}

// TestSetupTenantsPanicAndInterrupt: a bug in one tenant after its secret
// exists, and Ctrl-C while a tenant is under way: every secret created is
// in the one JSON object on stdout, and the exit status says what
// happened (1, 130).
func TestSetupTenantsPanicAndInterrupt(t *testing.T) {
	t.Run("panic", func(t *testing.T) {
		tt, ids := threeTenants(t)
		tt.panicOn(func(r *http.Request) bool {
			return tenantOfRequest(r) == ids[1] && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/appRoleAssignedTo")
		})
		r := tt.run(append([]string{"setup", "--auth", "env", "--yes", "--profile", "entitle", "-o", "json"}, tenantArgs(ids...)...)...)
		tt.wrap = nil
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\nstderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
		}
		out := decodeTenants(t, r.stdout)
		for i, id := range ids {
			status, _, errText, res := out.entry(t, id)
			want := "done"
			if i == 1 {
				want = "failed"
				if !strings.Contains(errText, "internal error") {
					t.Errorf("the panicking tenant's error: %q", errText)
				}
			}
			if status != want || str(res, "clientSecret") == "" {
				t.Errorf("tenant %d: %s, secret delivered %v", i, status, str(res, "clientSecret") != "")
				continue
			}
			if err := tt.tokenIn(id, str(res, "clientId"), str(res, "clientSecret")); err != nil {
				t.Errorf("tenant %d's secret: %v", i, err)
			}
		}
		mustContain(t, "stderr", r.stderr, "internal error (a bug in entra-link): injected bug")
		if strings.Contains(r.stderr, "goroutine ") {
			t.Errorf("a stack trace reached the user:\n%s", r.stderr)
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		tt, ids := threeTenants(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var once sync.Once
		tt.wrap = func(next http.RoundTripper) http.RoundTripper {
			return transportFunc(func(r *http.Request) (*http.Response, error) {
				if tenantOfRequest(r) == ids[2] && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/appRoleAssignedTo") {
					// Ctrl-C while Northwind's consent is being granted.
					once.Do(cancel)
					<-r.Context().Done()
					return nil, r.Context().Err()
				}
				return next.RoundTrip(r)
			})
		}
		r := tt.runCtx(ctx, append([]string{"setup", "--auth", "env", "--yes", "--profile", "entitle", "-o", "json"}, tenantArgs(ids...)...)...)
		tt.wrap = nil
		if r.code != 130 {
			t.Fatalf("exit %d, want 130\nstderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
		}
		out := decodeTenants(t, r.stdout)
		if out.ExitCode != 130 || len(out.Tenants) != 3 {
			t.Fatalf("object: %+v", out)
		}
		_, _, _, res := out.entry(t, ids[2])
		if str(res, "clientSecret") == "" || !strings.Contains(str(res, "error"), "interrupted") {
			t.Errorf("Northwind's interrupted result: %v", res)
		}
		if err := tt.tokenIn(ids[2], str(res, "clientId"), str(res, "clientSecret")); err != nil {
			t.Errorf("Northwind's secret: %v", err)
		}
		for _, e := range out.Tenants {
			// Every secret created anywhere was delivered.
			steps, _ := e.Result["steps"].([]any)
			for _, s := range steps {
				m, _ := s.(map[string]any)
				if str(m, "kind") == "client-secret" && str(m, "status") == "done" && str(e.Result, "clientSecret") == "" {
					t.Errorf("%s: a secret was created and not delivered: %v", e.Tenant, e.Result)
				}
			}
		}
	})
}

// TestSetupTenantsBadInput: what a run across several tenants cannot
// honour is refused before any sign-in, exit 2, naming the flag (and the
// file and line).
func TestSetupTenantsBadInput(t *testing.T) {
	tt, ids := threeTenants(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := file("bad.txt", "# customers\n"+ids[0]+"\nnot a tenant!\n")
	dup := file("dup.txt", ids[0]+"\n"+strings.ToUpper(ids[0])+"\n")
	empty := file("empty.txt", "# nobody yet\n\n")
	outFile := file("out.json", "")
	base := []string{"setup", "--auth", "env", "--yes", "--profile", "entitle"}
	two := tenantArgs(ids[0], ids[1])
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--tenants-file", bad}, []string{bad + ":3: invalid tenant \"not a tenant!\""}},
		{[]string{"--tenants-file", dup}, []string{dup + ":2:", "listed twice", dup + ":1"}},
		{[]string{"--tenants-file", empty}, []string{"--tenants-file " + empty + " lists no tenant"}},
		{[]string{"--tenants-file", filepath.Join(dir, "missing.txt")}, []string{"missing.txt does not exist"}},
		{append([]string{"--tenant", "x y"}, two...), []string{"--tenant: invalid tenant \"x y\""}},
		{append([]string{"--output", "handover"}, two...), []string{"--output handover across several tenants needs --output-file DIR"}},
		{append([]string{"--output", "env"}, two...), []string{"--output env across several tenants needs --output-file DIR"}},
		{append([]string{"--app-id", "00001111-aaaa-2222-bbbb-3333cccc4444"}, two...), []string{"--app-id names an app registration"}},
		{append([]string{"--output-file", outFile}, two...), []string{"is a file; across several tenants --output-file names a directory"}},
		{append([]string{"--output-file", filepath.Join(dir, "no", "such")}, two...), []string{"does not exist"}},
	} {
		before := len(tt.sb.Requests())
		r := tt.run(append(append([]string{}, base...), c.args...)...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", c.args, r.code, r.stderr)
		}
		mustContain(t, fmt.Sprint(c.args), r.stderr, c.want...)
		if n := len(tt.sb.Requests()); n != before {
			t.Errorf("%v: %d requests reached the tenants before the refusal", c.args, n-before)
		}
	}
	for _, args := range [][]string{
		{"setup", "--sandbox", "--yes", "--profile", "entitle", "--tenant", "a.example.com", "--tenant", "b.example.com"},
		{"setup", "--auth", "managed-identity", "--yes", "--profile", "entitle", "--tenant", "a.example.com", "--tenant", "b.example.com"},
	} {
		r := tt.run(args...)
		if r.code != 2 || !strings.Contains(r.stderr, strings.Fields(strings.Join(args[1:3], " "))[0]) {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		for _, l := range strings.Split(r.stderr, "\n") {
			if s := strings.TrimSpace(l); s != "" && strings.Trim(s, "().,;") == "" {
				t.Errorf("%v: a line of punctuation alone:\n%s", args, r.stderr)
			}
		}
	}

	// One tenant by its ID and by its domain: found once signed in, and
	// refused before anything is changed anywhere.
	before := len(tt.sb.Requests())
	r := tt.run(append(append([]string{}, base...), tenantArgs(ids[1], ids[0], tt.sb.Tenant().TenantDomain)...)...)
	if r.code != 2 {
		t.Fatalf("same tenant twice: exit %d\n%s", r.code, r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "are the same tenant", "nothing was changed")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}

// TestSetupTenantsReviewAndDryRun: Relution's server URL is a verified
// domain of one tenant and not of the other. The dry run (reading both)
// prints the one plan with the tenant that cannot take it called out
// (exit 2: nothing can be applied there); the real run sets up the one
// and leaves the other untouched (exit 1: not every tenant was set up).
func TestSetupTenantsReviewAndDryRun(t *testing.T) {
	tt := newTenant(t)
	fab, err := tt.sb.AddTenant(context.Background(), sandbox.TenantSpec{DisplayName: "Fabrikam", VerifiedDomains: []string{"fabrikam.com"}})
	if err != nil {
		t.Fatal(err)
	}
	home := tt.sb.Tenant().TenantID
	args := append([]string{"setup", "--auth", "env", "--profile", "relution", "--server-url", "https://relution.contoso.com"}, tenantArgs(home, fab.TenantID)...)
	before := len(tt.sb.Requests())
	r := tt.run(append(args, "--dry-run")...)
	if r.code != 2 {
		t.Fatalf("dry run: exit %d\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	mustContain(t, "dry run", r.stdout, "Plan for Relution (profile relution) in 2 tenants:", "In "+home+":",
		"create  app registration \"Relution\"", "Not set up — nothing changes there:", fab.TenantID+": relution.contoso.com is not a verified",
		"Dry run: nothing was changed", "bad input (2)", "planned")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("the dry run wrote %v", w)
	}
	summaryFits(t, "dry run", r.stdout)

	r = tt.run(append(args, "--yes", "-o", "json")...)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	out := decodeTenants(t, r.stdout)
	if s, c, _, _ := out.entry(t, home); s != "done" || c != 0 {
		t.Errorf("home: %s %d", s, c)
	}
	if s, c, e, res := out.entry(t, fab.TenantID); s != "invalid" || c != 2 || !strings.Contains(e, "not a verified domain") || res != nil {
		t.Errorf("Fabrikam: %s %d %q %v", s, c, e, res)
	}
	if apps := tt.appsIn(fab.TenantID); slices.Contains(apps, "Relution") {
		t.Errorf("Fabrikam got the app: %v", apps)
	}
}

// TestTenantsExit: every code of design.md §3 keeps its meaning for the
// run as a whole.
func TestTenantsExit(t *testing.T) {
	for _, c := range []struct {
		codes     []int
		cancelled bool
		dryRun    bool
		want      int
	}{
		{[]int{0, 0, 0}, false, false, 0},
		{[]int{0, 4, 0}, false, false, 4},
		{[]int{2, 2}, false, false, 2},
		{[]int{0, 2}, false, false, 1}, // one set up, one refused: not "nothing changed"
		{[]int{4, 2}, false, false, 1},
		{[]int{0, 1, 4}, false, false, 1},
		{[]int{1, 1}, false, false, 1},
		{[]int{0, 1}, true, false, 130},
		{[]int{0, 0}, true, false, 130},
		{[]int{0, 2}, false, true, 2}, // a dry run changes nothing anywhere
		{[]int{0, 2, 1}, false, true, 1},
		{[]int{0, 0}, false, true, 0},
	} {
		if got := tenantsExit(c.codes, c.cancelled, c.dryRun); got != c.want {
			t.Errorf("tenantsExit(%v, cancelled %v, dry run %v) = %d, want %d", c.codes, c.cancelled, c.dryRun, got, c.want)
		}
	}
}

// TestEachTenantLimit: at most limit tenants at once; with one at a time
// (interactive sign-ins) in the order given; a panic in one tenant is its
// internal error and the others still run.
func TestEachTenantLimit(t *testing.T) {
	for _, limit := range []int{1, 4} {
		runs := make([]*tenantRun, 9)
		for i := range runs {
			runs[i] = &tenantRun{label: fmt.Sprint(i), fl: &setupFlow{}}
		}
		var mu sync.Mutex
		var order []int
		active, peak := 0, 0
		// The tenants wait until as many run as may: then the gate opens.
		gate := make(chan struct{})
		go func() {
			defer close(gate)
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				mu.Lock()
				n := active
				mu.Unlock()
				if n == limit {
					return
				}
			}
		}()
		eachTenant(runs, limit, func(i int, r *tenantRun) {
			mu.Lock()
			order = append(order, i)
			active++
			peak = max(peak, active)
			mu.Unlock()
			defer func() {
				mu.Lock()
				active--
				mu.Unlock()
			}()
			<-gate
			if i == 5 {
				panic("bug in tenant 5")
			}
		})
		if limit == 1 && !slices.Equal(order, []int{0, 1, 2, 3, 4, 5, 6, 7, 8}) {
			t.Errorf("one at a time: order %v", order)
		}
		if len(order) != 9 || peak != limit {
			t.Errorf("limit %d: ran %d, at most %d at once", limit, len(order), peak)
		}
		if runs[5].code != 1 || !strings.Contains(runs[5].err.Error(), "bug in tenant 5") || runs[6].err != nil {
			t.Errorf("limit %d: tenant 5 %v (%d), tenant 6 %v", limit, runs[5].err, runs[5].code, runs[6].err)
		}
	}
}

// TestTenantsRescueEndsTheObject: a panic that escapes the tenants' own
// recovery (Run's last resort) still leaves stdout one JSON object, with
// the secret of a tenant already reported and of one still under way.
func TestTenantsRescueEndsTheObject(t *testing.T) {
	f, ios := testFactory(nil)
	k := &keeper{}
	ctx := context.WithValue(context.Background(), keeperKey{}, k)
	o := &SetupOptions{f: f}
	o.Output = output.FormatJSON
	stream := output.NewTenantStream(f.IO.Out, output.FormatJSON, map[string]any{"profile": "entitle"}, output.Style{}, testNow)
	runs := []*tenantRun{newTenantRun(o, "a.example.com"), newTenantRun(o, "b.example.com")}
	atRescue(ctx, func() { finishAfterPanic(stream, runs) })
	secret := func(s string) *output.Result {
		return &output.Result{Profile: "entitle", TenantID: s, ClientID: "c-" + s, ClientSecret: "secret-" + s}
	}
	// a: done and written to the stream.
	ea := runs[0].delivery(ctx, stream)
	ea.hold(secret("a"))
	if err := ea.final(secret("a")); err != nil {
		t.Fatal(err)
	}
	runs[0].reported = true
	if err := stream.Add(runs[0].outcome(false)); err != nil {
		t.Fatal(err)
	}
	// b: its secret exists, its apply is under way when the bug hits.
	runs[1].delivery(ctx, stream).hold(secret("b"))

	if code := k.recovered(f, "bug outside the tenants"); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	stdout := ios.Out.(interface{ String() string }).String()
	out := decodeTenants(t, stdout)
	if len(out.Tenants) != 2 || out.ExitCode != 1 {
		t.Fatalf("object: %+v", out)
	}
	for _, name := range []string{"a", "b"} {
		_, _, _, res := out.entry(t, name+".example.com")
		if str(res, "clientSecret") != "secret-"+name {
			t.Errorf("tenant %s: secret not delivered: %v", name, res)
		}
	}
	if s, c, e, _ := out.entry(t, "b.example.com"); s != "failed" || c != 1 || e != stoppedByBug {
		t.Errorf("tenant b: %s %d %q", s, c, e)
	}
}

// TestProgressTags: progress lines name a tenant shortly, never two alike.
func TestProgressTags(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"00001111-aaaa-2222-bbbb-3333cccc4444", "fabrikam.com", "northwind-traders.onmicrosoft.com"}, []string{"00001111", "fabrikam.com", "northwind-traders"[:16]}},
		{[]string{"contoso-europe-west.onmicrosoft.com", "contoso-europe-west.de"}, []string{"contoso-europe-west.onmicrosoft.com", "contoso-europe-west.de"}},
	} {
		if got := progressTags(c.in); !slices.Equal(got, c.want) {
			t.Errorf("progressTags(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestSetupTenantsSuggestionsNameTheTenant: across the tenants of a
// --tenants-file, each tenant's hand-over suggests commands with that
// tenant's --tenant: the environment's AZURE_TENANT_ID names another one,
// where the suggested rotate-secret would find no such app. Run verbatim,
// it rotates the secret in the tenant it was printed for.
func TestSetupTenantsSuggestionsNameTheTenant(t *testing.T) {
	tt, ids := threeTenants(t)
	fabrikam := ids[1]
	list := filepath.Join(t.TempDir(), "customers.txt")
	if err := os.WriteFile(list, []byte(fabrikam+"\n"+ids[2]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "handovers")
	r := tt.run("setup", "--auth", "env", "--yes", "--profile", "entitle", "--output-file", dir, "--tenants-file", list)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, fabrikam+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The command, its continuation lines joined.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	i := strings.Index(text, "entra-link rotate-secret ")
	if i < 0 {
		t.Fatalf("no rotate-secret suggested:\n%s", data)
	}
	line, _, _ := strings.Cut(text[i:], "\n")
	args := strings.Fields(line)[1:]
	if !strings.Contains(line, "--tenant "+fabrikam) {
		t.Errorf("the suggestion does not name its tenant: %s", line)
	}
	r = tt.run(append(args, "--output", "json")...)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\n%s", line, r.code, r.stderr)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || str(res, "tenantId") != fabrikam || str(res, "clientSecret") == "" {
		t.Errorf("%s: %v %v", line, err, res)
	}
}

// TestHangingKeepsPathsWhole: a path too long for what is left of the
// first line after a tenant's label moves to the next line whole; it was
// cut there and joined back with a space ("…9043f1 .txt"), a path that
// does not exist.
func TestHangingKeepsPathsWhole(t *testing.T) {
	path := "hof/5f5b8262-a644-40b4-b2b3-180e1f9043f1.txt"
	head := "  5f5b8262-a644-40b4-b2b3-180e1f9043f1: "
	lines := hanging(head, "--output-file "+path+" exists and may hold the app's client secret from an earlier run", 80)
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, path) {
		t.Errorf("the path is not whole:\n%s", text)
	}
	for _, l := range lines {
		if len([]rune(l)) > 80 {
			t.Errorf("line wider than 80 columns: %q", l)
		}
	}
	if got := strings.Join(strings.Fields(text), " "); got != strings.TrimSpace(head)+" --output-file "+path+" exists and may hold the app's client secret from an earlier run" {
		t.Errorf("words changed: %q", got)
	}
}
