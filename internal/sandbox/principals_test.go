package sandbox_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/internal/sandbox"
)

const (
	privRoleAdminTemplate = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	appAdminTemplate      = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
)

var adminScopes = []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
	"RoleManagement.ReadWrite.Directory", "RoleEligibilitySchedule.Read.Directory", "Directory.Read.All", "User.Read"}

func graphScopes(names ...string) string {
	var out []string
	for _, n := range names {
		out = append(out, "https://graph.microsoft.com/"+n)
	}
	return strings.Join(out, " ")
}

// TestConsentMatrix: what each administrator role may do with delegated
// tokens carrying the same scopes (endpoints.md §13): Application and Cloud
// Application Administrators create applications and consent to delegated
// permissions and to application permissions of other APIs, not to
// Microsoft Graph's; assigning directory roles needs Privileged Role
// Administrator or Global Administrator. A role held through a
// role-assignable group counts; a PIM-eligible one does not.
func TestConsentMatrix(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	admin := adminClient(t, s)
	consentForAll(t, s, graphCLIClientID, adminScopes...)
	graph := admin.do("GET", "/servicePrincipals(appId='"+graphAppID+"')?$select=id", nil).must(t, 200)
	api := admin.do("POST", "/applications", map[string]any{"displayName": "orders api", "signInAudience": "AzureADMyOrg", "appRoles": []any{map[string]any{
		"allowedMemberTypes": []string{"Application"}, "description": "read orders", "displayName": "Orders.Read", "id": "1b4f816e-5eaf-48b9-8613-7923830595ad",
		"isEnabled": true, "value": "Orders.Read"}}}).must(t, 201)
	apiSP := admin.do("POST", "/servicePrincipals", map[string]any{"appId": api["appId"]}).must(t, 201)

	gid, err := s.CreateGroup(ctx, sandbox.GroupSpec{DisplayName: "PRA holders", RoleAssignable: true, Roles: []string{"Privileged Role Administrator"}})
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct{ consent, graphRole, apiRole, dirRole int }
	cases := []struct {
		user     string
		spec     sandbox.UserSpec
		want     outcome
		wantWids []string
	}{
		{"global", sandbox.UserSpec{Roles: []string{"Global Administrator"}}, outcome{201, 201, 201, 201}, []string{globalAdminID}},
		{"pra", sandbox.UserSpec{Roles: []string{"Privileged Role Administrator"}}, outcome{201, 201, 201, 201}, []string{privRoleAdminTemplate}},
		{"appadmin", sandbox.UserSpec{Roles: []string{"Application Administrator"}}, outcome{201, 403, 201, 403}, []string{appAdminTemplate}},
		{"cloudadmin", sandbox.UserSpec{Roles: []string{"Cloud Application Administrator"}}, outcome{201, 403, 201, 403}, []string{"158c047a-c907-4556-b7ef-446551a6b5f7"}},
		{"viagroup", sandbox.UserSpec{Groups: []string{gid}}, outcome{201, 201, 201, 201}, []string{privRoleAdminTemplate}},
		{"eligible", sandbox.UserSpec{EligibleRoles: []string{"Privileged Role Administrator"}}, outcome{403, 403, 403, 403}, nil},
		{"plain", sandbox.UserSpec{}, outcome{403, 403, 403, 403}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.user, func(t *testing.T) {
			spec := tc.spec
			spec.Name = tc.user
			if _, _, err := s.CreateUserIn(ctx, spec); err != nil {
				t.Fatal(err)
			}
			u := userClient(t, s, tc.user, graphCLIClientID, graphScopes(adminScopes...))
			wids := strs(claimsOf(t, u.token)["wids"])
			for _, w := range tc.wantWids {
				if !has(wids, w) {
					t.Errorf("wids %v lack %s", wids, w)
				}
			}
			for _, w := range wids {
				if w != "b79fbf4d-3ef9-4689-8143-76b194e85509" && !has(tc.wantWids, w) {
					t.Errorf("wids %v carry %s", wids, w)
				}
			}
			// Every user may register an application.
			app := u.do("POST", "/applications", map[string]any{"displayName": "by " + tc.user, "signInAudience": "AzureADMyOrg"}).must(t, 201)
			target := admin.do("POST", "/servicePrincipals", map[string]any{"appId": app["appId"]}).must(t, 201)
			check := func(what string, r response, want int) {
				t.Helper()
				if want == 403 {
					if r.status != 403 {
						t.Errorf("%s: status %d, want 403: %s", what, r.status, r.raw)
						return
					}
					r.wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
				} else if r.status != want {
					t.Errorf("%s: status %d, want %d: %s", what, r.status, want, r.raw)
				}
			}
			check("tenant-wide consent to Microsoft Graph", u.do("POST", "/oauth2PermissionGrants", map[string]any{"clientId": target["id"], "consentType": "AllPrincipals",
				"resourceId": graph["id"], "scope": "User.Read"}), tc.want.consent)
			check("Microsoft Graph app role", u.do("POST", "/servicePrincipals/"+graph["id"].(string)+"/appRoleAssignedTo", map[string]any{
				"principalId": target["id"], "resourceId": graph["id"], "appRoleId": userReadAllRoleID}), tc.want.graphRole)
			check("app role of another API", u.do("POST", "/servicePrincipals/"+apiSP["id"].(string)+"/appRoleAssignedTo", map[string]any{
				"principalId": target["id"], "resourceId": apiSP["id"], "appRoleId": "1b4f816e-5eaf-48b9-8613-7923830595ad"}), tc.want.apiRole)
			check("directory role", u.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{
				"roleDefinitionId": userAdminTemplate, "principalId": target["id"], "directoryScopeId": "/"}), tc.want.dirRole)
		})
	}
}

