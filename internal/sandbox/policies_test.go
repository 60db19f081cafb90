package sandbox_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

const defaultPolicy = "00000000-0000-0000-0000-000000000000"

// policyAdmin is an application that may read and write app management
// policies and manage applications.
func policyAdmin(t *testing.T, s *sandbox.Server) *client {
	t.Helper()
	id, secret := createPrincipal(t, s, "policy admin", []string{"Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration", "Application.ReadWrite.All", "Application.Read.All"}, nil)
	return appClient(t, s, id, secret)
}

func days(n int) time.Time { return time.Now().UTC().Add(time.Duration(n) * 24 * time.Hour) }

func addPasswordBody(end time.Time) map[string]any {
	return map[string]any{"passwordCredential": map[string]any{"displayName": "policy test", "endDateTime": end.Format(time.RFC3339)}}
}

// TestDefaultAppManagementPolicy follows tenantappmanagementpolicy-get and
// -update and the errors of endpoints.md §11.2.
func TestDefaultAppManagementPolicy(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	pa := policyAdmin(t, s)

	// The bootstrap admin lacks Policy.Read.All.
	admin.do("GET", "/policies/defaultAppManagementPolicy", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	got := pa.do("GET", "/policies/defaultAppManagementPolicy", nil).must(t, 200)
	var want map[string]any
	if err := json.Unmarshal([]byte(`{
	  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/defaultAppManagementPolicy/$entity",
	  "id": "00000000-0000-0000-0000-000000000000",
	  "displayName": "Default app management tenant policy",
	  "description": "Default tenant policy that enforces app management restrictions on applications and service principals. To apply policy to targeted resources, create a new policy under appManagementPolicies collection.",
	  "isEnabled": false,
	  "applicationRestrictions": {"passwordCredentials": [], "keyCredentials": []},
	  "servicePrincipalRestrictions": {"passwordCredentials": [], "keyCredentials": []}
	}`), &want); err != nil {
		t.Fatal(err)
	}
	delete(want, "@odata.context")
	subsetEqual(t, "defaultAppManagementPolicy", want, got)

	// Writing needs Policy.ReadWrite.ApplicationConfiguration.
	admin.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"isEnabled": true}).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	app := pa.do("POST", "/applications", map[string]any{"displayName": "policy target", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	appObj := app["id"].(string)
	// A secret added before the policy keeps working after it.
	old := pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(700))).must(t, 200)
	pa.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]}).must(t, 201)

	pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{
		"isEnabled": true,
		"applicationRestrictions": map[string]any{"passwordCredentials": []any{
			map[string]any{"restrictionType": "passwordLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": "2017-01-01T10:37:00Z"},
		}},
	}).must(t, 204)
	got = pa.do("GET", "/policies/defaultAppManagementPolicy", nil).must(t, 200)
	if got["isEnabled"] != true || len(got["applicationRestrictions"].(map[string]any)["passwordCredentials"].([]any)) != 1 {
		t.Errorf("after PATCH: %v", got)
	}

	// addPassword's default lifetime (two years) exceeds 90 days.
	pa.do("POST", "/applications/"+appObj+"/addPassword", map[string]any{}).
		wantError(t, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "Credential lifetime exceeds the max value allowed as per assigned policy '"+defaultPolicy+"'")
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(91))).
		wantError(t, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "Credential lifetime exceeds the max value allowed as per assigned policy")
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(89))).must(t, 200)
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	status, body := c.tokenRequest(s.URL()+"/"+s.Tenant().TenantID+"/oauth2/v2.0/token", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app["appId"].(string)}, "client_secret": {old["secretText"].(string)}, "scope": {s.URL() + "/.default"}})
	if status != 200 {
		t.Errorf("a secret older than the policy stopped working: %d %v", status, body)
	}

	// passwordAddition for applications created after a date in the
	// future spares this one; moved into the past it applies.
	restrict := func(since string, state any) {
		pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"applicationRestrictions": map[string]any{"passwordCredentials": []any{
			map[string]any{"restrictionType": "passwordAddition", "maxLifetime": nil, "restrictForAppsCreatedAfterDateTime": since, "state": state},
			map[string]any{"restrictionType": "customPasswordAddition", "maxLifetime": nil, "restrictForAppsCreatedAfterDateTime": since, "state": state},
		}}}).must(t, 204)
	}
	restrict(days(30).Format(time.RFC3339), nil)
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(700))).must(t, 200)
	restrict("2015-01-01T10:37:00Z", "disabled")
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(700))).must(t, 200)
	restrict("2015-01-01T10:37:00Z", "enabled")
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(10))).
		wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", "Credential type not allowed as per assigned policy '"+defaultPolicy+"'")
	restrict("2015-01-01T10:37:00Z", nil)
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(10))).
		wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", "Credential type not allowed as per assigned policy")
	// A disabled policy restricts nothing.
	pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"isEnabled": false}).must(t, 204)
	pa.do("POST", "/applications/"+appObj+"/addPassword", addPasswordBody(days(700))).must(t, 200)

	// Bodies are checked against the policy types and rules.
	bad := []struct {
		name, code, msg string
		body            map[string]any
	}{
		{"unknown restriction", "Request_BadRequest", "Requested value 'passwordForever' was not found.", map[string]any{"applicationRestrictions": map[string]any{"passwordCredentials": []any{map[string]any{"restrictionType": "passwordForever"}}}}},
		{"lifetime without maxLifetime", "Request_BadRequest", "maxLifetime", map[string]any{"applicationRestrictions": map[string]any{"passwordCredentials": []any{map[string]any{"restrictionType": "passwordLifetime", "maxLifetime": nil}}}}},
		{"not a duration", "Request_BadRequest", "Cannot convert the literal '90 days' to the expected type 'Edm.Duration'.", map[string]any{"applicationRestrictions": map[string]any{"passwordCredentials": []any{map[string]any{"restrictionType": "passwordLifetime", "maxLifetime": "90 days"}}}}},
		{"twice the same restriction", "Request_BadRequest", "restrictionType", map[string]any{"applicationRestrictions": map[string]any{"keyCredentials": []any{
			map[string]any{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P30D"}, map[string]any{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P60D"}}}}},
		{"read-only id", "Request_BadRequest", "'id' is read-only", map[string]any{"id": "x"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			pa.do("PATCH", "/policies/defaultAppManagementPolicy", tc.body).wantError(t, 400, tc.code, tc.msg)
		})
	}
}

