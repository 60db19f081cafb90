package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox"
)

// TestRecycleBin follows directory-deleteditems-list/-get/-restore/-delete:
// a deleted application and its service principal wait in
// /directory/deletedItems; restoring the application does not restore the
// service principal (endpoints.md §1.9).
func TestRecycleBin(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app, sp := newAppAndSP(t, admin, "binned")
	appObj, spObj := app["id"].(string), sp["id"].(string)
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	admin.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{"principalId": spObj, "resourceId": graph["id"], "appRoleId": userReadAllRoleID}).must(t, 201)

	admin.do("DELETE", "/applications/"+appObj, nil).must(t, 204)
	admin.do("GET", "/applications/"+appObj, nil).wantError(t, 404, "Request_ResourceNotFound", appObj)
	admin.do("GET", "/servicePrincipals/"+spObj, nil).wantError(t, 404, "Request_ResourceNotFound", spObj)

	apps := validateCollection(t, "application", admin.do("GET", "/directory/deletedItems/microsoft.graph.application", nil).must(t, 200))
	if len(apps) != 1 || apps[0]["id"] != appObj || apps[0]["deletedDateTime"] == nil {
		t.Fatalf("deleted applications: %v", apps)
	}
	sps := validateCollection(t, "servicePrincipal", admin.do("GET", "/directory/deletedItems/microsoft.graph.servicePrincipal?$filter=appId eq '"+app["appId"].(string)+"'", nil).must(t, 200))
	if len(sps) != 1 || sps[0]["id"] != spObj {
		t.Fatalf("deleted service principals: %v", sps)
	}
	item := admin.do("GET", "/directory/deletedItems/"+appObj, nil).must(t, 200)
	if item["@odata.type"] != "#microsoft.graph.application" || !strings.HasSuffix(item["@odata.context"].(string), "#directoryObjects/$entity") {
		t.Errorf("deleted item: %v", item)
	}
	// "calling GET /directory/deleteditems without a type is not supported".
	admin.do("GET", "/directory/deletedItems", nil).wantError(t, 400, "Request_BadRequest", "cast")

	restored := admin.do("POST", "/directory/deletedItems/"+appObj+"/restore", nil).must(t, 200)
	if restored["@odata.type"] != "#microsoft.graph.application" || restored["deletedDateTime"] != nil || restored["appId"] != app["appId"] {
		t.Errorf("restored: %v", restored)
	}
	admin.do("GET", "/applications/"+appObj, nil).must(t, 200)
	// The service principal stays deleted until restored itself, then
	// comes back with its app role assignment.
	admin.do("GET", "/servicePrincipals/"+spObj, nil).wantError(t, 404, "Request_ResourceNotFound", spObj)
	admin.do("POST", "/directory/deletedItems/"+spObj+"/restore", nil).must(t, 200)
	back := validateCollection(t, "appRoleAssignment", admin.do("GET", "/servicePrincipals/"+spObj+"/appRoleAssignments", nil).must(t, 200))
	if len(back) != 1 || back[0]["appRoleId"] != userReadAllRoleID {
		t.Errorf("assignments after restore: %v", back)
	}

	// A service principal cannot be restored while another holds its appId.
	admin.do("DELETE", "/servicePrincipals/"+spObj, nil).must(t, 204)
	admin.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]}).must(t, 201)
	admin.do("POST", "/directory/deletedItems/"+spObj+"/restore", nil).wantError(t, 409, "Request_MultipleObjectsWithSameKeyValue",
		"The service principal cannot be created, updated, or restored because the service principal name "+app["appId"].(string)+" is already in use.")

	// Permanent deletion.
	admin.do("DELETE", "/directory/deletedItems/"+spObj, nil).must(t, 204)
	admin.do("GET", "/directory/deletedItems/"+spObj, nil).wantError(t, 404, "Request_ResourceNotFound", spObj)
	admin.do("POST", "/directory/deletedItems/"+spObj+"/restore", nil).wantError(t, 404, "Request_ResourceNotFound", spObj)

	// Readers list the bin; restoring needs write access.
	readerID, readerSecret := createPrincipal(t, s, "reader", []string{"Application.Read.All"}, nil)
	reader := appClient(t, s, readerID, readerSecret)
	admin.do("DELETE", "/applications/"+appObj, nil).must(t, 204)
	validateCollection(t, "application", reader.do("GET", "/directory/deletedItems/microsoft.graph.application", nil).must(t, 200))
	reader.do("POST", "/directory/deletedItems/"+appObj+"/restore", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	reader.do("DELETE", "/directory/deletedItems/"+appObj, nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	// Application.ReadWrite.OwnedBy restores what it owns, nothing else.
	ownerID, ownerSecret := createPrincipal(t, s, "owner", []string{"Application.ReadWrite.OwnedBy"}, nil)
	owner := appClient(t, s, ownerID, ownerSecret)
	mine := owner.do("POST", "/applications", map[string]any{"displayName": "mine"}).must(t, 201)
	owner.do("DELETE", "/applications/"+mine["id"].(string), nil).must(t, 204)
	owner.do("POST", "/directory/deletedItems/"+appObj+"/restore", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	owner.do("POST", "/directory/deletedItems/"+mine["id"].(string)+"/restore", nil).must(t, 200)
}

// TestRecycleBinDelegatedRoles: a user restores applications with
// Application.ReadWrite.All only while holding one of the roles
// directory-deleteditems-restore lists.
func TestRecycleBinDelegatedRoles(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "to restore"}).must(t, 201)
	admin.do("DELETE", "/applications/"+app["id"].(string), nil).must(t, 204)
	scopes := "https://graph.microsoft.com/Application.ReadWrite.All"
	consentForAll(t, s, graphCLIClientID, "Application.ReadWrite.All")
	for _, tc := range []struct {
		user, role string
		status     int
	}{
		{"dev", "Application Developer", 403},
		{"cloudadmin", "Cloud Application Administrator", 200},
	} {
		if _, _, err := s.CreateUserIn(context.Background(), sandbox.UserSpec{Name: tc.user, Roles: []string{tc.role}}); err != nil {
			t.Fatal(err)
		}
		u := userClient(t, s, tc.user, graphCLIClientID, scopes)
		r := u.do("POST", "/directory/deletedItems/"+app["id"].(string)+"/restore", nil)
		if tc.status == 403 {
			r.wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
		} else {
			r.must(t, tc.status)
		}
	}
}
