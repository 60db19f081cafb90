package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
	"github.com/entra-link/entra-link/internal/setup"
)

// policyReader signs the tenant's commands in as an automation app that
// may do everything setup needs and read the app management policy
// (Policy.Read.All) — the identity for which the plan knows the policy.
func policyReader(t *testing.T, tt *tenant) {
	t.Helper()
	id, secret := sandboxtest.Principal(t, tt.sb, "", "provisioning", []string{
		"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
		"RoleManagement.ReadWrite.Directory", "Organization.Read.All", "Policy.Read.All", "User.Read.All",
	}, nil)
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = id, secret
}

// TestSetupPolicyLifetime: a tenant policy with passwordLifetime P90D —
// the default plan makes the secret 90 days and says so; --secret-expiry
// 1y asked for explicitly is exit 2 before any write, naming the limit.
func TestSetupPolicyLifetime(t *testing.T) {
	tt := newTenant(t)
	sandboxtest.DefaultAppManagementPolicy(t, tt.sb, "", `{"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [
		{"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": null}]}}`)
	policyReader(t, tt)

	before := len(tt.sb.Requests())
	_, r := tt.setup(2, "--profile", "entitle", "--secret-expiry", "1y")
	mustContain(t, "stderr", r.stderr, "--secret-expiry 1y", "allows client secrets for at most 90 days (passwordLifetime P90D", "--secret-expiry 90d or less", "nothing was changed")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("wrote before refusing: %v", w)
	}

	res, r := tt.setup(0, "--profile", "entitle")
	mustContain(t, "plan", r.stderr, "app management policy (client secrets) — the tenant's default app management policy allows client secrets for at most 90 days",
		"shortened from 1 year to the longest the tenant's default app management policy allows (90 days)")
	exp, err := time.Parse(time.RFC3339, str(res, "clientSecretExpiresAt"))
	if err != nil || exp.After(time.Now().AddDate(0, 0, 90)) || exp.Before(time.Now().AddDate(0, 0, 89)) {
		t.Errorf("clientSecretExpiresAt %q (%v), want 90 days from now", str(res, "clientSecretExpiresAt"), err)
	}
	st := tt.state()
	app := st.Applications[st.app(t, str(res, "clientId"))]
	if len(app.PasswordCredentials) != 1 || !strings.HasPrefix(app.PasswordCredentials[0].EndDateTime, exp.Format("2006-01-02")) {
		t.Errorf("secrets in the tenant %+v", app.PasswordCredentials)
	}
	// The policy allowed exactly this: a second run changes nothing.
	if _, r := tt.setup(0, "--profile", "entitle"); !strings.Contains(r.stderr, "Nothing to change") {
		t.Errorf("second run:\n%s", r.stderr)
	}
}

// TestSetupPolicyBlocksSecrets: passwordAddition blocked — Entitle, which
// signs in only with a secret, stops before any write with words for the
// security team; Hire2Retire (a certificate) proceeds.
func TestSetupPolicyBlocksSecrets(t *testing.T) {
	tt := newTenant(t)
	sandboxtest.DefaultAppManagementPolicy(t, tt.sb, "", `{"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [
		{"restrictionType": "passwordAddition", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": "2021-01-01T10:37:00Z"}]}}`)
	policyReader(t, tt)

	before := len(tt.sb.Requests())
	_, r := tt.setup(2, "--profile", "entitle")
	mustContain(t, "stderr", r.stderr, "does not allow new client secrets on apps created since 2021-01-01 (passwordAddition)",
		"Entitle signs in only with a client secret", "ask your security team to allow client secrets", "nothing was changed")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("wrote before refusing: %v", w)
	}
	res, r := tt.setup(0, "--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer")
	mustContain(t, "plan", r.stderr, "app management policy (certificates) — the tenant's default app management policy does not limit certificates")
	if str(res, "certificateThumbprint") == "" {
		t.Errorf("no certificate: %v", res)
	}
}

// TestSetupPolicyUnseen: when the policy cannot be read (the sandbox's
// bootstrap admin lacks Policy.Read.All), the plan says so and makes
// consents, roles and owners wait for the credential; Graph's refusal
// comes back in the plan's words and nothing is granted to the app — for
// the tenant default on a new app, and for a policy assigned to an
// existing one.
func TestSetupPolicyUnseen(t *testing.T) {
	tt := newTenant(t)
	sandboxtest.DefaultAppManagementPolicy(t, tt.sb, "", `{"isEnabled": true, "applicationRestrictions": {"passwordCredentials": [
		{"restrictionType": "passwordAddition", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": null}]}}`)
	res, r := tt.setup(1, "--profile", "entitle")
	mustContain(t, "stderr", r.stderr, "app management policy (client secrets)", "could not be read: the signed-in app lacks the Policy.Read.All application permission",
		"the tenant's app management policy does not allow client secrets on this app", "Entitle signs in only with a client secret")
	if strings.Contains(r.stderr, "CredentialTypeNotAllowedAsPerAppPolicy") || strings.Contains(r.stdout, "Credential type not allowed") {
		t.Errorf("Graph's raw refusal shown:\n%s", r.stderr)
	}
	st := tt.state()
	appID := str(res, "clientId")
	if sp := st.spOf(appID); sp == "" || len(st.consented(sp)) != 0 {
		t.Errorf("service principal %q, consented %v although the secret was refused", sp, st.consented(sp))
	}
	// A per-app policy on an existing app: roger365 set up while the tenant
	// allows secrets, then its own policy forbids them.
	sandboxtest.DefaultAppManagementPolicy(t, tt.sb, "", `{"isEnabled": false}`)
	res, _ = tt.setup(0, "--profile", "roger365")
	appID = str(res, "clientId")
	st = tt.state()
	app := st.Applications[st.app(t, appID)]
	sandboxtest.AppManagementPolicy(t, tt.sb, app.ID, `{"displayName": "No secrets for ROGER365", "description": "security team", "isEnabled": true,
		"restrictions": {"passwordCredentials": [{"restrictionType": "passwordAddition", "maxLifetime": null, "restrictForAppsCreatedAfterDateTime": null}]}}`)
	userID, _ := sandboxtest.User(t, tt.sb, sandbox.UserSpec{Name: "alex"})
	_, r = tt.setup(1, "--profile", "roger365", "--new-credential", "--owner", userID)
	mustContain(t, "stderr", r.stderr, "the tenant's app management policy does not allow client secrets on this app", "owner")
	after := tt.state().Applications[st.app(t, appID)]
	if len(after.PasswordCredentials) != len(app.PasswordCredentials) || slices.Contains(after.Owners, userID) {
		t.Errorf("half done: secrets %d → %d, owners %v", len(app.PasswordCredentials), len(after.PasswordCredentials), after.Owners)
	}
}