// TestCertificateLifetimePolicy: asymmetricKeyLifetime limits certificates
// added by PATCH keyCredentials and by addKey.
func TestCertificateLifetimePolicy(t *testing.T) {
	s := newSandbox(t)
	pa := policyAdmin(t, s)
	app := pa.do("POST", "/applications", map[string]any{"displayName": "certs", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	appObj := app["id"].(string)
	now := time.Now()
	keyShort, short := selfSignedCert(t, "short", now.Add(-time.Hour), now.Add(20*24*time.Hour))
	_, long := selfSignedCert(t, "long", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	kc := func(der []byte) map[string]any {
		return map[string]any{"type": "AsymmetricX509Cert", "usage": "Verify", "key": base64.StdEncoding.EncodeToString(der)}
	}
	if err := s.SetDefaultAppManagementPolicy(context.Background(), "", []byte(`{"isEnabled": true, "applicationRestrictions": {"keyCredentials": [
		{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P30D", "restrictForAppsCreatedAfterDateTime": "2015-01-01T10:37:00Z"}]}}`)); err != nil {
		t.Fatal(err)
	}
	pa.do("PATCH", "/applications/"+appObj, map[string]any{"keyCredentials": []any{kc(long.Raw)}}).
		wantError(t, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "Credential lifetime exceeds the max value allowed as per assigned policy")
	// A shorter endDateTime than the certificate's brings it within.
	shortened := kc(long.Raw)
	shortened["endDateTime"] = now.Add(29 * 24 * time.Hour).UTC().Format(time.RFC3339)
	pa.do("PATCH", "/applications/"+appObj, map[string]any{"keyCredentials": []any{kc(short.Raw), shortened}}).must(t, 204)
	// addKey, proven with the short certificate, is held to the same limit.
	proof := func(k *rsa.PrivateKey) string {
		return signJWT(t, k, "RS256", nil, map[string]any{"aud": "00000002-0000-0000-c000-000000000000", "iss": appObj, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	}
	_, long2 := selfSignedCert(t, "long2", now.Add(-time.Hour), now.Add(365*24*time.Hour))
	pa.do("POST", "/applications/"+appObj+"/addKey", map[string]any{"keyCredential": kc(long2.Raw), "passwordCredential": nil, "proof": proof(keyShort)}).
		wantError(t, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "Credential lifetime exceeds the max value allowed as per assigned policy")
	// Existing certificates pass through a PATCH that keeps them.
	sel := pa.do("GET", "/applications/"+appObj+"?$select=keyCredentials", nil).must(t, 200)
	pa.do("PATCH", "/applications/"+appObj, map[string]any{"keyCredentials": sel["keyCredentials"]}).must(t, 204)
}

// TestPerAppPolicy: an appManagementPolicy assigned to an application
// replaces the tenant default for it.
func TestPerAppPolicy(t *testing.T) {
	s := newSandbox(t)
	pa := policyAdmin(t, s)
	strict := pa.do("POST", "/applications", map[string]any{"displayName": "strict", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	loose := pa.do("POST", "/applications", map[string]any{"displayName": "loose", "signInAudience": "AzureADMyOrg"}).must(t, 201)

	policy := pa.do("POST", "/policies/appManagementPolicies", map[string]any{
		"displayName": "Credential management policy", "description": "Cred policy sample", "isEnabled": true,
		"restrictions": map[string]any{"passwordCredentials": []any{
			map[string]any{"restrictionType": "passwordAddition", "maxLifetime": nil, "restrictForAppsCreatedAfterDateTime": "2019-10-19T10:37:00Z"},
		}, "keyCredentials": []any{}},
	}).must(t, 201)
	validateEntity(t, "appManagementPolicy", policy)
	pid := policy["id"].(string)
	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/policies/appManagementPolicies/" + pid}
	pa.do("POST", "/applications/"+strict["id"].(string)+"/appManagementPolicies/$ref", ref).must(t, 204)
	listed := validateCollection(t, "appManagementPolicy", pa.do("GET", "/applications/"+strict["id"].(string)+"/appManagementPolicies", nil).must(t, 200))
	if len(listed) != 1 || listed[0]["id"] != pid {
		t.Errorf("app's policies: %v", listed)
	}
	applies := pa.do("GET", "/policies/appManagementPolicies/"+pid+"/appliesTo", nil).must(t, 200)["value"].([]any)
	if len(applies) != 1 || applies[0].(map[string]any)["id"] != strict["id"] {
		t.Errorf("appliesTo: %v", applies)
	}
	pa.do("POST", "/applications/"+strict["id"].(string)+"/addPassword", nil).
		wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", "Credential type not allowed as per assigned policy '"+pid+"'")
	pa.do("POST", "/applications/"+loose["id"].(string)+"/addPassword", nil).must(t, 200)

	// "Only one policy object can be assigned to an application."
	other := pa.do("POST", "/policies/appManagementPolicies", map[string]any{"displayName": "other", "description": "allows all", "isEnabled": true,
		"restrictions": map[string]any{"passwordCredentials": []any{}, "keyCredentials": []any{}}}).must(t, 201)
	pa.do("POST", "/applications/"+strict["id"].(string)+"/appManagementPolicies/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/policies/appManagementPolicies/" + other["id"].(string)}).
		wantError(t, 400, "Request_BadRequest", "Only one policy object can be assigned to an application or service principal.")

	// The tenant default forbids secrets; the permissive per-app policy
	// replaces it for "loose".
	pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"isEnabled": true, "applicationRestrictions": map[string]any{"passwordCredentials": []any{
		map[string]any{"restrictionType": "passwordAddition", "maxLifetime": nil}}}}).must(t, 204)
	pa.do("POST", "/applications/"+loose["id"].(string)+"/addPassword", nil).
		wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", "'"+defaultPolicy+"'")
	pa.do("POST", "/applications/"+loose["id"].(string)+"/appManagementPolicies/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/policies/appManagementPolicies/" + other["id"].(string)}).must(t, 204)
	pa.do("POST", "/applications/"+loose["id"].(string)+"/addPassword", nil).must(t, 200)
	// Unassigned, the default applies again.
	pa.do("DELETE", "/applications/"+loose["id"].(string)+"/appManagementPolicies/"+other["id"].(string)+"/$ref", nil).must(t, 204)
	pa.do("POST", "/applications/"+loose["id"].(string)+"/addPassword", nil).
		wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", "'"+defaultPolicy+"'")

	// The Go administration API assigns a policy the same way.
	third := pa.do("POST", "/applications", map[string]any{"displayName": "third", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	id, err := s.AssignAppManagementPolicy(context.Background(), third["id"].(string), []byte(`{"displayName": "lifetime", "description": "30 days",
		"restrictions": {"passwordCredentials": [{"restrictionType": "passwordLifetime", "maxLifetime": "P30D"}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	pa.do("POST", "/applications/"+third["id"].(string)+"/addPassword", addPasswordBody(days(45))).
		wantError(t, 400, "CredentialInvalidLifetimeAsPerAppPolicy", "'"+id+"'")
	pa.do("POST", "/applications/"+third["id"].(string)+"/addPassword", addPasswordBody(days(25))).must(t, 200)

	// List and update.
	all := validateCollection(t, "appManagementPolicy", pa.do("GET", "/policies/appManagementPolicies", nil).must(t, 200))
	if len(all) != 3 {
		t.Errorf("%d policies listed, want 3", len(all))
	}
	pa.do("PATCH", "/policies/appManagementPolicies/"+id, map[string]any{"isEnabled": false}).must(t, 204)
	pa.do("POST", "/applications/"+third["id"].(string)+"/addPassword", addPasswordBody(days(45))).
		wantError(t, 400, "CredentialTypeNotAllowedAsPerAppPolicy", "'"+defaultPolicy+"'") // disabled: the default applies
	pa.do("PATCH", "/policies/appManagementPolicies/"+id, map[string]any{"restrictions": map[string]any{"passwordCredentials": []any{
		map[string]any{"restrictionType": "passwordLifetime"}}}}).wantError(t, 400, "Request_BadRequest", "maxLifetime")

	// Assigning needs Policy.ReadWrite.ApplicationConfiguration too.
	admin := adminClient(t, s)
	admin.do("POST", "/applications/"+third["id"].(string)+"/appManagementPolicies/$ref", ref).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	pa.do("POST", "/policies/appManagementPolicies", map[string]any{"displayName": "no description"}).
		wantError(t, 400, "Request_BadRequest", "description")
	pa.do("DELETE", "/policies/appManagementPolicies/"+pid, nil).must(t, 204)
	pa.do("GET", "/policies/appManagementPolicies/"+pid, nil).wantError(t, 404, "Request_ResourceNotFound", pid)
}

// TestIdentifierURIPolicy: identifierUriConfiguration, with the messages of
// Entra's "Restrictions on identifier URIs" page.
func TestIdentifierURIPolicy(t *testing.T) {
	s := newSandbox(t)
	pa := policyAdmin(t, s)
	tid := s.Tenant().TenantID
	v1 := pa.do("POST", "/applications", map[string]any{"displayName": "v1 api", "signInAudience": "AzureADMyOrg", "identifierUris": []string{"api://legacy-name"}}).must(t, 201)
	if api := v1["api"].(map[string]any); api["requestedAccessTokenVersion"] != nil {
		t.Errorf("a single-tenant application asks for v1 tokens unless told otherwise: %v", api["requestedAccessTokenVersion"])
	}
	v1Obj, v1AppID := v1["id"].(string), v1["appId"].(string)
	pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"isEnabled": true, "applicationRestrictions": map[string]any{
		"identifierUris": map[string]any{"uriAdditionWithoutUniqueTenantIdentifier": map[string]any{"state": "enabled", "restrictForAppsCreatedAfterDateTime": nil}}}}).must(t, 204)

	pa.do("PATCH", "/applications/"+v1Obj, map[string]any{"identifierUris": []string{"api://legacy-name", "api://other-name"}}).
		wantError(t, 400, "InvalidUniqueTenantIdentifierAsPerAppPolicy",
			"Failed to add identifier URI api://other-name. All newly added URIs must contain a tenant verified domain, tenant ID, or app ID, as per the default tenant policy of your organization.")
	// Existing URIs are not checked; URIs with the tenant id, the app id or
	// a verified domain are accepted.
	pa.do("PATCH", "/applications/"+v1Obj, map[string]any{"identifierUris": []string{"api://legacy-name", "api://" + tid + "/orders", "api://orders/" + v1AppID,
		"https://" + s.Tenant().TenantDomain + "/orders", "api://contoso.com/orders"}}).must(t, 204)
	pa.do("POST", "/applications", map[string]any{"displayName": "refused", "signInAudience": "AzureADMyOrg", "identifierUris": []string{"api://refused"}}).
		wantError(t, 400, "InvalidUniqueTenantIdentifierAsPerAppPolicy", "Failed to add identifier URI api://refused.")
	if n := len(validateCollection(t, "application", pa.do("GET", "/applications?$filter=displayName eq 'refused'", nil).must(t, 200))); n != 0 {
		t.Errorf("a refused create left %d applications", n)
	}
	// Applications receiving v2 tokens are exempt by default …
	v2 := pa.do("POST", "/applications", map[string]any{"displayName": "v2 api", "signInAudience": "AzureADMyOrg", "api": map[string]any{"requestedAccessTokenVersion": 2},
		"identifierUris": []string{"api://v2-name"}}).must(t, 201)
	// … unless the restriction says excludeAppsReceivingV2Tokens false.
	pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"applicationRestrictions": map[string]any{
		"identifierUris": map[string]any{"uriAdditionWithoutUniqueTenantIdentifier": map[string]any{"excludeAppsReceivingV2Tokens": false}}}}).must(t, 204)
	pa.do("PATCH", "/applications/"+v2["id"].(string), map[string]any{"identifierUris": []string{"api://v2-name", "api://v2-other"}}).
		wantError(t, 400, "InvalidUniqueTenantIdentifierAsPerAppPolicy", "api://v2-other")

	// nonDefaultUriAddition allows only api://{appId} and api://{tenantId}/{appId}.
	pa.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"applicationRestrictions": map[string]any{
		"identifierUris": map[string]any{"nonDefaultUriAddition": map[string]any{"state": "enabled"}, "uriAdditionWithoutUniqueTenantIdentifier": nil}}}).must(t, 204)
	fresh := pa.do("POST", "/applications", map[string]any{"displayName": "strict", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	pa.do("PATCH", "/applications/"+fresh["id"].(string), map[string]any{"identifierUris": []string{"api://" + tid + "/strict"}}).
		wantError(t, 400, "Request_BadRequest", "The newly added URI api://"+tid+"/strict must comply with the format 'api://{appId}' or 'api://{tenantId}/{appId}' as per the default app management policy of your organization.")
	pa.do("PATCH", "/applications/"+fresh["id"].(string), map[string]any{"identifierUris": []string{"api://" + fresh["appId"].(string), "api://" + tid + "/" + fresh["appId"].(string)}}).must(t, 204)
}

// TestPolicyDelegatedRoles: besides the scopes, a user needs a role that
// may read policies (at least Global Reader), Security Administrator to
// change the tenant default and an application administrator role for
// per-app policies.
func TestPolicyDelegatedRoles(t *testing.T) {
	s := newSandbox(t)
	consentForAll(t, s, graphCLIClientID, "Policy.Read.All", "Policy.ReadWrite.ApplicationConfiguration")
	scopes := "https://graph.microsoft.com/Policy.Read.All https://graph.microsoft.com/Policy.ReadWrite.ApplicationConfiguration"
	policy := map[string]any{"displayName": "p", "description": "d", "restrictions": map[string]any{"passwordCredentials": []any{}, "keyCredentials": []any{}}}
	cases := []struct {
		user, role                       string
		read, writeDefault, createCustom int
	}{
		{"plain", "", 403, 403, 403},
		{"reader", "Global Reader", 200, 403, 403},
		{"secadmin", "Security Administrator", 200, 204, 403},
		{"appadmin", "Application Administrator", 403, 403, 201},
		{"global", "Global Administrator", 200, 204, 201},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			var roles []string
			if tc.role != "" {
				roles = []string{tc.role}
			}
			if _, _, err := s.CreateUser(context.Background(), tc.user, roles); err != nil {
				t.Fatal(err)
			}
			u := userClient(t, s, tc.user, graphCLIClientID, scopes)
			check := func(r response, want int) {
				t.Helper()
				if want == 403 {
					r.wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
				} else {
					r.must(t, want)
				}
			}
			check(u.do("GET", "/policies/defaultAppManagementPolicy", nil), tc.read)
			check(u.do("PATCH", "/policies/defaultAppManagementPolicy", map[string]any{"isEnabled": false}), tc.writeDefault)
			check(u.do("POST", "/policies/appManagementPolicies", policy), tc.createCustom)
		})
	}
}

// TestServiceManagementReferenceRequired: tenants may require
// serviceManagementReference on new applications.
func TestServiceManagementReferenceRequired(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	before := admin.do("POST", "/applications", map[string]any{"displayName": "before", "notes": "set up by a test"}).must(t, 201)
	if before["notes"] != "set up by a test" {
		t.Errorf("notes: %v", before["notes"])
	}
	if err := s.SetRequireServiceManagementReference(context.Background(), "", true); err != nil {
		t.Fatal(err)
	}
	admin.do("POST", "/applications", map[string]any{"displayName": "without"}).
		wantError(t, 400, "ServiceTreeValueMissing", "ServiceManagementReference field is required for Create, but is missing in the request.")
	admin.do("PATCH", "/applications(uniqueName='without')", map[string]any{"displayName": "without"}, "Prefer", createIfMissing).
		wantError(t, 400, "ServiceTreeValueMissing", "ServiceManagementReference field is required for Create")
	with := admin.do("POST", "/applications", map[string]any{"displayName": "with", "serviceManagementReference": "4a4ccc52-a0ae-4e0d-9bd9-0d2c5b1c7c4b"}).must(t, 201)
	if with["serviceManagementReference"] != "4a4ccc52-a0ae-4e0d-9bd9-0d2c5b1c7c4b" {
		t.Errorf("serviceManagementReference: %v", with["serviceManagementReference"])
	}
	// Only creation requires it.
	admin.do("PATCH", "/applications/"+before["id"].(string), map[string]any{"displayName": "renamed"}).must(t, 204)
	admin.do("PATCH", "/applications/"+before["id"].(string), map[string]any{"notes": string(make([]byte, 1025))}).
		wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'notes' of resource 'Application'.")
}
