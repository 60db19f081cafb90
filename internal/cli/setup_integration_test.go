package cli

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

const graphLogin = "https://login.microsoftonline.com/"

// TestSetupProfiles: for each built-in profile, the resulting app, service
// principal, permissions, consent, roles and credential are exactly what
// products.md says; the printed secret works; a second identical run
// changes nothing.
func TestSetupProfiles(t *testing.T) {
	type want struct {
		audience    string
		identifiers []string
		redirects   []string
		consented   []string // Resource/AppRole
		grantScope  string   // delegated grant on Microsoft Graph
		roles       []string
		secret      bool
		certificate bool
		handover    []string // labels
	}
	cases := []struct {
		name string
		args []string
		want want
	}{
		{"relution", []string{"--profile", "relution", "--server-url", "https://relution.contoso.com"}, want{
			audience: "AzureADMyOrg", identifiers: []string{"https://relution.contoso.com"}, redirects: []string{"https://relution.contoso.com"},
			consented: []string{"Microsoft Graph/Device.ReadWrite.All", "Microsoft Graph/Group.Read.All", "Microsoft Graph/User.Read.All"},
			secret:    true, handover: []string{"Application (client) ID", "Directory (tenant) ID", "Client secret"}}},
		{"hire2retire", []string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer"}, want{
			audience: "AzureADMyOrg",
			consented: []string{"Microsoft Graph/Directory.ReadWrite.All", "Microsoft Graph/Group.ReadWrite.All",
				"Microsoft Graph/User.EnableDisableAccount.All", "Microsoft Graph/User.ReadWrite.All"},
			roles: []string{"User Administrator"}, certificate: true, handover: []string{"Entra ID National cloud", "Client ID", "Tenant ID"}}},
		{"entitle", []string{"--profile", "entitle"}, want{
			audience:  "AzureADMyOrg",
			consented: []string{"Microsoft Graph/Directory.ReadWrite.All", "Microsoft Graph/RoleManagement.ReadWrite.Directory"},
			secret:    true, handover: []string{"client_id", "secret", "tenant"}}},
		{"unify", []string{"--profile", "unify", "--redirect-uri", "https://app.unifyapps.com/oauth/callback", "--audience", "multi-tenant"}, want{
			audience: "AzureADMultipleOrgs", redirects: []string{"https://app.unifyapps.com/oauth/callback"},
			grantScope: "offline_access User.ReadWrite.All Group.ReadWrite.All People.Read.All",
			secret:     true, handover: []string{"Client ID", "Tenant ID", "Client secret"}}},
		{"roger365", []string{"--profile", "roger365", "--secret-expiry", "6m"}, want{
			audience: "AzureADMyOrg", consented: []string{"Microsoft Graph/User.Read.All"},
			secret: true, handover: []string{"Tenant Id", "Client id (App id)", "Client Secret"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tt := newTenant(t)
			res, _ := tt.setup(0, tc.args...)
			appID, tenantID := str(res, "clientId"), str(res, "tenantId")
			if appID == "" || tenantID != tt.sb.Tenant().TenantID || str(res, "servicePrincipalId") == "" || str(res, "applicationObjectId") == "" {
				t.Fatalf("result lacks ids: %v", res)
			}
			st := tt.state()
			app := st.Applications[st.app(t, appID)]
			if app.SignInAudience != tc.want.audience {
				t.Errorf("signInAudience = %s, want %s", app.SignInAudience, tc.want.audience)
			}
			if !slices.Contains(app.Tags, "entra-link") || !slices.Contains(app.Tags, "entra-link:profile:"+tc.name) {
				t.Errorf("tags = %v", app.Tags)
			}
			if !slices.Equal(nilEmpty(app.IdentifierURIs), nilEmpty(tc.want.identifiers)) || !slices.Equal(nilEmpty(app.WebRedirectURIs), nilEmpty(tc.want.redirects)) {
				t.Errorf("identifierUris %v redirectUris %v", app.IdentifierURIs, app.WebRedirectURIs)
			}
			// Exactly the profile's permissions: no default User.Read.
			var requested []string
			for _, rra := range app.RequiredResourceAccess {
				for _, ra := range rra.ResourceAccess {
					requested = append(requested, ra.Type)
				}
			}
			wantRequested := len(tc.want.consented) + len(strings.Fields(tc.want.grantScope))
			if len(requested) != wantRequested {
				t.Errorf("requiredResourceAccess has %d permissions, want %d: %+v", len(requested), wantRequested, app.RequiredResourceAccess)
			}
			sp := st.spOf(appID)
			if sp == "" {
				t.Fatal("no service principal")
			}
			// As the portal makes apps: the enterprise application is listed,
			// the notes say who set it up for what.
			for _, p := range st.ServicePrincipals {
				if p.ID == sp && !slices.Contains(p.Tags, "WindowsAzureActiveDirectoryIntegratedApp") {
					t.Errorf("service principal tags %v", p.Tags)
				}
			}
			if !strings.HasPrefix(app.Notes, "Set up by entra-link ") || !strings.Contains(app.Notes, "(profile "+tc.name+")") {
				t.Errorf("notes %q", app.Notes)
			}
			if got := st.consented(sp); !slices.Equal(got, nilEmpty(tc.want.consented)) {
				t.Errorf("consented app roles = %v, want %v", got, tc.want.consented)
			}
			if got := st.roles(sp); !slices.Equal(got, nilEmpty(tc.want.roles)) {
				t.Errorf("directory roles = %v, want %v", got, tc.want.roles)
			}
			var grants []string
			for _, g := range st.Grants {
				if g.ClientID == sp {
					grants = append(grants, g.ConsentType+":"+g.Scope)
				}
			}
			if tc.want.grantScope != "" {
				if len(grants) != 1 || grants[0] != "AllPrincipals:"+tc.want.grantScope {
					t.Errorf("grants = %v, want one AllPrincipals grant of %q", grants, tc.want.grantScope)
				}
			} else if len(grants) != 0 {
				t.Errorf("unexpected grants %v", grants)
			}
			if tc.want.secret {
				if len(app.PasswordCredentials) != 1 || !strings.Contains(app.PasswordCredentials[0].DisplayName, "entra-link") {
					t.Errorf("passwordCredentials = %+v", app.PasswordCredentials)
				}
				secret := str(res, "clientSecret")
				if secret == "" || str(res, "clientSecretKeyId") != app.PasswordCredentials[0].KeyID || str(res, "clientSecretExpiresAt") == "" {
					t.Fatalf("secret not delivered: %v", res)
				}
				tok, err := tt.token(appID, secret, graphLogin, "https://graph.microsoft.com/.default")
				if err != nil || tok.Token == "" {
					t.Errorf("the printed secret does not work: %v", err)
				}
			} else if len(app.PasswordCredentials) != 0 {
				t.Errorf("unexpected secrets %+v", app.PasswordCredentials)
			}
			if tc.want.certificate {
				if len(app.KeyCredentials) != 1 || str(res, "certificateThumbprint") == "" {
					t.Errorf("keyCredentials = %+v, thumbprint %q", app.KeyCredentials, str(res, "certificateThumbprint"))
				}
			}
			var labels []string
			ho, _ := res["handover"].(map[string]any)
			for _, l := range tc.want.handover {
				if _, ok := ho[l]; ok {
					labels = append(labels, l)
				}
			}
			if len(labels) != len(tc.want.handover) || len(ho) != len(tc.want.handover) {
				t.Errorf("handover %v, want labels %v", ho, tc.want.handover)
			}
			if ho["client_id"] != nil && ho["client_id"] != appID {
				t.Errorf("handover client_id %v", ho["client_id"])
			}

			// A second identical run changes nothing and creates nothing.
			before := len(tt.sb.Requests())
			again, _ := tt.setup(0, tc.args...)
			if w := tt.writes(before); len(w) != 0 {
				t.Errorf("second run wrote to the tenant: %v", w)
			}
			if str(again, "clientId") != appID || str(again, "clientSecret") != "" {
				t.Errorf("second run: clientId %s secret present %v", str(again, "clientId"), str(again, "clientSecret") != "")
			}
			st2 := tt.state()
			if len(st2.Applications) != len(st.Applications) || len(st2.ServicePrincipals) != len(st.ServicePrincipals) ||
				len(st2.AppRoleAssignments) != len(st.AppRoleAssignments) || len(st2.Grants) != len(st.Grants) || len(st2.RoleAssignments) != len(st.RoleAssignments) {
				t.Error("second run changed the number of objects")
			}
		})
	}
}

func nilEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// TestSetupHire2RetireExchangeAndKeptCertificates: an uploaded certificate
// plus --with exchange; a second certificate is appended, never replacing.
func TestSetupHire2RetireExchange(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange")
	appID := str(res, "clientId")
	st := tt.state()
	sp := st.spOf(appID)
	if got := st.consented(sp); !slices.Contains(got, "Office 365 Exchange Online/Exchange.ManageAsApp") || len(got) != 5 {
		t.Errorf("consented = %v", got)
	}
	if got := st.roles(sp); !slices.Equal(got, []string{"Exchange Administrator", "User Administrator"}) {
		t.Errorf("roles = %v", got)
	}
	app := st.Applications[st.app(t, appID)]
	if !slices.Contains(app.Tags, "entra-link:feature:exchange") {
		t.Errorf("tags %v", app.Tags)
	}

	// Generate a second certificate for the same app: both are kept.
	dir := t.TempDir()
	res2, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", dir, "--with", "exchange", "--new-credential")
	st = tt.state()
	if n := len(st.Applications[st.app(t, appID)].KeyCredentials); n != 2 {
		t.Errorf("keyCredentials after adding a second certificate: %d, want 2", n)
	}
	for _, k := range []string{"certificateKeyPath", "certificatePfxPath", "certificateBundlePath"} {
		p := str(res2, k)
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s %s: %v %v", k, p, err, fi)
		}
	}
	if filepath.Dir(str(res2, "certificateKeyPath")) != dir {
		t.Errorf("key written to %s", str(res2, "certificateKeyPath"))
	}
}

