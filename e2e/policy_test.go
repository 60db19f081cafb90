package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// admin posts to the sandbox's administration API and fails the test on
// anything but success.
func (tn *tenant) adminPost(path string, body, out any) {
	tn.t.Helper()
	if code := tn.call("POST", "/_sandbox/"+path, body, out); code != http.StatusOK && code != http.StatusCreated {
		tn.t.Fatalf("POST /_sandbox/%s: %d", path, code)
	}
}

// TestNetnsTenantPolicy: the real binary against a tenant that restricts
// app credentials. An automation identity that may read the policy
// (Policy.Read.All) gets a secret shortened to the policy's 90 days, and
// one asked for longer is refused before any write; the bootstrap admin,
// which may not read it, gets Graph's refusal in words, with nothing
// consented to the app.
func TestNetnsTenantPolicy(t *testing.T) {
	tn := startTenant(t)
	var reader struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	tn.adminPost("principals", map[string]any{"name": "provisioning", "graphAppRoles": []string{
		"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "RoleManagement.ReadWrite.Directory", "Organization.Read.All", "Policy.Read.All"}}, &reader)
	asReader := map[string]string{"AZURE_CLIENT_ID": reader.ClientID, "AZURE_CLIENT_SECRET": reader.ClientSecret}
	tn.adminPost("app-management-policy", map[string]any{"policy": map[string]any{"isEnabled": true, "applicationRestrictions": map[string]any{
		"passwordCredentials": []any{map[string]any{"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": nil}}}}}, nil)

	n := len(tn.requests())
	r := tn.must(2, asReader, "setup", "--profile", "roger365", "--secret-expiry", "1y", "--auth", "env", "--yes")
	mustContain(t, "stderr", r.stderr, "--secret-expiry 1y", "at most 90 days")
	if w := tn.writesSince(n); len(w) != 0 {
		t.Errorf("wrote before refusing: %v", w)
	}
	r = tn.must(0, asReader, "setup", "--profile", "roger365", "--auth", "env", "--yes", "--output", "json")
	j := decodeJSON(t, r)
	exp, err := time.Parse(time.RFC3339, str(j, "clientSecretExpiresAt"))
	if err != nil || exp.After(time.Now().AddDate(0, 0, 90)) {
		t.Errorf("secret expires %s (%v), want within the policy's 90 days", str(j, "clientSecretExpiresAt"), err)
	}
	mustContain(t, "plan", r.stderr, "shortened from 1 year")
	tn.proveSecret(str(j, "clientId"), str(j, "clientSecret"))

	tn.adminPost("app-management-policy", map[string]any{"policy": map[string]any{"applicationRestrictions": map[string]any{
		"passwordCredentials": []any{map[string]any{"restrictionType": "passwordAddition", "maxLifetime": nil, "restrictForAppsCreatedAfterDateTime": nil}}}}}, nil)
	r = tn.must(1, nil, "setup", "--profile", "entitle", "--auth", "env", "--yes", "--output", "json")
	mustContain(t, "stderr", r.stderr, "could not be read", "does not allow client secrets on this app", "Entitle signs in only with a client secret")
	j = decodeJSON(t, r)
	st := tn.state()
	for _, sp := range st.ServicePrincipals {
		for _, a := range st.AppRoleAssignments {
			if sp.AppID == str(j, "clientId") && a.PrincipalID == sp.ID {
				t.Errorf("consent %s granted to the app whose secret was refused", a.AppRole)
			}
		}
	}
	if str(j, "clientSecret") != "" || strings.Contains(r.stdout, "Credential type not allowed") {
		t.Errorf("output %s", r.stdout)
	}
}

// TestNetnsEligibleAdmin: an admin signs in with the device code; holding
// Privileged Role Administrator only as eligible in PIM, the run says how
// to activate it (exit 4); once activated, the next run renews the saved
// sign-in's token and finishes.
func TestNetnsEligibleAdmin(t *testing.T) {
	tn := startTenant(t)
	var user struct {
		ID  string `json:"id"`
		UPN string `json:"userPrincipalName"`
	}
	tn.adminPost("users", map[string]any{"name": "pia", "roles": []string{"Application Administrator"}, "eligibleRoles": []string{"Privileged Role Administrator"}}, &user)
	tn.adminPost("sign-in-as", map[string]any{"userPrincipalName": user.UPN}, nil)
	user1 := map[string]string{"AZURE_CLIENT_ID": "", "AZURE_CLIENT_SECRET": ""}
	args := []string{"setup", "--profile", "hire2retire", "--certificate-out", tn.home + "/h2r", "--auth", "device-code", "--tenant", tn.info.TenantID, "--yes", "--output", "json"}
	r := tn.must(4, user1, args...)
	mustContain(t, "stderr", r.stderr, "devicelogin",
		"you are eligible for Privileged Role Administrator: activate it in PIM (https://portal.azure.com/#view/Microsoft_Azure_PIMCommon/ActivationMenuBlade/~/aadmigratedroles) and run again")
	tn.adminPost("activate-role", map[string]any{"principalId": user.ID, "role": "Privileged Role Administrator"}, nil)
	// The saved sign-in's token predates the activation: the run renews it
	// from the refresh token, without a new sign-in, and says so.
	r = tn.must(0, user1, args...)
	if strings.Contains(r.stderr, "you are eligible") || strings.Contains(r.stderr, "devicelogin") {
		t.Errorf("still eligible after activation, or signed in again:\n%s", r.stderr)
	}
	mustContain(t, "stderr", r.stderr, "Using the saved sign-in", "Privileged Role Administrator was activated after you signed in: entra-link got a new token that carries it")
}
