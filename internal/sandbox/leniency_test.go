package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// sendRaw posts a raw body with exactly the Content-Type given ("" sends none).
func (c *client) sendRaw(method, path, contentType string, body []byte) response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func appCount(t *testing.T, c *client) int {
	t.Helper()
	return len(c.do("GET", "/applications?$select=id", nil).must(t, 200)["value"].([]any))
}

// TestWritesNeedJSONContentType: the reference lists "Content-Type:
// application/json (required on bodies)" among Graph's request headers
// (endpoints.md, introduction). A top-level POST, PATCH or $batch whose
// body is not declared JSON is refused — with the answer observed for
// directory entities, 400 BadRequest "Entity only allows writes with a
// JSON Content-Type header." — and changes nothing.
func TestWritesNeedJSONContentType(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "typed"}).must(t, 201)
	before := appCount(t, admin)
	body := []byte(`{"displayName":"untyped"}`)
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
		admin.sendRaw("POST", "/applications", ct, body).wantError(t, 400, "BadRequest", "Entity only allows writes with a JSON Content-Type header.")
		admin.sendRaw("PATCH", "/applications/"+app["id"].(string), ct, body).wantError(t, 400, "BadRequest", "Entity only allows writes with a JSON Content-Type header.")
		admin.sendRaw("POST", "/$batch", ct, []byte(`{"requests":[{"id":"1","method":"GET","url":"/organization"}]}`)).
			wantError(t, 400, "BadRequest", "Entity only allows writes with a JSON Content-Type header.")
	}
	if got := appCount(t, admin); got != before {
		t.Errorf("%d applications after refused writes, want %d", got, before)
	}
	got := admin.do("GET", "/applications/"+app["id"].(string)+"?$select=displayName", nil).must(t, 200)
	if got["displayName"] != "typed" {
		t.Errorf("a refused PATCH changed displayName to %v", got["displayName"])
	}
	// JSON with parameters is JSON; an action without a body needs none.
	admin.sendRaw("POST", "/applications", "application/json; charset=utf-8", body).must(t, 201)
	admin.sendRaw("PATCH", "/applications/"+app["id"].(string), "application/json;odata.metadata=minimal", body).must(t, 204)
	admin.sendRaw("POST", "/applications/"+app["id"].(string)+"/addPassword", "", nil).must(t, 200)
}

// TestODataAnnotationsOnlyWhereGraphAllowsThem: a request body may carry
// @odata.type (the reference's own examples do: endpoints.md §5.1 POSTs
// {"@odata.type": "#microsoft.graph.unifiedRoleAssignment", …} and gets
// 201) and the control information OData's reader ignores in a request
// (@odata.context, @odata.id, @odata.etag); custom annotations of other
// namespaces are ignored. Any other "@odata." key is an unknown property,
// answered as OData answers one.
func TestODataAnnotationsOnlyWhereGraphAllowsThem(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	_, sp := newAppAndSP(t, admin, "annotated")
	// §5.1's body, with a principal and a role template of this tenant.
	admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{
		"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "roleDefinitionId": "fe930be7-5e62-47db-91af-98c3a49a38b1",
		"principalId": sp["id"], "directoryScopeId": "/"}).must(t, 201)
	admin.do("POST", "/applications", map[string]any{"@odata.type": "#microsoft.graph.application", "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
		"displayName": "round-tripped", "tags@odata.type": "#Collection(String)", "tags": []string{"a"}, "@contoso.note": "kept out"}).must(t, 201)

	before := appCount(t, admin)
	// application is an open type: OData's message for an undeclared
	// property of one.
	for key, want := range map[string]string{
		"@odata.nextLink":     "Property '@odata.nextLink' does not exist as a declared property or extension property.",
		"@odata.count":        "Property '@odata.count' does not exist as a declared property or extension property.",
		"owners@odata.bind":   "Property 'owners' does not exist as a declared property or extension property.",
		"tags@odata.bind":     "Property 'tags@odata.bind' does not exist as a declared property or extension property.",
		"notAProp@odata.type": "Property 'notAProp' does not exist as a declared property or extension property.",
	} {
		admin.do("POST", "/applications", map[string]any{"displayName": "x", key: []string{"https://graph.microsoft.com/v1.0/directoryObjects/" + sp["id"].(string)}}).
			wantError(t, 400, "Request_BadRequest", want)
	}
	// Nested objects follow the same rule.
	admin.do("POST", "/applications", map[string]any{"displayName": "x", "web": map[string]any{"@odata.nextLink": "x"}}).
		wantError(t, 400, "Request_BadRequest", "'@odata.nextLink' does not exist on type 'microsoft.graph.webApplication'")
	if got := appCount(t, admin); got != before {
		t.Errorf("%d applications after refused creates, want %d", got, before)
	}
}