// TestSetupNationalCloud: --cloud usgov-dod signs in at login.microsoftonline.us
// and talks to dod-graph.microsoft.us, and nothing else.
func TestSetupNationalCloud(t *testing.T) {
	tt := newTenant(t)
	res, r := tt.setup(0, "--profile", "entitle", "--cloud", "usgov-dod", "--output", "json")
	if got := tt.hosts(0); !slices.Equal(got, []string{"dod-graph.microsoft.us", "login.microsoftonline.us"}) {
		t.Errorf("hosts = %v", got)
	}
	if str(res, "cloud") != "usgov-dod" {
		t.Errorf("cloud = %s", str(res, "cloud"))
	}
	// The secret works in the DoD cloud, with the DoD Graph scope.
	if _, err := tt.token(str(res, "clientId"), str(res, "clientSecret"), "https://login.microsoftonline.us/", "https://dod-graph.microsoft.us/.default"); err != nil {
		t.Errorf("token in the DoD cloud: %v", err)
	}
	_ = r
	env := tt.run("setup", "--auth", "env", "--yes", "--profile", "roger365", "--cloud", "dod", "--output", "env")
	mustContain(t, "env output", env.stdout, "AZURE_AUTHORITY_HOST=https://login.microsoftonline.us", "AZURE_CLIENT_SECRET=")
}

// TestSetupUnverifiedDomain: relution with a server URL off the tenant's
// verified domains stops before anything is created.
func TestSetupUnverifiedDomain(t *testing.T) {
	tt := newTenant(t)
	before := len(tt.sb.Requests())
	_, r := tt.setup(2, "--profile", "relution", "--server-url", "https://relution.fabrikam.com")
	mustContain(t, "stderr", r.stderr, "relution.fabrikam.com is not a verified domain", "contoso.com", "nothing was changed")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("wrote to the tenant: %v", w)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q", r.stdout)
	}
}

