package sandbox_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestOwners follows application-post-owners / -list-owners /
// -delete-owners; an owner manages the application without an admin role.
func TestOwners(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	consentForAll(t, s, graphCLIClientID, "Application.ReadWrite.All", "User.Read")
	ownerID, _, err := s.CreateUser(context.Background(), "owner", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateUser(context.Background(), "stranger", nil); err != nil {
		t.Fatal(err)
	}
	app := admin.do("POST", "/applications", map[string]any{"displayName": "owned app", "signInAudience": "AzureADMyOrg"}).must(t, 201)
	appObj := app["id"].(string)
	scopes := graphScopes("Application.ReadWrite.All", "User.Read")

	// Before: neither user may add credentials.
	stranger := userClient(t, s, "stranger", graphCLIClientID, scopes)
	stranger.do("POST", "/applications/"+appObj+"/addPassword", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	owner := userClient(t, s, "owner", graphCLIClientID, scopes)
	owner.do("POST", "/applications/"+appObj+"/addPassword", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + ownerID}
	admin.do("POST", "/applications/"+appObj+"/owners/$ref", ref).must(t, 204)
	admin.do("POST", "/applications/"+appObj+"/owners/$ref", ref).
		wantError(t, 400, "Request_BadRequest", "One or more added object references already exist for the following modified properties: 'owners'.")
	admin.do("POST", "/applications/"+appObj+"/owners/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/12345678-1234-1234-1234-123456789012"}).
		wantError(t, 404, "Request_ResourceNotFound", "12345678-1234-1234-1234-123456789012")
	admin.do("POST", "/applications/"+appObj+"/owners/$ref", map[string]any{"@odata.id": "not a reference"}).wantError(t, 400, "Request_BadRequest", "")

	owners := admin.do("GET", "/applications/"+appObj+"/owners", nil).must(t, 200)["value"].([]any)
	var types []string
	for _, o := range owners {
		m := o.(map[string]any)
		types = append(types, fmt.Sprint(m["@odata.type"], " ", m["id"]))
	}
	// The creating service principal (the bootstrap admin) and the user.
	if len(owners) != 2 || !strings.Contains(strings.Join(types, ","), "#microsoft.graph.user "+ownerID) {
		t.Errorf("owners: %v", types)
	}
	// After: the owner adds a secret with a delegated token; the stranger
	// still cannot.
	cred := owner.do("POST", "/applications/"+appObj+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "by owner"}}).must(t, 200)
	if cred["secretText"] == nil {
		t.Errorf("addPassword by owner: %v", cred)
	}
	owner.do("PATCH", "/applications/"+appObj, map[string]any{"notes": "maintained by its owner"}).must(t, 204)
	stranger.do("POST", "/applications/"+appObj+"/addPassword", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	stranger.do("POST", "/applications/"+appObj+"/owners/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + ownerID}).
		wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	admin.do("DELETE", "/applications/"+appObj+"/owners/"+ownerID+"/$ref", nil).must(t, 204)
	admin.do("DELETE", "/applications/"+appObj+"/owners/"+ownerID+"/$ref", nil).wantError(t, 404, "Request_ResourceNotFound", ownerID)
	owner.do("POST", "/applications/"+appObj+"/addPassword", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
}

// TestServicePrincipalTags: a service principal's tags are its own
// (endpoints.md §12): not copied from the application, settable on
// create, update and upsert, filterable, visible in /_sandbox/state.
func TestServicePrincipalTags(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	const portal = "WindowsAzureActiveDirectoryIntegratedApp"
	app := admin.do("POST", "/applications", map[string]any{"displayName": "tagged", "signInAudience": "AzureADMyOrg", "tags": []string{portal, "app-only-tag"}}).must(t, 201)
	sp := admin.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]}).must(t, 201)
	if tags := strs(sp["tags"]); len(tags) != 0 {
		t.Errorf("the application's tags were copied to its service principal: %v", tags)
	}
	admin.do("PATCH", "/servicePrincipals/"+sp["id"].(string), map[string]any{"tags": []string{portal, "entra-link"}}).must(t, 204)
	admin.do("PATCH", "/servicePrincipals/"+sp["id"].(string), map[string]any{"tags": []string{strings.Repeat("x", 257)}}).
		wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'tags' of resource 'ServicePrincipal'.")
	// The application's tags stay its own too.
	admin.do("PATCH", "/applications/"+app["id"].(string), map[string]any{"tags": []string{"changed"}}).must(t, 204)
	found := validateCollection(t, "servicePrincipal", admin.do("GET", "/servicePrincipals?$filter=tags/any(t:t eq '"+portal+"')&$select=id,tags", nil).must(t, 200))
	if len(found) != 1 || found[0]["id"] != sp["id"] || !has(strs(found[0]["tags"]), "entra-link") || has(strs(found[0]["tags"]), "changed") {
		t.Errorf("filtered by tag: %v", found)
	}
	var st struct {
		ServicePrincipals []struct {
			ID   string   `json:"id"`
			Tags []string `json:"tags"`
		} `json:"servicePrincipals"`
	}
	readState(t, s, &st)
	for _, x := range st.ServicePrincipals {
		if x.ID == sp["id"] && (len(x.Tags) != 2 || x.Tags[0] != portal) {
			t.Errorf("state view tags: %v", x.Tags)
		}
	}
}