// TestIdentifierURISchemes: new identifier URIs must use the default
// api:// scheme or a verified domain, "Otherwise 400 with
// HostNameNotOnVerifiedDomain" (endpoints.md §1.4; §8.2 gives the message
// "Values of identifierUris property must use a verified domain of the
// organization or its subdomain: '{uri}'"). Other schemes get the same
// answer; the app keeps its URIs.
func TestIdentifierURISchemes(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "api"}).must(t, 201)
	id, appID := app["id"].(string), app["appId"].(string)
	ok := []string{"api://" + appID, "api://" + s.Tenant().TenantID + "/" + appID, "https://contoso.com/api", "https://api.contoso.com",
		"https://" + s.Tenant().TenantDomain + "/productsapi"}
	admin.do("PATCH", "/applications/"+id, map[string]any{"identifierUris": ok}).must(t, 204)
	for _, uri := range []string{"urn:contoso:api", "ms-appx://contoso", "ftp://contoso.com/api", "https://fabrikam.example/api", "http://fabrikam.example"} {
		admin.do("PATCH", "/applications/"+id, map[string]any{"identifierUris": append(append([]string{}, ok...), uri)}).
			wantError(t, 400, "HostNameNotOnVerifiedDomain", "Values of identifierUris property must use a verified domain of the organization or its subdomain: '"+uri+"'")
		admin.do("POST", "/applications", map[string]any{"displayName": "y", "identifierUris": []string{uri}}).
			wantError(t, 400, "HostNameNotOnVerifiedDomain", uri)
	}
	got := admin.do("GET", "/applications/"+id+"?$select=identifierUris", nil).must(t, 200)
	if n := len(got["identifierUris"].([]any)); n != len(ok) {
		t.Errorf("identifierUris has %d entries after refused PATCHes, want %d", n, len(ok))
	}
}

// TestGrantScopeMustBePublished: an oauth2PermissionGrant's scope names
// delegated permissions of the resource (endpoints.md §4.1: "space-separated
// claim values"; §9: "Scope values (for example User.Read) are used here").
// A value the resource does not publish as a delegated permission — a typo,
// or an application permission — is an invalid property value (§8.2:
// 400 Request_BadRequest, "Invalid value specified for property '…' of
// resource '…'."), on create and on update.
func TestGrantScopeMustBePublished(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	_, sp := newAppAndSP(t, admin, "grantee")
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	grant := func(scope string) response {
		return admin.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": scope})
	}
	for _, scope := range []string{"User.Read Not.A.Permission", "Device.ReadWrite.All", "https://graph.microsoft.com/User.Read"} {
		grant(scope).wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'scope' of resource 'OAuth2PermissionGrant'.")
	}
	g := grant("openid profile offline_access User.Read user.readbasic.all").must(t, 201)
	admin.do("PATCH", "/oauth2PermissionGrants/"+g["id"].(string), map[string]any{"scope": "User.Read Bogus.Scope"}).
		wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'scope' of resource 'OAuth2PermissionGrant'.")
	got := admin.do("GET", "/oauth2PermissionGrants/"+g["id"].(string), nil).must(t, 200)
	if got["scope"] != "openid profile offline_access User.Read user.readbasic.all" {
		t.Errorf("a refused PATCH changed the scope to %v", got["scope"])
	}
}
