package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	azcloud "github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// tenantClient signs in as the bootstrap admin to one tenant of the sandbox.
func tenantClient(t *testing.T, s *sandbox.Server, tenantID string) *client {
	t.Helper()
	info := s.Tenant()
	c := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0"}
	status, body := c.tokenRequest("https://login.microsoftonline.com/"+tenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {info.ClientID}, "client_secret": {info.ClientSecret},
		"scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 {
		t.Fatalf("token for tenant %s: %d %v", tenantID, status, body)
	}
	c.token = body["access_token"].(string)
	if tid := claimsOf(t, c.token)["tid"]; tid != tenantID {
		t.Fatalf("token for %s carries tid %v", tenantID, tid)
	}
	return c
}

// TestSeveralTenants: one sandbox serves several tenants; the token
// endpoint routes by the tenant in its path, Graph by the token's tid, and
// the multi-tenant bootstrap admin is a Global Administrator in each.
func TestSeveralTenants(t *testing.T) {
	dir := t.TempDir()
	s := sandboxtest.New(t, sandboxtest.StateDir(dir), sandboxtest.Tenants("Fabrikam"))
	tenants := s.Tenants()
	if len(tenants) != 2 || tenants[1].DisplayName != "Fabrikam" || tenants[1].ClientID != tenants[0].ClientID || tenants[1].TenantID == tenants[0].TenantID {
		t.Fatalf("tenants: %+v", tenants)
	}
	home, fab := tenants[0], tenants[1]
	// tenant.json keeps its fields and lists the other tenants.
	var tj struct {
		sandbox.TenantInfo
	}
	raw, err := os.ReadFile(filepath.Join(dir, "tenant.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &tj); err != nil {
		t.Fatal(err)
	}
	if tj.TenantID != home.TenantID || tj.ClientSecret == "" || len(tj.Tenants) != 1 || tj.Tenants[0].TenantID != fab.TenantID || tj.Tenants[0].TenantDomain != fab.TenantDomain {
		t.Errorf("tenant.json: %s", raw)
	}

	hc := tenantClient(t, s, home.TenantID)
	fc := tenantClient(t, s, fab.TenantID)
	for _, tc := range []struct {
		c    *client
		want sandbox.TenantInfo
	}{{hc, home}, {fc, fab}} {
		org := validateCollection(t, "organization", tc.c.do("GET", "/organization", nil).must(t, 200))
		if len(org) != 1 || org[0]["id"] != tc.want.TenantID || org[0]["displayName"] != tc.want.DisplayName {
			t.Errorf("organization for %s: %v", tc.want.TenantID, org)
		}
	}
	// The bootstrap admin's service principal in Fabrikam belongs to the
	// home tenant's (multi-tenant) application.
	bsp := fc.do("GET", "/servicePrincipals(appId='"+home.ClientID+"')", nil).must(t, 200)
	if bsp["appOwnerOrganizationId"] != home.TenantID || bsp["signInAudience"] != "AzureADMultipleOrgs" {
		t.Errorf("bootstrap SP in Fabrikam: %v", bsp)
	}
	fc.do("GET", "/applications(appId='"+home.ClientID+"')", nil).wantError(t, 404, "Request_ResourceNotFound", home.ClientID)
	// Objects stay in their tenant.
	app := fc.do("POST", "/applications", map[string]any{"displayName": "fabrikam only", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	if app["publisherDomain"] != fab.TenantDomain {
		t.Errorf("publisherDomain %v", app["publisherDomain"])
	}
	if n := len(validateCollection(t, "application", hc.do("GET", "/applications?$filter=displayName eq 'fabrikam only'", nil).must(t, 200))); n != 0 {
		t.Errorf("Fabrikam's application is visible in the home tenant")
	}
	hc.do("GET", "/applications/"+app["id"].(string), nil).wantError(t, 404, "Request_ResourceNotFound", app["id"].(string))
	// Its admin role works there: directory roles and consent.
	sp := fc.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]}).must(t, 201)
	fc.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": sp["id"], "directoryScopeId": "/"}).must(t, 201)
	// An app of a single tenant does not sign in to the other.
	secret := fc.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).must(t, 200)["secretText"].(string)
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	status, body := c.tokenRequest("https://login.microsoftonline.com/"+home.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app["appId"].(string)}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}})
	stsError(t, status, body, 400, "unauthorized_client", 700016)
	status, _ = c.tokenRequest("https://login.microsoftonline.com/"+fab.TenantDomain+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app["appId"].(string)}, "client_secret": {secret}, "scope": {"https://graph.microsoft.com/.default"}})
	if status != 200 {
		t.Errorf("token from Fabrikam's endpoint named by domain: %d", status)
	}

	// azidentity, as --auth env uses it with AZURE_TENANT_ID set to the
	// other tenant.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cred, err := azidentity.NewClientSecretCredential(fab.TenantID, fab.ClientID, fab.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions(sandboxtest.Client(s), azcloud.AzurePublic)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}})
	if err != nil {
		t.Fatalf("azidentity for Fabrikam: %v", err)
	}
	if claimsOf(t, tok.Token)["tid"] != fab.TenantID {
		t.Errorf("azidentity token for the wrong tenant")
	}

	// Users sign in to their own tenant.
	if err := s.SignInAs("admin@" + fab.TenantDomain); err != nil {
		t.Fatal(err)
	}
	dc := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	base := "https://login.microsoftonline.com/" + fab.TenantID + "/oauth2/v2.0/"
	_, code := dc.tokenRequest(base+"devicecode", url.Values{"client_id": {graphCLIClientID}, "scope": {"https://graph.microsoft.com/User.Read"}})
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {graphCLIClientID}, "device_code": {code["device_code"].(string)}}
	dc.tokenRequest(base+"token", poll)
	status, body = dc.tokenRequest(base+"token", poll)
	if status != 200 || claimsOf(t, body["access_token"].(string))["tid"] != fab.TenantID || claimsOf(t, body["access_token"].(string))["upn"] != "admin@"+fab.TenantDomain {
		t.Errorf("device code in Fabrikam: %d %v", status, body)
	}

	// A tenant added at run time through the administration API.
	resp := adminPost(t, s, "/_sandbox/tenants", map[string]any{"displayName": "Northwind", "verifiedDomains": []string{"northwind.example"}})
	if resp["tenantId"] == nil || resp["clientSecret"] != nil {
		t.Fatalf("POST /_sandbox/tenants: %v", resp)
	}
	nw := tenantClient(t, s, resp["tenantId"].(string))
	org := validateCollection(t, "organization", nw.do("GET", "/organization", nil).must(t, 200))
	if len(org[0]["verifiedDomains"].([]any)) < 2 {
		t.Errorf("Northwind's domains: %v", org[0]["verifiedDomains"])
	}
	if _, err := s.AddTenant(context.Background(), sandbox.TenantSpec{DisplayName: "northwind"}); err == nil {
		t.Errorf("two tenants of one name")
	}
	var st struct {
		Tenant  map[string]any   `json:"tenant"`
		Tenants []map[string]any `json:"tenants"`
	}
	readState(t, s, &st)
	if st.Tenant["id"] != home.TenantID || len(st.Tenants) != 2 {
		t.Errorf("state view: %v / %d further tenants", st.Tenant, len(st.Tenants))
	}

	// Everything survives a restart.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := sandbox.Start(context.Background(), sandbox.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := len(s2.Tenants()); n != 3 {
		t.Fatalf("%d tenants after restart", n)
	}
	fc2 := tenantClient(t, s2, fab.TenantID)
	fc2.do("GET", "/applications/"+app["id"].(string), nil).must(t, 200)
	validateCollection(t, "application", tenantClient(t, s2, resp["tenantId"].(string)).do("GET", "/applications", nil).must(t, 200))
}

// adminPost posts JSON to the sandbox's administration API.
func adminPost(t *testing.T, s *sandbox.Server, path string, body any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := sandboxtest.Client(s).Post(s.URL()+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("POST %s: %s", path, b)
	}
	return out
}