// TestSetupPortalApp: every service principal entra-link creates carries
// the portal's tag and the app its notes, service management reference and
// owners; an existing app made without them gets them on its next run
// (planned, then verified).
func TestSetupPortalApp(t *testing.T) {
	tt := newTenant(t)
	policyReader(t, tt)
	alexID, alex := sandboxtest.User(t, tt.sb, sandbox.UserSpec{Name: "alex"})
	res, _ := tt.setup(0, "--profile", "roger365", "--service-management-reference", "SNOW-4711", "--owner", alex)
	st := tt.state()
	app := st.Applications[st.app(t, str(res, "clientId"))]
	if !strings.HasPrefix(app.Notes, "Set up by entra-link ") || !strings.Contains(app.Notes, "for ROGER365.io (profile roger365)") || !strings.Contains(app.Notes, " by the app provisioning.") {
		t.Errorf("notes %q", app.Notes)
	}
	if app.ServiceManagementReference != "SNOW-4711" || !slices.Contains(app.Owners, alexID) {
		t.Errorf("reference %q owners %v", app.ServiceManagementReference, app.Owners)
	}
	for _, sp := range st.ServicePrincipals {
		if sp.AppID == app.AppID && !slices.Contains(sp.Tags, setup.PortalTag) {
			t.Errorf("service principal tags %v", sp.Tags)
		}
	}

	// An app made by a script: no notes, a service principal without the tag.
	foreign, _, err := tt.sb.CreatePrincipal(context.Background(), "Legacy sync", []string{"User.Read.All"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := tt.day2(3, "verify", "--app-id", foreign, "--profile", "roger365")
	mustContain(t, "verify", r.stdout, "✗ tag "+setup.PortalTag+" on the enterprise application", "fix: entra-link setup --profile roger365 --app-id "+foreign)
	_, r = tt.setup(0, "--profile", "roger365", "--app-id", foreign)
	mustContain(t, "plan", r.stderr, "update  notes: who set the app up, for what — add: Set up by entra-link", "update  tag "+setup.PortalTag+" on the enterprise application")
	tt.day2(0, "verify", "--app-id", foreign)

	// The privileged apps refuse owners unless asked, before signing in.
	r = tt.run("setup", "--profile", "entitle", "--owner", "me", "--auth", "env", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "--allow-privileged-owners") {
		t.Errorf("entitle --owner: exit %d\n%s", r.code, r.stderr)
	}
	// A user entra-link may not look up by name: words, exit 2.
	tt.env["AZURE_CLIENT_ID"], tt.env["AZURE_CLIENT_SECRET"] = tt.sb.Tenant().ClientID, tt.sb.Tenant().ClientSecret
	_, r = tt.setup(2, "--profile", "roger365", "--owner", "nobody@"+tt.sb.Tenant().TenantDomain)
	mustContain(t, "stderr", r.stderr, "--owner nobody@")
}

// TestSetupExchangeOnTheDoDCloud: Hire2Retire with Exchange Online in the
// US Government L5 (DoD) cloud — the generated certificate gets an
// Exchange Online token for the DoD audience (cloud.USGovDoD's, sourced in
// the cloud package; the sandbox's own fixture names the same host) with
// Exchange.ManageAsApp in it.
func TestSetupExchangeOnTheDoDCloud(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", dir, "--with", "exchange", "--cloud", "usgov-dod")
	pemData, err := os.ReadFile(str(res, "certificateBundlePath"))
	if err != nil {
		t.Fatal(err)
	}
	certsIn, key, err := azidentity.ParseCertificates(pemData, nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := azidentity.NewClientCertificateCredential(tt.sb.Tenant().TenantID, str(res, "clientId"), certsIn, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: policy.ClientOptions{
			Transport: &http.Client{Transport: tt.sb.Transport()},
			Cloud:     azcloud.Configuration{ActiveDirectoryAuthorityHost: cloud.USGovDoD.AuthorityHost + "/"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{cloud.USGovDoD.ExchangeScope()}})
	if err != nil {
		t.Fatalf("Exchange Online token in the DoD cloud: %v", err)
	}
	claims := jwtClaims(t, tok.Token)
	if aud, _ := claims["aud"].(string); strings.TrimSuffix(aud, "/") != "https://outlook-dod.office365.us" {
		t.Errorf("aud %q", aud)
	}
	roles, _ := claims["roles"].([]any)
	if !slices.Contains(roles, any("Exchange.ManageAsApp")) {
		t.Errorf("roles %v", roles)
	}
}

func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatal("not a JWT")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