// TestSetupInsufficientPrivileges: an identity that may create apps but not
// consent or assign roles gets the app, the consent URL and exit code 4.
func TestSetupInsufficientPrivileges(t *testing.T) {
	tt := newTenant(t)
	id, secret, err := tt.sb.CreatePrincipal(context.Background(), "app manager", []string{"Application.ReadWrite.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
	res, r := tt.setup(4, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	mustContain(t, "stderr", r.stderr,
		"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator",
		"assigning directory roles needs Privileged Role Administrator or Global Administrator")
	consent := str(res, "consentUrl")
	if !strings.HasPrefix(consent, "https://portal.azure.com/") || !strings.Contains(consent, str(res, "clientId")) {
		t.Errorf("consentUrl = %q", consent)
	}
	st := tt.state()
	sp := st.spOf(str(res, "clientId"))
	if sp == "" || len(st.consented(sp)) != 0 || len(st.roles(sp)) != 0 {
		t.Errorf("sp %q consented %v roles %v", sp, st.consented(sp), st.roles(sp))
	}
	for _, p := range res["permissions"].([]any) {
		if p.(map[string]any)["consented"] != false {
			t.Errorf("permission reported consented: %v", p)
		}
	}

	// An app with a redirect URI gets the v2 admin-consent URL of its cloud.
	res, _ = tt.setup(4, "--profile", "unify", "--redirect-uri", "https://u.example.com/cb", "--cloud", "china")
	consent = str(res, "consentUrl")
	if !strings.HasPrefix(consent, "https://login.chinacloudapi.cn/"+tt.sb.Tenant().TenantID+"/v2.0/adminconsent?") ||
		!strings.Contains(consent, "scope=https%3A%2F%2Fmicrosoftgraph.chinacloudapi.cn%2F.default") {
		t.Errorf("consentUrl = %q", consent)
	}
}

// TestSetupUnderFaults: replication delay, throttling and 503s are waited
// out; the result is still exactly right, with no duplicates.
func TestSetupUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the injected faults")
	}
	tt := newTenant(t, sandboxtest.ReplicationDelay(1500*time.Millisecond), sandboxtest.ThrottleEvery(4), sandboxtest.FailEvery(7))
	tt.sb.SetFaults(sandbox.Faults{ReplicationDelay: 1500 * time.Millisecond, ThrottleEvery: 4, FailEvery: 7, RetryAfter: 100 * time.Millisecond})
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--with", "exchange")
	faults := map[string]int{}
	for _, r := range tt.sb.Requests() {
		if r.Fault != "" {
			faults[r.Fault]++
		}
	}
	if faults["throttle"] == 0 || faults["fail"] == 0 || faults["replication"] == 0 {
		t.Errorf("faults were not exercised: %v", faults)
	}
	st := tt.state()
	apps := 0
	for _, a := range st.Applications {
		if a.DisplayName == "Hire2Retire" {
			apps++
		}
	}
	sp := st.spOf(str(res, "clientId"))
	sps := 0
	for _, s := range st.ServicePrincipals {
		if s.AppID == str(res, "clientId") {
			sps++
		}
	}
	if apps != 1 || sps != 1 || len(st.consented(sp)) != 5 || len(st.roles(sp)) != 2 {
		t.Errorf("apps %d sps %d consented %v roles %v", apps, sps, st.consented(sp), st.roles(sp))
	}
}

// TestSetupInterrupted: Ctrl-C after the secret was created: the secret is
// still delivered, the output says what was and was not done, exit 130.
func TestSetupInterrupted(t *testing.T) {
	tt := newTenant(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/appRoleAssignedTo") {
				// The user presses Ctrl-C while consent is being granted.
				once.Do(cancel)
				<-r.Context().Done()
				return nil, r.Context().Err()
			}
			return next.RoundTrip(r)
		})
	}
	out := filepath.Join(t.TempDir(), "entitle.json")
	r := tt.runCtx(ctx, "setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", "json", "--output-file", out)
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if str(res, "clientSecret") == "" || !strings.Contains(str(res, "error"), "interrupted") {
		t.Fatalf("interrupted result: %s", data)
	}
	statuses := map[string]string{}
	for _, s := range res["steps"].([]any) {
		m := s.(map[string]any)
		statuses[str(m, "kind")] = str(m, "status")
	}
	if statuses["app"] != "done" || statuses["client-secret"] != "done" || statuses["admin-consent"] == "done" {
		t.Errorf("steps %v", statuses)
	}
	tt.wrap = nil
	if _, err := tt.token(str(res, "clientId"), str(res, "clientSecret"), graphLogin, "https://graph.microsoft.com/.default"); err != nil {
		t.Errorf("delivered secret does not work: %v", err)
	}
	// Running again finishes the job without another secret.
	again, _ := tt.setup(0, "--profile", "entitle")
	if str(again, "clientSecret") != "" {
		t.Error("the re-run created a second secret")
	}
	for _, p := range again["permissions"].([]any) {
		if p.(map[string]any)["consented"] != true {
			t.Errorf("not consented after re-run: %v", p)
		}
	}
}

