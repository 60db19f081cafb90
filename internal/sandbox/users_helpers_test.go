package sandbox_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// consentForAll grants a client tenant-wide (AllPrincipals) consent to
// Microsoft Graph scopes, as an administrator would, so that users without
// an admin role can sign in to it.
func consentForAll(t *testing.T, s *sandbox.Server, clientID string, scopes ...string) {
	t.Helper()
	admin := adminClient(t, s)
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	r := admin.do("GET", "/servicePrincipals(appId='"+clientID+"')?$select=id", nil)
	if r.status == 404 {
		r = admin.do("POST", "/servicePrincipals", map[string]any{"appId": clientID})
	}
	client := r.body
	if client["id"] == nil {
		t.Fatalf("client service principal: %s", r.raw)
	}
	grants := validateCollection(t, "oAuth2PermissionGrant", admin.do("GET", "/oauth2PermissionGrants?$filter=clientId eq '"+client["id"].(string)+"'", nil).must(t, 200))
	for _, g := range grants {
		if g["consentType"] == "AllPrincipals" && g["resourceId"] == graph["id"] {
			admin.do("PATCH", "/oauth2PermissionGrants/"+g["id"].(string), map[string]any{"scope": g["scope"].(string) + " " + strings.Join(scopes, " ")}).must(t, 204)
			return
		}
	}
	admin.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": client["id"], "consentType": "AllPrincipals",
		"resourceId": graph["id"], "scope": strings.Join(scopes, " ")}).must(t, 201)
}

// userClient signs in as <name>@<domain of the home tenant> through the
// device-code flow of clientID and returns a Graph client with the token.
func userClient(t *testing.T, s *sandbox.Server, name, clientID, scopes string) *client {
	t.Helper()
	if err := s.SignInAs(name + "@" + s.Tenant().TenantDomain); err != nil {
		t.Fatal(err)
	}
	status, body := deviceCodeToken(t, s, clientID, scopes)
	if status != 200 {
		t.Fatalf("device-code sign-in as %s: %d %v", name, status, body)
	}
	rt, _ := body["refresh_token"].(string)
	return &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: body["access_token"].(string), refresh: rt}
}

// readState decodes /_sandbox/state into v.
func readState(t *testing.T, s *sandbox.Server, v any) {
	t.Helper()
	resp, err := sandboxtest.Client(s).Get(s.URL() + "/_sandbox/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/_sandbox/state: %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
