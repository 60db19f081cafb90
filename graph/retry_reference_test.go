package graph

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// Error bodies quoted from the project's reference,
// shared/reference/graph/endpoints.md (the section and its provenance
// marker are given with each). The classifier is tested against these,
// not against what the sandbox happens to answer.
const (
	// §8.2 row 1 [observed]; §8.2 "Replication lag" [doc + observed].
	refNotFound = `{"error":{"code":"Request_ResourceNotFound","message":"Resource '59e617e5-e447-4adc-8b88-00af644d7c92' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2025-02-13T10:17:06","request-id":"r","client-request-id":"c"}}}`
	// §8.2 "Replication lag": 400 Request_BadRequest "… does not exist …".
	refBadRequestDoesNotExist = `{"error":{"code":"Request_BadRequest","message":"Resource '59e617e5-e447-4adc-8b88-00af644d7c92' does not exist or one of its queried reference-property objects are not present.","innerError":{"date":"2025-02-13T10:17:06","request-id":"r"}}}`
	// §8.5 [observed]: "Related transient error right after SP creation".
	refRoleNotFound = `{"error":{"code":"Request_BadRequest","message":"Permission being assigned was not found on application","innerError":{"date":"2025-02-13T10:17:06","request-id":"r","client-request-id":"c"}}}`
	// §8.5 [observed], three test fixtures.
	refRoleExists = `{"error":{"code":"Request_BadRequest","message":"Permission being assigned already exists on the object","innerError":{"date":"2025-02-13T10:17:06","request-id":"r","client-request-id":"c"}}}`
	// §8.6 [observed], terraform-provider-azuread #690.
	refGrantExists = `{"error":{"code":"Request_MultipleObjectsWithSameKeyValue","message":"Permission entry already exists.","innerError":{"date":"…","request-id":"…","client-request-id":"…"}}}`
	// §8.4 [doc] + [observed].
	refSPExists = `{"error":{"code":"Request_MultipleObjectsWithSameKeyValue","message":"The service principal cannot be created, updated, or restored because the service principal name c642e789-57df-465d-8407-aea848cc4057 is already in use.","details":[{"code":"ObjectConflict","message":"The service principal cannot be created, updated, or restored because the service principal name c642e789-57df-465d-8407-aea848cc4057 is already in use.","target":"None","blockedWord":"","prefix":"","suffix":""}],"innerError":{"date":"2026-03-12T23:50:07","request-id":"20879765-24ec-45ea-b420-e9e35cf61a50","client-request-id":"…"}}}`
	// §8.1 / §8.2 [doc] (json-batching item 3).
	refForbidden = `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2025-02-13T10:17:06","request-id":"93b6f17e-c05d-4f45-ad2a-6665c708d8a0","client-request-id":"e70c5c1b-8b47-68c0-3171-3d22f5e0bd54"}}}`
	// §8.2 [observed] docs-contrib #4750: a plain validation error.
	refInvalidValue = `{"error":{"code":"Request_BadRequest","message":"Invalid value specified for property 'type' of resource 'PermissionScope'.","innerError":{"request-id":"r"}}}`
	// §8.2 [doc]: HostNameNotOnVerifiedDomain (message [observed]).
	refUnverifiedDomain = `{"error":{"code":"HostNameNotOnVerifiedDomain","message":"Values of identifierUris property must use a verified domain of the organization or its subdomain: 'https://contoso.example'","innerError":{"request-id":"r"}}}`
	// §8.2 [doc] json-batching item 4.
	refMethodNotAllowed = `{"error":{"code":"Request_BadRequest","message":"Specified HTTP method is not allowed for the request target.","innerError":{"request-id":"r"}}}`
)

// parsed turns a reference body into the *Error the client builds.
func parsed(t *testing.T, status int, body string) *Error {
	t.Helper()
	code, msg, reqID, details := parseErrorBody([]byte(body))
	if code == "" || msg == "" {
		t.Fatalf("reference body did not parse: %s", body)
	}
	return &Error{Status: status, Code: code, Message: msg, RequestID: reqID, details: details}
}

