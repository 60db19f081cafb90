package sandbox_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

const graphCLIClientID = "14d82eec-204b-4c2f-b7e8-296a70dab67e"

// deviceCodeToken runs the device-code flow by hand: the first poll is
// pending, the second returns the token (or the sign-in error).
func deviceCodeToken(t *testing.T, s *sandbox.Server, clientID, scope string) (int, map[string]any) {
	t.Helper()
	info := s.Tenant()
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	base := "https://login.microsoftonline.com/" + info.TenantID + "/oauth2/v2.0/"
	status, dc := c.tokenRequest(base+"devicecode", url.Values{"client_id": {clientID}, "scope": {scope + " openid profile offline_access"}})
	if status != 200 {
		return status, dc
	}
	for _, k := range []string{"user_code", "device_code", "verification_uri", "message"} {
		if s, _ := dc[k].(string); s == "" {
			t.Errorf("devicecode response lacks %s: %v", k, dc)
		}
	}
	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "client_id": {clientID}, "device_code": {dc["device_code"].(string)}}
	status, body := c.tokenRequest(base+"token", poll)
	stsError(t, status, body, 400, "authorization_pending", 70016)
	return c.tokenRequest(base+"token", poll)
}

func TestInsufficientPrivilegesAppOnly(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	_, target := newAppAndSP(t, admin, "target")
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)

	readerID, readerSecret := createPrincipal(t, s, "reader", []string{"Application.Read.All"}, nil)
	reader := appClient(t, s, readerID, readerSecret)
	validateCollection(t, "application", reader.do("GET", "/applications", nil).must(t, 200))
	forbidden := []struct {
		method, path string
		body         map[string]any
	}{
		{"POST", "/applications", map[string]any{"displayName": "nope"}},
		{"POST", "/servicePrincipals/" + graph["id"].(string) + "/appRoleAssignedTo", map[string]any{"principalId": target["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}},
		{"POST", "/oauth2PermissionGrants", map[string]any{"clientId": target["id"], "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": "User.Read"}},
		{"POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": target["id"], "directoryScopeId": "/"}},
		{"GET", "/roleManagement/directory/roleAssignments", nil},
		{"GET", "/organization", nil},
	}
	for _, f := range forbidden {
		reader.do(f.method, f.path, f.body).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	// AppRoleAssignment.ReadWrite.All alone is not enough: granting also
	// needs read access to applications (serviceprincipal-post-approleassignedto).
	assignerID, assignerSecret := createPrincipal(t, s, "assigner", []string{"AppRoleAssignment.ReadWrite.All"}, nil)
	assigner := appClient(t, s, assignerID, assignerSecret)
	assigner.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{"principalId": target["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	// Application.ReadWrite.OwnedBy manages only what it owns.
	ownerID, ownerSecret := createPrincipal(t, s, "owner", []string{"Application.ReadWrite.OwnedBy"}, nil)
	owner := appClient(t, s, ownerID, ownerSecret)
	mine := owner.do("POST", "/applications", map[string]any{"displayName": "owned by owner"}).must(t, 201)
	owner.do("PATCH", "/applications/"+mine["id"].(string), map[string]any{"displayName": "still mine"}).must(t, 204)
	listed := validateCollection(t, "application", owner.do("GET", "/applications", nil).must(t, 200))
	if len(listed) != 1 || listed[0]["id"] != mine["id"] {
		t.Errorf("OwnedBy listing shows others' apps: %v", listed)
	}
	others := admin.do("GET", "/applications(appId='"+target["appId"].(string)+"')?$select=id", nil).must(t, 200)
	owner.do("PATCH", "/applications/"+others["id"].(string), map[string]any{"displayName": "stolen"}).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
}

func TestInsufficientPrivilegesDelegated(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	_, target := newAppAndSP(t, admin, "target")
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	scopes := "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All https://graph.microsoft.com/RoleManagement.ReadWrite.Directory https://graph.microsoft.com/User.Read"

	// An Application Administrator may consent to these delegated scopes but
	// may not grant Microsoft Graph app roles or assign directory roles.
	if _, _, err := s.CreateUser(context.Background(), "appadmin", []string{"Application Administrator"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SignInAs("appadmin@" + s.Tenant().TenantDomain); err != nil {
		t.Fatal(err)
	}
	status, body := deviceCodeToken(t, s, graphCLIClientID, scopes)
	if status != 200 {
		t.Fatalf("device code for Application Administrator: %d %v", status, body)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token", "client_info", "scope"} {
		if _, ok := body[k].(string); !ok {
			t.Errorf("user token response lacks %s", k)
		}
	}
	cl := claimsOf(t, body["access_token"].(string))
	if cl["idtyp"] != "user" || !has(strs(cl["wids"]), "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3") || !strings.Contains(cl["scp"].(string), "AppRoleAssignment.ReadWrite.All") {
		t.Errorf("delegated claims: %v", cl)
	}
	user := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: body["access_token"].(string)}
	me := user.do("GET", "/me", nil).must(t, 200)
	validateEntity(t, "user", me)
	roles := validateCollection(t, "directoryRole", user.do("GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil, "ConsistencyLevel", "eventual").must(t, 200))
	if len(roles) != 1 || roles[0]["roleTemplateId"] != "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3" || roles[0]["@odata.type"] != "#microsoft.graph.directoryRole" {
		t.Errorf("/me/transitiveMemberOf: %v", roles)
	}
	// Allowed: creating and updating applications.
	user.do("POST", "/applications", map[string]any{"displayName": "by app admin"}).must(t, 201)
	// Not allowed: Microsoft Graph app roles and directory roles.
	user.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{"principalId": target["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	user.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": target["id"], "directoryScopeId": "/"}).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	// The token lacks DelegatedPermissionGrant.ReadWrite.All entirely.
	user.do("GET", "/oauth2PermissionGrants", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	// A user without an admin role cannot consent to admin-only scopes.
	if _, _, err := s.CreateUser(context.Background(), "plainuser", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SignInAs("plainuser@" + s.Tenant().TenantDomain); err != nil {
		t.Fatal(err)
	}
	status, body = deviceCodeToken(t, s, graphCLIClientID, scopes)
	stsError(t, status, body, 400, "invalid_grant", 65001)

	// The Global Administrator can do all of it.
	if err := s.SignInAs("admin@" + s.Tenant().TenantDomain); err != nil {
		t.Fatal(err)
	}
	status, body = deviceCodeToken(t, s, graphCLIClientID, scopes)
	if status != 200 {
		t.Fatalf("device code for the admin: %d %v", status, body)
	}
	ga := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: body["access_token"].(string)}
	ga.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{"principalId": target["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).must(t, http.StatusCreated)
	ga.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": target["id"], "directoryScopeId": "/"}).must(t, http.StatusCreated)

	cl = claimsOf(t, body["access_token"].(string))
	if scp := strings.Fields(cl["scp"].(string)); !has(scp, "openid") || !has(scp, "profile") {
		t.Errorf("Graph scp lacks the requested OIDC scopes: %v", scp)
	}

	// Without User.Read (or a directory read scope) /me/transitiveMemberOf
	// is forbidden, as its permission table says. (Other clients: a token
	// carries every scope ever consented for its client.)
	status, noUserRead := deviceCodeToken(t, s, "1950a258-227b-4e31-a9cf-717495945fc2", "https://graph.microsoft.com/RoleManagement.ReadWrite.Directory")
	if status != 200 {
		t.Fatalf("device code: %d %v", status, noUserRead)
	}
	nur := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: noUserRead["access_token"].(string)}
	nur.do("GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil, "ConsistencyLevel", "eventual").
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	// With User.Read only, the roles come back with limited information.
	status, onlyUserRead := deviceCodeToken(t, s, "de8bc8b5-d9f9-48b1-a8ad-b748da725064", "https://graph.microsoft.com/User.Read")
	if status != 200 {
		t.Fatalf("device code: %d %v", status, onlyUserRead)
	}
	ur := &client{t: t, s: s, hc: sandboxtest.Client(s), base: "https://graph.microsoft.com/v1.0", token: onlyUserRead["access_token"].(string)}
	limited := validateCollection(t, "directoryRole", ur.do("GET", "/me/memberOf/microsoft.graph.directoryRole", nil).must(t, 200))
	if len(limited) != 1 || limited[0]["roleTemplateId"] != nil || limited[0]["id"] == nil || limited[0]["@odata.type"] != "#microsoft.graph.directoryRole" {
		t.Errorf("limited directory role information: %v", limited)
	}

	// Refresh tokens work for the same client, and only for it.
	c := &client{t: t, s: s, hc: sandboxtest.Client(s)}
	tokenURL := "https://login.microsoftonline.com/" + s.Tenant().TenantID + "/oauth2/v2.0/token"
	status, refreshed := c.tokenRequest(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {graphCLIClientID},
		"refresh_token": {body["refresh_token"].(string)}, "scope": {"https://graph.microsoft.com/User.Read openid profile offline_access"}})
	if status != 200 {
		t.Errorf("refresh: %d %v", status, refreshed)
	}
	status, refreshed = c.tokenRequest(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		"refresh_token": {body["refresh_token"].(string)}, "scope": {"https://graph.microsoft.com/User.Read"}})
	stsError(t, status, refreshed, 400, "invalid_grant", 70000)

	// Unknown scopes are refused at the device code endpoint.
	status, bad := c.tokenRequest("https://login.microsoftonline.com/"+s.Tenant().TenantID+"/oauth2/v2.0/devicecode",
		url.Values{"client_id": {graphCLIClientID}, "scope": {"https://graph.microsoft.com/Not.A.Scope"}})
	stsError(t, status, bad, 400, "invalid_scope", 70011)
}