// TestSetupHandoverAndEnvOutputs: the product's own formats.
func TestSetupHandoverAndEnvOutputs(t *testing.T) {
	tt := newTenant(t)
	r := tt.run("setup", "--auth", "env", "--yes", "--profile", "entitle", "--output", "handover")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	var conn map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &conn); err != nil {
		t.Fatalf("handover is not JSON: %v\n%s", err, r.stdout)
	}
	if len(conn) != 3 || conn["client_id"] == "" || conn["secret"] == "" || conn["tenant"] != tt.sb.Tenant().TenantID {
		t.Errorf("Connection JSON = %v", conn)
	}
	if !strings.HasPrefix(r.stdout, "{\n  \"client_id\": ") {
		t.Errorf("Connection JSON keys out of order:\n%s", r.stdout)
	}
	r = tt.run("setup", "--auth", "env", "--yes", "--profile", "roger365", "--output", "env")
	mustContain(t, "env", r.stdout, "AZURE_TENANT_ID="+tt.sb.Tenant().TenantID, "AZURE_CLIENT_ID=", "AZURE_CLIENT_SECRET=")
	r = tt.run("setup", "--auth", "env", "--yes", "--profile", "relution", "--server-url", "https://relution.contoso.com")
	mustContain(t, "text", r.stdout, "Application (client) ID", "Client secret", "shown only this once", "OIDC", "Next steps")
	if strings.Contains(r.stderr, conn["secret"]) {
		t.Error("secret leaked to stderr")
	}
}

// TestSetupNeedsYes: without a terminal, setup refuses to apply unconfirmed.
func TestSetupNeedsYes(t *testing.T) {
	tt := newTenant(t)
	r := tt.run("setup", "--auth", "env", "--profile", "entitle")
	if r.code != 2 || !strings.Contains(r.stderr, "--yes") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	if w := tt.writes(0); len(w) != 0 {
		t.Errorf("wrote %v", w)
	}
}

// TestVerboseRedactsSecrets: --verbose traces every request but never a secret.
func TestVerboseRedactsSecrets(t *testing.T) {
	tt := newTenant(t)
	r := tt.run("setup", "--auth", "env", "--yes", "--verbose", "--profile", "entitle", "--output", "json")
	var res map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	secret := str(res, "clientSecret")
	tid := tt.env["AZURE_TENANT_ID"]
	// The sign-in is traced too: method, host, path, status, duration.
	signIn := regexp.MustCompile(`(?m)^sign-in: POST https://login\.microsoftonline\.com/` + tid + `/oauth2/v2\.0/token -> 200 \(\d+ms\)$`)
	if !signIn.MatchString(r.stderr) {
		t.Errorf("the sign-in is not traced:\n%s", r.stderr)
	}
	mustContain(t, "verbose trace", r.stderr, "POST https://graph.microsoft.com/v1.0/applications", "addPassword")
	noLeak := func(what, trace string, secrets ...string) {
		t.Helper()
		for _, leak := range append(secrets, "eyJ", "client_secret", "client_assertion", "grant_type") {
			if strings.Contains(trace, leak) {
				t.Errorf("%s contains a secret, token or request body (%q…)", what, leak[:4])
			}
		}
	}
	noLeak("setup --verbose", r.stderr, secret, tt.env["AZURE_CLIENT_SECRET"])

	// The proof of a new secret signs in with it: traced, never shown.
	r = tt.run("rotate-secret", "--auth", "env", "--app-id", str(res, "clientId"), "--remove-old", "--verbose", "--output", "json")
	if r.code != 0 {
		t.Fatalf("rotate-secret: exit %d\n%s", r.code, r.stderr)
	}
	rot := decode(t, r.stdout)
	if n := len(signIn.FindAllString(r.stderr, -1)); n < 1 {
		t.Errorf("the proof's sign-in is not traced:\n%s", r.stderr)
	}
	noLeak("rotate-secret --verbose", r.stderr, str(rot, "clientSecret"), secret, tt.env["AZURE_CLIENT_SECRET"])

	// A certificate sign-in sends a signed assertion: never traced.
	dir := t.TempDir()
	h2r, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", dir)
	env := maps.Clone(tt.env)
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = str(h2r, "clientId"), ""
	tt.env["AZURE_CLIENT_CERTIFICATE_PATH"] = str(h2r, "certificateBundlePath")
	r = tt.run("apps", "list", "--auth", "env", "--verbose")
	tt.env = env
	if !signIn.MatchString(r.stderr) {
		t.Errorf("the certificate sign-in is not traced (exit %d):\n%s", r.code, r.stderr)
	}
	noLeak("apps list --verbose with a certificate", r.stderr)
}

// TestSetupSaysWhyItWaits: while Entra replicates, the progress says so in words.
func TestSetupSaysWhyItWaits(t *testing.T) {
	tt := newTenant(t)
	tt.sb.SetFaults(sandbox.Faults{ReplicationDelay: 1200 * time.Millisecond})
	_, r := tt.setup(0, "--profile", "roger365")
	mustContain(t, "progress", r.stderr, "waiting for Entra to replicate the objects just created; retrying in")
}