// TestReplicationClassifierOnReferenceBodies: which reference errors each
// operation treats as "not replicated yet" (and so retries).
func TestReplicationClassifierOnReferenceBodies(t *testing.T) {
	never := func() bool {
		t.Fatal("the app role check ran for an error that is not about an app role")
		return false
	}
	cases := []struct {
		name                         string
		status                       int
		body                         string
		object, app, principal, role bool
	}{
		{"404 Request_ResourceNotFound", 404, refNotFound, true, true, true, true},
		{"400 … does not exist …", 400, refBadRequestDoesNotExist, false, true, true, true},
		{"400 role not found", 400, refRoleNotFound, false, false, false, false /* published() says no */},
		{"400 role already exists", 400, refRoleExists, false, false, false, false},
		{"409 grant exists", 409, refGrantExists, false, false, false, false},
		{"409 SP exists", 409, refSPExists, false, false, false, false},
		{"403 insufficient privileges", 403, refForbidden, false, false, false, false},
		{"400 invalid value", 400, refInvalidValue, false, false, false, false},
		{"400 unverified domain", 400, refUnverifiedDomain, false, false, false, false},
		{"405 method", 405, refMethodNotAllowed, false, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parsed(t, tc.status, tc.body)
			check := func(what string, got, want bool) {
				if got != want {
					t.Errorf("%s: %v, want %v", what, got, want)
				}
			}
			check("objectNotReplicated", objectNotReplicated(e), tc.object)
			check("appNotReplicated", appNotReplicated(e), tc.app)
			check("principalNotReplicated (grants, directory roles)", principalNotReplicated(e), tc.principal)
			published := never
			if strings.Contains(tc.body, phraseRoleNotFound) {
				published = func() bool { return false }
			}
			check("appRoleNotReplicated, role unpublished", appRoleNotReplicated(published)(e), tc.role)
		})
	}
	// The one wording with two causes: retried only while the role exists.
	e := parsed(t, 400, refRoleNotFound)
	if !appRoleNotReplicated(func() bool { return true })(e) {
		t.Error("a role the resource publishes but Graph does not see yet is not retried")
	}
	if principalNotReplicated(e) {
		t.Error("grants and directory roles retry on an app-role wording")
	}
	if !IsConflict(parsed(t, 400, refRoleExists)) || !IsConflict(parsed(t, 409, refGrantExists)) || !IsConflict(parsed(t, 409, refSPExists)) {
		t.Error("the reference's duplicates are not conflicts")
	}
}

// TestAssignUnknownAppRoleFailsAtOnce: an app role id the resource does
// not publish gets Graph's "not found" once; the client looks at the
// resource's app roles, finds none by that id and gives up — no retries
// until the deadline. A role the resource does publish is waited for.
func TestAssignUnknownAppRoleFailsAtOnce(t *testing.T) {
	spWithout := `{"id":"` + graphSPID + `","appRoles":[{"id":"df021288-bdef-4463-88db-98f22de89214","value":"User.Read.All","isEnabled":true,"allowedMemberTypes":["Application"]}]}`
	spWith := `{"id":"` + graphSPID + `","appRoles":[{"id":"` + roleID + `","value":"X.Read","isEnabled":true,"allowedMemberTypes":["Application"]}]}`
	assign := func(c *Client) error {
		_, err := c.AssignAppRole(context.Background(), AppRoleAssignment{PrincipalID: clientSP, ResourceID: graphSPID, AppRoleID: roleID})
		return err
	}

	f := newFakeGraph(t, sequence(status(400, refRoleNotFound), status(200, spWithout), status(201, docCreatedAssign)))
	c, _ := f.client(t)
	err := assign(c)
	var ge *Error
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Attempts != 1 {
		t.Fatalf("unknown role: err = %v, want Graph's 400 after one attempt", err)
	}
	if n := f.count(); n != 2 {
		t.Errorf("unknown role: %d requests, want the POST and one read of the resource", n)
	}
	if r := f.reqs[1]; r.Method != http.MethodGet || !strings.HasSuffix(r.Path, "/servicePrincipals/"+graphSPID) || !strings.Contains(r.Query, "appRoles") {
		t.Errorf("second request %s %s?%s, want GET of the resource's appRoles", r.Method, r.Path, r.Query)
	}

	f = newFakeGraph(t, sequence(status(400, refRoleNotFound), status(200, spWith), status(201, docCreatedAssign)))
	c, _ = f.client(t)
	if err := assign(c); err != nil {
		t.Fatalf("published role not yet visible: %v", err)
	}
	if n := f.count(); n != 3 {
		t.Errorf("published role: %d requests, want POST, GET, POST", n)
	}
}
