package sandbox_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// TestErrorsAsTheReferenceQuotes walks the table of common errors in
// endpoints.md §8.2 (and §8.3-§8.6) and checks the sandbox answers each
// situation with the status, error.code and — word for word — the
// error.message the reference quotes, in the §8.1 body shape.
func TestErrorsAsTheReferenceQuotes(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app, sp := newAppAndSP(t, admin, "errors")
	appObj := app["id"].(string)
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	const missing = "03ef14b0-ca33-4840-8f4f-d6e91916010e"

	exact := func(name string, r response, status int, code, msg string) {
		t.Helper()
		e, _ := r.body["error"].(map[string]any)
		if r.status != status || e["code"] != code || e["message"] != msg {
			t.Errorf("%s: %d %v %q, want %d %s %q", name, r.status, e["code"], e["message"], status, code, msg)
		}
		inner, _ := e["innerError"].(map[string]any)
		date, _ := inner["date"].(string)
		// §8.1: innerError date is UTC without an offset, plus request ids.
		if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`).MatchString(date) || inner["request-id"] == nil || inner["client-request-id"] == nil {
			t.Errorf("%s: innerError %v lacks §8.1's date/request-id/client-request-id", name, inner)
		}
		if r.header.Get("request-id") == "" || r.header.Get("client-request-id") == "" {
			t.Errorf("%s: no request-id/client-request-id headers", name)
		}
	}

	// §8.2 row 1 [observed]: unknown object id, or an alternate key without match.
	exact("unknown id", admin.do("GET", "/applications/"+missing, nil), 404, "Request_ResourceNotFound",
		"Resource '"+missing+"' does not exist or one of its queried reference-property objects are not present.")
	exact("unknown appId", admin.do("GET", "/applications(appId='"+missing+"')", nil), 404, "Request_ResourceNotFound",
		"Resource '"+missing+"' does not exist or one of its queried reference-property objects are not present.")
	// §8.2 row 2 [doc]: bad verb for the target.
	exact("bad verb", admin.do("PUT", "/applications/"+appObj, map[string]any{"displayName": "x"}), 405, "Request_BadRequest",
		"Specified HTTP method is not allowed for the request target.")
	// §8.2 row 3 [observed]: the example quoted there.
	exact("invalid value", admin.do("PATCH", "/applications/"+appObj, map[string]any{"api": map[string]any{"oauth2PermissionScopes": []any{map[string]any{
		"id": "9d1c2a57-9b6c-4f6e-8b2a-5a6b9a0e1c11", "value": "Things.Read", "type": "Sometimes", "isEnabled": true,
		"adminConsentDisplayName": "x", "adminConsentDescription": "x"}}}}), 400, "Request_BadRequest",
		"Invalid value specified for property 'type' of resource 'PermissionScope'.")
	// §8.2 row 5: HostNameNotOnVerifiedDomain (code [doc], message [observed]).
	exact("unverified domain", admin.do("PATCH", "/applications/"+appObj, map[string]any{"identifierUris": []string{"https://fabrikam.example/api"}}), 400,
		"HostNameNotOnVerifiedDomain", "Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://fabrikam.example/api'")
	// §8.4: the service principal exists for the appId.
	dup := admin.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]})
	msg := "The service principal cannot be created, updated, or restored because the service principal name " + app["appId"].(string) + " is already in use."
	exact("service principal exists", dup, 409, "Request_MultipleObjectsWithSameKeyValue", msg)
	if d, _ := dup.body["error"].(map[string]any)["details"].([]any); len(d) != 1 || d[0].(map[string]any)["code"] != "ObjectConflict" || d[0].(map[string]any)["message"] != msg {
		t.Errorf("§8.4 details: %v", dup.body["error"])
	}
	// §8.5 [observed]: the app role assignment exists.
	assign := map[string]any{"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}
	admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", assign).must(t, http.StatusCreated)
	exact("assignment exists", admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", assign), 400, "Request_BadRequest",
		"Permission being assigned already exists on the object")
	// §8.5 [observed]: the wording for an app role the resource lacks.
	exact("unknown app role", admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{
		"principalId": sp["id"], "resourceId": graph["id"], "appRoleId": missing}), 400, "Request_BadRequest",
		"Permission being assigned was not found on application")
	// §8.6 [observed]: the grant exists.
	grant := map[string]any{"clientId": sp["id"], "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": "User.Read"}
	admin.do("POST", "/oauth2PermissionGrants", grant).must(t, http.StatusCreated)
	exact("grant exists", admin.do("POST", "/oauth2PermissionGrants", grant), 409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
	// §8.1/§8.2 row 4 [doc]: missing permission.
	readerID, readerSecret := mustPrincipal(t, s, "reader", []string{"Application.Read.All"})
	reader := appClient(t, s, readerID, readerSecret)
	exact("insufficient privileges", reader.do("POST", "/applications", map[string]any{"displayName": "x"}), 403, "Authorization_RequestDenied",
		"Insufficient privileges to complete the operation.")

	// §8.3 [doc]: throttling, with Retry-After and the inner code/status.
	th := newSandbox(t, sandboxtest.ThrottleEvery(2))
	c := adminClient(t, th)
	c.do("GET", "/organization", nil)
	r := c.do("GET", "/organization", nil)
	exact("throttled", r, 429, "TooManyRequests", "Please retry again later.")
	inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
	if r.header.Get("Retry-After") == "" || inner["code"] != "429" || inner["status"] != "429" {
		t.Errorf("§8.3: Retry-After %q, innerError %v", r.header.Get("Retry-After"), inner)
	}
}

// mustPrincipal seeds a principal with Graph app roles; it returns its id
// and secret for appClient.
func mustPrincipal(t *testing.T, s *sandbox.Server, name string, roles []string) (string, string) {
	t.Helper()
	id, secret, err := s.CreatePrincipal(context.Background(), name, roles, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}
