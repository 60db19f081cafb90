package sandbox_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

const (
	graphAppID         = "00000003-0000-0000-c000-000000000000"
	userReadAllRoleID  = "df021288-bdef-4463-88db-98f22de89214"
	userReadScopeID    = "e1fe6dd8-ba31-4d61-89e7-88639da4683d"
	globalAdminID      = "62e90394-69f5-4237-9190-012177145e10"
	userAdminTemplate  = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	exchangeAppID      = "00000002-0000-0ff1-ce00-000000000000"
	exchangeManageRole = "dc50a0fb-09a3-484d-be87-e023b12c6440"
)

var opaqueIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22,}(-1)?$`)

// newAppAndSP creates an application and its service principal through Graph.
func newAppAndSP(t *testing.T, c *client, name string) (app, sp map[string]any) {
	t.Helper()
	app = c.do("POST", "/applications", map[string]any{"displayName": name, "signInAudience": "AzureADMyOrg"}).must(t, 201)
	sp = c.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]}).must(t, 201)
	return app, sp
}

func TestServicePrincipals(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app := admin.do("POST", "/applications", map[string]any{"displayName": "My App", "signInAudience": "AzureADMyOrg", "identifierUris": []string{"api://my-app"}}).must(t, 201)
	appID := app["appId"].(string)
	sp := admin.do("POST", "/serviceprincipals", map[string]any{"appId": appID, "tags": []string{"entra-link"}}).must(t, 201)
	validateEntity(t, "servicePrincipal", sp)
	if !strings.HasSuffix(sp["@odata.context"].(string), "#servicePrincipals/$entity") || sp["appId"] != appID ||
		sp["servicePrincipalType"] != "Application" || sp["appOwnerOrganizationId"] != s.Tenant().TenantID ||
		sp["accountEnabled"] != true || sp["appDisplayName"] != "My App" || !has(strs(sp["servicePrincipalNames"]), "api://my-app") ||
		!has(strs(sp["tags"]), "entra-link") {
		t.Errorf("created SP: %v", sp)
	}
	// The second create conflicts (endpoints.md §8.4).
	r := admin.do("POST", "/servicePrincipals", map[string]any{"appId": appID})
	r.wantError(t, 409, "Request_MultipleObjectsWithSameKeyValue",
		"The service principal cannot be created, updated, or restored because the service principal name "+appID+" is already in use.")
	details, _ := r.body["error"].(map[string]any)["details"].([]any)
	if len(details) != 1 || details[0].(map[string]any)["code"] != "ObjectConflict" {
		t.Errorf("conflict details: %v", details)
	}
	r = admin.do("POST", "/servicePrincipals", map[string]any{"appId": "12345678-1234-1234-1234-123456789012"})
	r.wantError(t, 400, "Request_BadRequest", "The appId '12345678-1234-1234-1234-123456789012' of the service principal does not reference a valid application object.")
	if d, _ := r.body["error"].(map[string]any)["details"].([]any); len(d) != 1 || d[0].(map[string]any)["code"] != "NoBackingApplicationObject" {
		t.Errorf("details: %v", d)
	}

	// The tenant's Microsoft Graph SP carries the permission catalogue.
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id,appId,displayName,appRoles,oauth2PermissionScopes", nil).must(t, 200)
	validateEntity(t, "servicePrincipal", graph)
	if !strings.HasSuffix(graph["@odata.context"].(string), "#servicePrincipals(id,appId,displayName,appRoles,oauth2PermissionScopes)/$entity") || graph["displayName"] != "Microsoft Graph" {
		t.Errorf("Graph SP: %v", graph["@odata.context"])
	}
	roleFound, scopeFound := false, false
	for _, r := range graph["appRoles"].([]any) {
		m := r.(map[string]any)
		if m["id"] == userReadAllRoleID && m["value"] == "User.Read.All" {
			roleFound = true
		}
	}
	for _, sc := range graph["oauth2PermissionScopes"].([]any) {
		m := sc.(map[string]any)
		if m["id"] == userReadScopeID && m["value"] == "User.Read" {
			scopeFound = true
		}
	}
	if !roleFound || !scopeFound || len(graph["appRoles"].([]any)) < 400 {
		t.Errorf("Graph SP permissions incomplete (role %v, scope %v, %d roles)", roleFound, scopeFound, len(graph["appRoles"].([]any)))
	}
	exo := admin.do("GET", "/servicePrincipals(appId='"+exchangeAppID+"')", nil).must(t, 200)
	validateEntity(t, "servicePrincipal", exo)
	if roles := exo["appRoles"].([]any); len(roles) != 1 || roles[0].(map[string]any)["id"] != exchangeManageRole {
		t.Errorf("Exchange Online SP roles: %v", roles)
	}
	list := validateCollection(t, "servicePrincipal", admin.do("GET", "/servicePrincipals?$filter="+url.QueryEscape("appId eq '"+graphAppID+"'")+"&$select=id,appId,displayName,appRoles,oauth2PermissionScopes", nil).must(t, 200))
	if len(list) != 1 || list[0]["id"] != graph["id"] {
		t.Errorf("filter by appId: %v", list)
	}
	admin.do("GET", "/servicePrincipals(appId='12345678-1234-1234-1234-123456789012')", nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")

	// Renaming the application renames its service principal.
	admin.do("PATCH", "/applications/"+app["id"].(string), map[string]any{"displayName": "Renamed"}).must(t, 204)
	if got := admin.do("GET", "/servicePrincipals/"+sp["id"].(string), nil).must(t, 200); got["displayName"] != "Renamed" {
		t.Errorf("SP did not follow the app: %v", got["displayName"])
	}
	admin.do("PATCH", "/servicePrincipals/"+sp["id"].(string), map[string]any{"appRoleAssignmentRequired": true, "tags": []string{"a"}}).must(t, 204)

	// Deleting the application deletes its service principal.
	admin.do("DELETE", "/applications/"+app["id"].(string), nil).must(t, 204)
	admin.do("GET", "/servicePrincipals/"+sp["id"].(string), nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
	admin.do("GET", "/applications/"+app["id"].(string), nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
}

func TestAppRoleAssignments(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	app, clientSP := newAppAndSP(t, admin, "needs User.Read.All")
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	graphID, clientID := graph["id"].(string), clientSP["id"].(string)
	path := "/servicePrincipals/" + graphID + "/appRoleAssignedTo"
	body := map[string]any{"principalId": clientID, "resourceId": graphID, "appRoleId": userReadAllRoleID}

	a := admin.do("POST", path, body).must(t, 201)
	validateEntity(t, "appRoleAssignment", a)
	if !strings.HasSuffix(a["@odata.context"].(string), "#servicePrincipals('"+graphID+"')/appRoleAssignedTo/$entity") {
		t.Errorf("@odata.context %v", a["@odata.context"])
	}
	if id := a["id"].(string); !opaqueIDPattern.MatchString(id) || guidPattern.MatchString(id) {
		t.Errorf("assignment id %q must be an opaque base64url string, not a GUID", id)
	}
	if a["principalType"] != "ServicePrincipal" || a["resourceDisplayName"] != "Microsoft Graph" || a["principalDisplayName"] != "needs User.Read.All" {
		t.Errorf("assignment: %v", a)
	}
	admin.do("POST", path, body).wantError(t, 400, "Request_BadRequest", "Permission being assigned already exists on the object")
	admin.do("POST", path, map[string]any{"principalId": clientID, "resourceId": graphID, "appRoleId": userReadScopeID}).
		wantError(t, 400, "Request_BadRequest", "Permission being assigned was not found on application")
	admin.do("POST", path, map[string]any{"principalId": "12345678-1234-1234-1234-123456789012", "resourceId": graphID, "appRoleId": userReadAllRoleID}).
		wantError(t, 404, "Request_ResourceNotFound", "Resource '12345678-1234-1234-1234-123456789012' does not exist")
	admin.do("POST", path, map[string]any{"principalId": clientID, "appRoleId": userReadAllRoleID}).wantError(t, 400, "Request_BadRequest", "resourceId")
	admin.do("POST", path, map[string]any{"principalId": clientID, "resourceId": graphID, "appRoleId": "User.Read.All"}).
		wantError(t, 400, "Request_BadRequest", "Cannot convert the literal 'User.Read.All' to the expected type 'Edm.Guid'.")

	// Exchange.ManageAsApp through the principal side.
	exo := admin.do("GET", "/servicePrincipals(appId='"+exchangeAppID+"')?$select=id", nil).must(t, 200)
	admin.do("POST", "/servicePrincipals/"+clientID+"/appRoleAssignments", map[string]any{"principalId": clientID, "resourceId": exo["id"], "appRoleId": exchangeManageRole}).must(t, 201)

	mine := validateCollection(t, "appRoleAssignment", admin.do("GET", "/servicePrincipals/"+clientID+"/appRoleAssignments", nil).must(t, 200))
	if len(mine) != 2 {
		t.Errorf("appRoleAssignments of the client: %v", mine)
	}
	filtered := validateCollection(t, "appRoleAssignment", admin.do("GET", "/servicePrincipals/"+clientID+"/appRoleAssignments?$filter="+url.QueryEscape("resourceId eq "+graphID), nil).must(t, 200))
	if len(filtered) != 1 {
		t.Errorf("filtered by resourceId: %v", filtered)
	}
	assignedTo := validateCollection(t, "appRoleAssignment", admin.do("GET", path, nil).must(t, 200))
	found := false
	for _, x := range assignedTo {
		if x["id"] == a["id"] {
			found = true
		}
	}
	if !found {
		t.Errorf("appRoleAssignedTo lacks the new assignment")
	}

	// The client's token now carries the role.
	secret := admin.do("POST", "/applications/"+app["id"].(string)+"/addPassword", nil).must(t, 200)["secretText"].(string)
	c := appClient(t, s, app["appId"].(string), secret)
	if cl := claimsOf(t, c.token); !has(strs(cl["roles"]), "User.Read.All") {
		t.Errorf("roles claim after assignment: %v", cl["roles"])
	}
	// Exchange Online tokens carry Exchange.ManageAsApp; they are not
	// valid at Microsoft Graph.
	status, tok := c.tokenRequest("https://login.microsoftonline.com/"+s.Tenant().TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {app["appId"].(string)}, "client_secret": {secret}, "scope": {"https://outlook.office365.com/.default"}})
	if status != 200 {
		t.Fatalf("Exchange token: %d %v", status, tok)
	}
	if cl := claimsOf(t, tok["access_token"].(string)); cl["aud"] != "https://outlook.office365.com" || !has(strs(cl["roles"]), "Exchange.ManageAsApp") || has(strs(cl["roles"]), "User.Read.All") {
		t.Errorf("Exchange token claims: %v", cl)
	}
	exoClient := &client{t: t, s: s, hc: c.hc, base: "https://graph.microsoft.com/v1.0", token: tok["access_token"].(string)}
	exoClient.do("GET", "/organization", nil).wantError(t, 401, "InvalidAuthenticationToken", "Invalid audience")

	admin.do("DELETE", path+"/"+a["id"].(string), nil).must(t, 204)
	admin.do("DELETE", path+"/"+a["id"].(string), nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
}

func TestDelegatedPermissionGrants(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	_, client := newAppAndSP(t, admin, "delegated client")
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	body := map[string]any{"clientId": client["id"], "consentType": "AllPrincipals", "resourceId": graph["id"], "scope": "DelegatedPermissionGrant.ReadWrite.All"}
	g := admin.do("POST", "/oauth2PermissionGrants", body).must(t, 201)
	validateEntity(t, "oAuth2PermissionGrant", g)
	if !strings.HasSuffix(g["@odata.context"].(string), "#oauth2PermissionGrants/$entity") || g["principalId"] != nil || len(g["id"].(string)) != 43 {
		t.Errorf("grant: %v", g)
	}
	admin.do("POST", "/oauth2PermissionGrants", body).wantError(t, 409, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
	list := validateCollection(t, "oAuth2PermissionGrant", admin.do("GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+client["id"].(string)+"'"), nil).must(t, 200))
	if len(list) != 1 || list[0]["id"] != g["id"] {
		t.Errorf("filter by clientId: %v", list)
	}
	both := validateCollection(t, "oAuth2PermissionGrant", admin.do("GET", "/oauth2PermissionGrants?$filter="+url.QueryEscape("clientId eq '"+client["id"].(string)+"' and resourceId eq '"+graph["id"].(string)+"'"), nil).must(t, 200))
	if len(both) != 1 {
		t.Errorf("filter by clientId and resourceId: %v", both)
	}
	admin.do("PATCH", "/oauth2PermissionGrants/"+g["id"].(string), map[string]any{"scope": "User.ReadBasic.All Group.ReadWrite.All"}).must(t, 204)
	got := admin.do("GET", "/oauth2PermissionGrants/"+g["id"].(string), nil).must(t, 200)
	validateEntity(t, "oAuth2PermissionGrant", got)
	if got["scope"] != "User.ReadBasic.All Group.ReadWrite.All" {
		t.Errorf("scope after PATCH: %v", got["scope"])
	}
	admin.do("PATCH", "/oauth2PermissionGrants/"+g["id"].(string), map[string]any{"clientId": graph["id"]}).wantError(t, 400, "Request_BadRequest", "clientId")
	bySP := validateCollection(t, "oAuth2PermissionGrant", admin.do("GET", "/servicePrincipals/"+client["id"].(string)+"/oauth2PermissionGrants", nil).must(t, 200))
	if len(bySP) != 1 {
		t.Errorf("SP grants: %v", bySP)
	}
	admin.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": client["id"], "consentType": "AllPrincipals", "resourceId": "12345678-1234-1234-1234-123456789012", "scope": "User.Read"}).
		wantError(t, 400, "Request_BadRequest", "Specified resourceId was not found.")
	admin.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": client["id"], "consentType": "Everyone", "resourceId": graph["id"], "scope": "User.Read"}).
		wantError(t, 400, "Request_BadRequest", "Invalid value specified for property 'consentType' of resource 'OAuth2PermissionGrant'.")
	admin.do("DELETE", "/oauth2PermissionGrants/"+g["id"].(string), nil).must(t, 204)
	admin.do("GET", "/oauth2PermissionGrants/"+g["id"].(string), nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
}

func TestDirectoryRoleAssignments(t *testing.T) {
	s := newSandbox(t)
	admin := adminClient(t, s)
	_, client := newAppAndSP(t, admin, "needs User Administrator")
	body := map[string]any{"@odata.type": "#microsoft.graph.unifiedRoleAssignment", "roleDefinitionId": userAdminTemplate, "principalId": client["id"], "directoryScopeId": "/"}
	ra := admin.do("POST", "/roleManagement/directory/roleAssignments", body).must(t, 201)
	validateEntity(t, "unifiedRoleAssignment", ra)
	if !strings.HasSuffix(ra["@odata.context"].(string), "#roleManagement/directory/roleAssignments/$entity") ||
		!strings.HasSuffix(ra["id"].(string), "-1") || !opaqueIDPattern.MatchString(ra["id"].(string)) || ra["directoryScopeId"] != "/" {
		t.Errorf("role assignment: %v", ra)
	}
	admin.do("POST", "/roleManagement/directory/roleAssignments", body).wantError(t, 400, "Request_BadRequest",
		"A conflicting object with one or more of the specified property values is present in the directory.")
	list := validateCollection(t, "unifiedRoleAssignment", admin.do("GET", "/roleManagement/directory/roleAssignments?$filter="+
		url.QueryEscape("principalId eq '"+client["id"].(string)+"' and roleDefinitionId eq '"+userAdminTemplate+"'"), nil).must(t, 200))
	if len(list) != 1 || list[0]["id"] != ra["id"] {
		t.Errorf("filtered role assignments: %v", list)
	}
	admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": "11111111-1111-1111-1111-111111111111", "principalId": client["id"], "directoryScopeId": "/"}).
		wantError(t, 404, "Request_ResourceNotFound", "does not exist")
	admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": "12345678-1234-1234-1234-123456789012", "directoryScopeId": "/"}).
		wantError(t, 404, "Request_ResourceNotFound", "Resource '12345678-1234-1234-1234-123456789012' does not exist")
	admin.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": client["id"]}).
		wantError(t, 400, "Request_BadRequest", "directoryScopeId")

	defs := validateCollection(t, "unifiedRoleDefinition", admin.do("GET", "/roleManagement/directory/roleDefinitions?$filter="+url.QueryEscape("displayName eq 'Global Administrator'"), nil).must(t, 200))
	if len(defs) != 1 || defs[0]["id"] != globalAdminID || defs[0]["templateId"] != globalAdminID || defs[0]["isBuiltIn"] != true {
		t.Errorf("role definition: %v", defs)
	}
	validateEntity(t, "unifiedRoleDefinition", admin.do("GET", "/roleManagement/directory/roleDefinitions/"+userAdminTemplate, nil).must(t, 200))
	roles := validateCollection(t, "directoryRole", admin.do("GET", "/directoryRoles", nil).must(t, 200))
	sawUserAdmin := false
	for _, r := range roles {
		if r["roleTemplateId"] == userAdminTemplate {
			sawUserAdmin = true
		}
	}
	if !sawUserAdmin {
		t.Errorf("User Administrator not activated in /directoryRoles: %v", roles)
	}
	validateEntity(t, "directoryRole", admin.do("GET", "/directoryRoles(roleTemplateId='"+globalAdminID+"')", nil).must(t, 200))
	templates := validateCollection(t, "directoryRoleTemplate", admin.do("GET", "/directoryRoleTemplates", nil).must(t, 200))
	if len(templates) < 8 {
		t.Errorf("directoryRoleTemplates: %d", len(templates))
	}
	admin.do("DELETE", "/roleManagement/directory/roleAssignments/"+ra["id"].(string), nil).must(t, 204)
	admin.do("GET", "/roleManagement/directory/roleAssignments/"+ra["id"].(string), nil).wantError(t, 404, "Request_ResourceNotFound", "does not exist")
}

func TestOrganizationAndMe(t *testing.T) {
	s := newSandbox(t, sandboxtest.VerifiedDomains("fabrikam.example"))
	admin := adminClient(t, s)
	info := s.Tenant()
	orgs := validateCollection(t, "organization", admin.do("GET", "/organization", nil).must(t, 200))
	if len(orgs) != 1 || orgs[0]["id"] != info.TenantID || !strings.Contains(orgs[0]["displayName"].(string), "sandbox") {
		t.Fatalf("organization: %v", orgs)
	}
	var initial, contoso, extra bool
	for _, d := range orgs[0]["verifiedDomains"].([]any) {
		m := d.(map[string]any)
		switch m["name"] {
		case info.TenantDomain:
			initial = m["isInitial"] == true && strings.HasSuffix(info.TenantDomain, ".onmicrosoft.com")
		case "contoso.com":
			contoso = m["isInitial"] == false
		case "fabrikam.example":
			extra = true
		}
	}
	if !initial || !contoso || !extra {
		t.Errorf("verifiedDomains: %v", orgs[0]["verifiedDomains"])
	}
	one := admin.do("GET", "/organization/"+info.TenantID, nil).must(t, 200)
	validateEntity(t, "organization", one)
	admin.do("GET", "/me", nil).wantError(t, 400, "BadRequest", "/me request is only valid with delegated authentication flow.")
	admin.do("GET", "/me/memberOf", nil).wantError(t, 400, "BadRequest", "/me request is only valid with delegated authentication flow.")
}