// TestRolesThroughGroups: roles of a role-assignable group are active for
// its members in wids, /me/transitiveMemberOf and the role checks, not in
// /me/memberOf's directory roles (direct only); roleAssignments name the
// group.
func TestRolesThroughGroups(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	consentForAll(t, s, graphCLIClientID, adminScopes...)
	gid, err := s.CreateGroup(ctx, sandbox.GroupSpec{DisplayName: "App admins", RoleAssignable: true, Roles: []string{"Application Administrator"}})
	if err != nil {
		t.Fatal(err)
	}
	uid, _, err := s.CreateUserIn(ctx, sandbox.UserSpec{Name: "member", Groups: []string{gid}})
	if err != nil {
		t.Fatal(err)
	}
	u := userClient(t, s, "member", graphCLIClientID, graphScopes(adminScopes...))
	if !has(strs(claimsOf(t, u.token)["wids"]), appAdminTemplate) {
		t.Errorf("wids lack the group's role: %v", claimsOf(t, u.token)["wids"])
	}
	transitive := validateCollection(t, "directoryRole", u.do("GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil, "ConsistencyLevel", "eventual").must(t, 200))
	if len(transitive) != 1 || transitive[0]["roleTemplateId"] != appAdminTemplate {
		t.Errorf("transitive roles: %v", transitive)
	}
	if direct := validateCollection(t, "directoryRole", u.do("GET", "/me/memberOf/microsoft.graph.directoryRole", nil).must(t, 200)); len(direct) != 0 {
		t.Errorf("memberOf lists roles the user holds only through a group: %v", direct)
	}
	all := u.do("GET", "/me/memberOf", nil).must(t, 200)["value"].([]any)
	if len(all) != 1 || all[0].(map[string]any)["@odata.type"] != "#microsoft.graph.group" || all[0].(map[string]any)["id"] != gid {
		t.Errorf("memberOf: %v", all)
	}
	groups := validateCollection(t, "group", u.do("GET", "/me/transitiveMemberOf/microsoft.graph.group?$count=true", nil, "ConsistencyLevel", "eventual").must(t, 200))
	if len(groups) != 1 || groups[0]["isAssignableToRole"] != true {
		t.Errorf("groups: %v", groups)
	}
	ras := validateCollection(t, "unifiedRoleAssignment", u.do("GET", fmt.Sprintf("/roleManagement/directory/roleAssignments?$filter=principalId in ('%s', '%s')", uid, gid), nil).must(t, 200))
	if len(ras) != 1 || ras[0]["principalId"] != gid || ras[0]["roleDefinitionId"] != appAdminTemplate {
		t.Errorf("role assignments of the user and the group: %v", ras)
	}
	validateEntity(t, "group", u.do("GET", "/groups/"+gid, nil).must(t, 200))
	if listed := validateCollection(t, "group", u.do("GET", "/groups?$filter=isAssignableToRole eq true", nil).must(t, 200)); len(listed) != 1 {
		t.Errorf("role-assignable groups: %v", listed)
	}
	u.do("POST", "/groups", map[string]any{"displayName": "x"}).wantError(t, 405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	members := u.do("GET", "/groups/"+gid+"/members", nil).must(t, 200)["value"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["id"] != uid {
		t.Errorf("members: %v", members)
	}

	// Only role-assignable groups hold roles.
	plain, err := s.CreateGroup(ctx, sandbox.GroupSpec{DisplayName: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	adminClient(t, s).do("POST", "/roleManagement/directory/roleAssignments", map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": plain, "directoryScopeId": "/"}).
		wantError(t, 400, "Request_BadRequest", "role-assignable")
	if _, err := s.CreateGroup(ctx, sandbox.GroupSpec{DisplayName: "not assignable", Roles: []string{"Global Administrator"}}); err == nil {
		t.Errorf("a group that is not role-assignable got a role")
	}
}

// TestPIMEligibility: an eligible role is listed by
// roleEligibilityScheduleInstances/filterByCurrentUser(on='principal') and
// nowhere else until activated; activation counts with the next token.
func TestPIMEligibility(t *testing.T) {
	s := newSandbox(t)
	ctx := context.Background()
	consentForAll(t, s, graphCLIClientID, adminScopes...)
	uid, _, err := s.CreateUserIn(ctx, sandbox.UserSpec{Name: "eligible", EligibleRoles: []string{"Privileged Role Administrator"}})
	if err != nil {
		t.Fatal(err)
	}
	u := userClient(t, s, "eligible", graphCLIClientID, graphScopes(adminScopes...))
	mine := u.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances/filterByCurrentUser(on='principal')", nil).must(t, 200)
	if !strings.HasSuffix(mine["@odata.context"].(string), "#Collection(unifiedRoleEligibilityScheduleInstance)") {
		t.Errorf("context %v", mine["@odata.context"])
	}
	items := validateCollection(t, "unifiedRoleEligibilityScheduleInstance", mine)
	if len(items) != 1 || items[0]["roleDefinitionId"] != privRoleAdminTemplate || items[0]["principalId"] != uid ||
		items[0]["directoryScopeId"] != "/" || items[0]["memberType"] != "Direct" || !strings.HasSuffix(items[0]["id"].(string), "-1-e") {
		t.Errorf("eligibility: %v", items)
	}
	u.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances/filterByCurrentUser(on='somebody')", nil).wantError(t, 400, "BadRequest", "on")
	// Listing everyone's needs a PIM reader role.
	u.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances", nil).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	// Nowhere else: wids, transitiveMemberOf, roleAssignments.
	if w := strs(claimsOf(t, u.token)["wids"]); has(w, privRoleAdminTemplate) {
		t.Errorf("wids carry an eligible role: %v", w)
	}
	if roles := validateCollection(t, "directoryRole", u.do("GET", "/me/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil, "ConsistencyLevel", "eventual").must(t, 200)); len(roles) != 0 {
		t.Errorf("transitiveMemberOf lists an eligible role: %v", roles)
	}
	if ras := validateCollection(t, "unifiedRoleAssignment", u.do("GET", "/roleManagement/directory/roleAssignments?$filter=principalId eq '"+uid+"'", nil).must(t, 200)); len(ras) != 0 {
		t.Errorf("roleAssignments list an eligible role: %v", ras)
	}
	admin := adminClient(t, s)
	app, sp := newAppAndSP(t, admin, "target")
	_ = app
	assign := map[string]any{"roleDefinitionId": userAdminTemplate, "principalId": sp["id"], "directoryScopeId": "/"}
	u.do("POST", "/roleManagement/directory/roleAssignments", assign).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")

	// Activated: the token already issued still lacks it (wids change only
	// with a new token); a new sign-in has it.
	if err := s.ActivateEligibleRole(ctx, uid, "Privileged Role Administrator"); err != nil {
		t.Fatal(err)
	}
	u.do("POST", "/roleManagement/directory/roleAssignments", assign).wantError(t, 403, "Authorization_RequestDenied", "Insufficient privileges")
	fresh := userClient(t, s, "eligible", graphCLIClientID, graphScopes(adminScopes...))
	if !has(strs(claimsOf(t, fresh.token)["wids"]), privRoleAdminTemplate) {
		t.Errorf("wids after activation: %v", claimsOf(t, fresh.token)["wids"])
	}
	fresh.do("POST", "/roleManagement/directory/roleAssignments", assign).must(t, 201)
	// So does a token redeemed from the first sign-in's refresh token, with
	// the claims challenge MSAL sends to skip its cached access token; a
	// claims parameter that is not a claims request is refused.
	tokenURL := "https://login.microsoftonline.com/" + s.Tenant().TenantID + "/oauth2/v2.0/token"
	refresh := func(claims string) (int, map[string]any) {
		return u.tokenRequest(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {graphCLIClientID}, "refresh_token": {u.refresh},
			"scope": {graphScopes(adminScopes...) + " openid profile offline_access"}, "claims": {claims}})
	}
	status, body := refresh(fmt.Sprintf(`{"access_token":{"nbf":{"essential":true,"value":"%d"}}}`, time.Now().Unix()))
	if status != 200 {
		t.Fatalf("refresh with a claims challenge: %d %v", status, body)
	}
	if w := claimsOf(t, body["access_token"].(string))["wids"]; !has(strs(w), privRoleAdminTemplate) {
		t.Errorf("wids of the token refreshed after activation: %v", w)
	}
	for _, bad := range []string{"{", `["access_token"]`, `{"access_token":"nbf"}`, `{"access_token":{"nbf":"x"}}`} {
		status, body := refresh(bad)
		stsError(t, status, body, 400, "invalid_request", 50117)
	}
	// A Privileged Role Administrator reads everyone's eligibilities.
	all := validateCollection(t, "unifiedRoleEligibilityScheduleInstance", fresh.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId eq '"+uid+"'", nil).must(t, 200))
	if len(all) != 1 {
		t.Errorf("eligibilities: %v", all)
	}
	// Application permissions see the calling service principal's own.
	appOnly := validateCollection(t, "unifiedRoleEligibilityScheduleInstance", admin.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances/filterByCurrentUser(on='principal')", nil).must(t, 200))
	if len(appOnly) != 0 {
		t.Errorf("the bootstrap admin has no eligibilities: %v", appOnly)
	}
	if err := s.ActivateEligibleRole(ctx, uid, "Global Administrator"); err == nil {
		t.Errorf("activated a role the user is not eligible for")
	}
}
