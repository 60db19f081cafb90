package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestApplicationsByTagFollowsNextLinkToTheEnd(t *testing.T) {
	var f *fakeGraph
	f = newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		page := r.URL.Query().Get("$skiptoken")
		next := ""
		switch page {
		case "":
			next = f.srv.URL + "/v1.0/applications?$filter=tags/any(t:t%20eq%20'entra-link')&$skiptoken=p2"
		case "p2":
			next = f.srv.URL + "/v1.0/applications?$filter=tags/any(t:t%20eq%20'entra-link')&$skiptoken=p3"
		}
		id := map[string]string{"": "1", "p2": "2", "p3": "3"}[page]
		body := fmt.Sprintf(`{"@odata.context":"x","value":[{"id":"00000000-0000-0000-0000-00000000000%[1]s","appId":"10000000-0000-0000-0000-00000000000%[1]s","displayName":"app %[1]s","tags":["entra-link"]}]`, id)
		if next != "" {
			body += `,"@odata.nextLink":"` + next + `"`
		}
		reply(w, 200, body+"}")
	})
	c, _ := f.client(t)
	apps, err := c.ApplicationsByTag(context.Background(), "entra-link")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range apps {
		names = append(names, a.DisplayName)
	}
	if !reflect.DeepEqual(names, []string{"app 1", "app 2", "app 3"}) {
		t.Errorf("apps = %v", names)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	q, _ := url.ParseQuery(reqs[0].Query)
	if got := q.Get("$filter"); got != "tags/any(t:t eq 'entra-link')" {
		t.Errorf("$filter = %q", got)
	}
	for _, r := range reqs {
		if r.Header.Get("Authorization") == "" {
			t.Errorf("page %s?%s sent without a token", r.Path, r.Query)
		}
	}
}

func TestNextLinkToAnotherHostIsRefused(t *testing.T) {
	var hits int
	other := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { hits++; reply(w, 200, `{"value":[]}`) })
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, `{"value":[],"@odata.nextLink":"`+other.srv.URL+`/v1.0/applications?$skiptoken=x"}`)
	})
	c, _ := f.client(t)
	_, err := c.ApplicationsByName(context.Background(), "demo")
	if err == nil || !strings.Contains(err.Error(), "refusing to send the Graph token") {
		t.Fatalf("err = %v", err)
	}
	if other.count() != 0 || hits != 0 {
		t.Error("the token was sent to a foreign host")
	}
}

func TestFilterValuesAreQuoted(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 200, `{"value":[]}`) })
	c, _ := f.client(t)
	apps, err := c.ApplicationsByName(context.Background(), "O'Brien & Co")
	if err != nil || len(apps) != 0 {
		t.Fatalf("apps=%v err=%v", apps, err)
	}
	q, _ := url.ParseQuery(f.requests()[0].Query)
	if got := q.Get("$filter"); got != "displayName eq 'O''Brien & Co'" {
		t.Errorf("$filter = %q", got)
	}
}

func TestListEndpoints(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		switch r.URL.Path {
		case "/v1.0/servicePrincipals/" + clientSP + "/appRoleAssignments":
			reply(w, 200, `{"value":[{"id":"41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE","appRoleId":"`+roleID+`","principalId":"`+clientSP+`","principalType":"ServicePrincipal","resourceId":"`+graphSPID+`"}]}`)
		case "/v1.0/oauth2PermissionGrants":
			reply(w, 200, `{"value":[{"@odata.id":"x","clientId":"`+clientSP+`","consentType":"AllPrincipals","id":"AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0","principalId":null,"resourceId":"`+graphSPID+`","scope":"User.Read Group.ReadWrite.All"}]}`)
		case "/v1.0/roleManagement/directory/roleAssignments":
			reply(w, 200, `{"value":[{"id":"YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1","roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1","principalId":"`+clientSP+`","directoryScopeId":"/"}]}`)
		default:
			reply(w, 404, docNotFound)
		}
	})
	c, _ := f.client(t)
	ctx := context.Background()
	ara, err := c.AppRoleAssignments(ctx, clientSP)
	if err != nil || !reflect.DeepEqual(ara, []AppRoleAssignment{{ID: "41W1zT6z1U-kJxf62svfp1HFE8pMZhxDun-ThPczmJE", PrincipalID: clientSP, ResourceID: graphSPID, AppRoleID: roleID}}) {
		t.Errorf("AppRoleAssignments = %+v, %v", ara, err)
	}
	grants, err := c.PermissionGrants(ctx, clientSP)
	if err != nil || len(grants) != 1 || grants[0].Scope != "User.Read Group.ReadWrite.All" || grants[0].ConsentType != "AllPrincipals" || grants[0].PrincipalID != "" {
		t.Errorf("PermissionGrants = %+v, %v", grants, err)
	}
	ras, err := c.RoleAssignments(ctx, clientSP)
	if err != nil || len(ras) != 1 || ras[0].RoleDefinitionID != "fe930be7-5e62-47db-91af-98c3a49a38b1" || ras[0].DirectoryScopeID != "/" {
		t.Errorf("RoleAssignments = %+v, %v", ras, err)
	}
	reqs := f.requests()
	q, _ := url.ParseQuery(reqs[1].Query)
	if q.Get("$filter") != "clientId eq '"+clientSP+"'" {
		t.Errorf("grants $filter = %q", q.Get("$filter"))
	}
	q, _ = url.ParseQuery(reqs[2].Query)
	if q.Get("$filter") != "principalId eq '"+clientSP+"'" {
		t.Errorf("role assignments $filter = %q", q.Get("$filter"))
	}
}

func TestServicePrincipalByAppIDAndWritesOnIt(t *testing.T) {
	graphSP := `{"id":"` + graphSPID + `","appId":"00000003-0000-0000-c000-000000000000","displayName":"Microsoft Graph","appRoles":[{"allowedMemberTypes":["Application"],"description":"d","displayName":"Read all users' full profiles","id":"df021288-bdef-4463-88db-98f22de89214","isEnabled":true,"origin":"Application","value":"User.Read.All"}],"oauth2PermissionScopes":[{"adminConsentDescription":"a","adminConsentDisplayName":"Sign in and read user profile","id":"e1fe6dd8-ba31-4d61-89e7-88639da4683d","isEnabled":true,"type":"User","value":"User.Read"}]}`
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch {
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1.0/servicePrincipals(appId="):
			reply(w, 200, graphSP)
		case r.Method == http.MethodPost && r.URL.Path == "/v1.0/servicePrincipals/"+graphSPID+"/appRoleAssignedTo":
			reply(w, 201, docCreatedAssign)
		case r.Method == http.MethodPatch && r.URL.Path == "/v1.0/oauth2PermissionGrants/l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk":
			w.WriteHeader(204)
		case r.Method == http.MethodDelete:
			w.WriteHeader(204)
		default:
			reply(w, 404, docNotFound)
		}
	})
	c, _ := f.client(t)
	ctx := context.Background()
	sp, err := c.ServicePrincipalByAppID(ctx, "00000003-0000-0000-c000-000000000000")
	if err != nil {
		t.Fatal(err)
	}
	if sp.ID != graphSPID || len(sp.AppRoles) != 1 || sp.AppRoles[0].Value != "User.Read.All" || !sp.AppRoles[0].IsEnabled ||
		len(sp.Scopes) != 1 || sp.Scopes[0].Value != "User.Read" || sp.Scopes[0].Type != "User" {
		t.Errorf("service principal = %+v", sp)
	}
	get := f.requests()[0]
	if want := "/v1.0/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')"; get.Path != want {
		t.Errorf("path = %s, want %s", get.Path, want)
	}

	a, err := c.AssignAppRole(ctx, AppRoleAssignment{PrincipalID: clientSP, ResourceID: graphSPID, AppRoleID: roleID})
	if err != nil || a.ID != "-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc" {
		t.Fatalf("AssignAppRole = %+v, %v", a, err)
	}
	body := jsonBody(t, f.requests()[1].Body)
	if body["principalId"] != clientSP || body["resourceId"] != graphSPID || body["appRoleId"] != roleID {
		t.Errorf("assignment body = %v", body)
	}
	if err := c.UpdatePermissionGrantScope(ctx, "l5eW7x0ga0-WDOntXzHateQDNpSH5-lPk9HjD3Sarjk", "  User.Read   Mail.Read "); err != nil {
		t.Fatal(err)
	}
	if body := jsonBody(t, f.requests()[2].Body); body["scope"] != "User.Read Mail.Read" || len(body) > 2 {
		t.Errorf("grant PATCH body = %v", body)
	}
	for _, del := range []struct {
		call func() error
		path string
	}{
		{func() error {
			return c.DeleteAppRoleAssignment(ctx, graphSPID, "-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc")
		}, "/v1.0/servicePrincipals/" + graphSPID + "/appRoleAssignedTo/-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc"},
		{func() error { return c.DeleteServicePrincipal(ctx, clientSP) }, "/v1.0/servicePrincipals/" + clientSP},
		{func() error { return c.DeleteApplication(ctx, appObjID) }, "/v1.0/applications/" + appObjID},
		{func() error { return c.DeletePermissionGrant(ctx, "AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0") }, "/v1.0/oauth2PermissionGrants/AVs6JuUDjkCFV7q2gd8QTPimBBgj5iBFj0C6GwwRxC0"},
		{func() error { return c.DeleteRoleAssignment(ctx, "YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1") }, "/v1.0/roleManagement/directory/roleAssignments/YUb1sHQtUEyvox7IA_Eu_mm3jqnUe4lEhvatluHVi2I-1"},
	} {
		n := f.count()
		if err := del.call(); err != nil {
			t.Errorf("delete %s: %v", del.path, err)
			continue
		}
		if r := f.requests()[n]; r.Method != http.MethodDelete || r.Path != del.path {
			t.Errorf("sent %s %s, want DELETE %s", r.Method, r.Path, del.path)
		}
	}
}

func TestServicePrincipalByAppIDNotFound(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 404, docNotFound) })
	c, _ := f.client(t)
	_, err := c.ServicePrincipalByAppID(context.Background(), appID)
	if !IsNotFound(err) || f.count() != 1 {
		t.Fatalf("err=%v attempts=%d", err, f.count())
	}
}

func TestOrganization(t *testing.T) {
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		reply(w, 200, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#organization","value":[{"id":"84841066-274d-4ec0-a5c1-276be684bdd3","displayName":"Contoso","partnerTenantType":"resellerPartnerDelegatedAdmin","verifiedDomains":[{"capabilities":"Email, OfficeCommunicationsOnline","isDefault":true,"isInitial":false,"name":"contoso.com","type":"Managed"},{"isDefault":false,"isInitial":true,"name":"Contoso.onmicrosoft.com","type":"Managed"}]}]}`)
	})
	c, _ := f.client(t)
	org, err := c.Organization(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if org.ID != "84841066-274d-4ec0-a5c1-276be684bdd3" || org.DisplayName != "Contoso" || org.InitialDomain() != "Contoso.onmicrosoft.com" {
		t.Errorf("organization = %+v", org)
	}
	if r := f.requests()[0]; r.Path != "/v1.0/organization" {
		t.Errorf("path = %s", r.Path)
	}
}

func TestMyDirectoryRoles(t *testing.T) {
	const (
		appAdmin    = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
		userAdmin   = "fe930be7-5e62-47db-91af-98c3a49a38b1"
		globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
		unnamed     = "11111111-2222-3333-4444-555555555555"
	)
	assignments := `{"value":[{"id":"a","roleDefinitionId":"` + appAdmin + `","principalId":"` + clientSP + `","directoryScopeId":"/"},` +
		`{"id":"b","roleDefinitionId":"` + userAdmin + `","principalId":"` + clientSP + `","directoryScopeId":"/administrativeUnits/5d107bba-d8e2-4e13-b6ae-884be90e5d1a"}]}`
	cases := []struct {
		name      string
		id        Identity
		forbidden bool
		want      []DirectoryRole
		wantErr   bool
	}{
		{"assignments joined with wids; AU scope and the default user role left out",
			Identity{ObjectID: clientSP, RoleIDs: []string{appAdmin, globalAdmin, "b79fbf4d-3ef9-4689-8143-76b194e85509", unnamed}}, false,
			[]DirectoryRole{{ID: appAdmin, RoleTemplateID: appAdmin}, {ID: globalAdmin, RoleTemplateID: globalAdmin}, {ID: unnamed, RoleTemplateID: unnamed}}, false},
		{"app-only", Identity{AppOnly: true, ObjectID: clientSP}, false,
			[]DirectoryRole{{ID: appAdmin, RoleTemplateID: appAdmin}}, false},
		{"user who may not read assignments: wids answer", Identity{ObjectID: clientSP, RoleIDs: []string{globalAdmin}}, true,
			[]DirectoryRole{{ID: globalAdmin, RoleTemplateID: globalAdmin}}, false},
		{"app that may not read assignments: error", Identity{AppOnly: true, ObjectID: clientSP}, true, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				switch {
				case r.URL.Path == "/v1.0/roleManagement/directory/roleAssignments" && tc.forbidden:
					reply(w, 403, docForbidden)
				case r.URL.Path == "/v1.0/roleManagement/directory/roleAssignments":
					reply(w, 200, assignments)
				case strings.HasPrefix(r.URL.Path, "/v1.0/roleManagement/directory/roleDefinitions/"):
					// Preflight must stay one round trip: no per-role lookups.
					t.Errorf("MyDirectoryRoles looked up a role definition: %s", r.URL.Path)
					reply(w, 404, docNotFound)
				default:
					reply(w, 403, docForbidden) // e.g. /me/transitiveMemberOf without User.Read
				}
			})
			c, _ := f.client(t)
			roles, err := c.MyDirectoryRoles(context.Background(), tc.id)
			if tc.wantErr {
				if !IsForbidden(err) {
					t.Fatalf("err = %v, want the 403", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(roles, tc.want) {
				t.Errorf("roles = %+v\nwant %+v", roles, tc.want)
			}
			if q, _ := url.ParseQuery(f.requests()[0].Query); q.Get("$filter") != "principalId eq '"+clientSP+"'" {
				t.Errorf("first request %s?%s", f.requests()[0].Path, f.requests()[0].Query)
			}
		})
	}
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 200, `{"value":[]}`) })
	c, _ := f.client(t)
	if _, err := c.MyDirectoryRoles(context.Background(), Identity{}); err == nil {
		t.Error("no error for an identity without an object id")
	}
}

func TestWhoAmI(t *testing.T) {
	cases := []struct {
		name   string
		claims map[string]any
		want   Identity
	}{
		{"delegated admin", map[string]any{
			"aud": "https://graph.microsoft.com", "oid": "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "tid": "84841066-274d-4ec0-a5c1-276be684bdd3",
			"idtyp": "user", "upn": "AdeleV@contoso.com", "preferred_username": "other@contoso.com", "app_displayname": "Microsoft Graph Command Line Tools",
			"appid": "14d82eec-204b-4c2f-b7e8-296a70dab67e", "scp": "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All openid profile",
			"wids": []string{"62e90394-69f5-4237-9190-012177145e10", "b79fbf4d-3ef9-4689-8143-76b194e85509"},
		}, Identity{
			ObjectID: "87d349ed-44d7-43e1-9a83-5f2406dee5bd", TenantID: "84841066-274d-4ec0-a5c1-276be684bdd3", Name: "AdeleV@contoso.com",
			ClientAppID: "14d82eec-204b-4c2f-b7e8-296a70dab67e", Scopes: []string{"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "openid", "profile"},
			RoleIDs: []string{"62e90394-69f5-4237-9190-012177145e10", "b79fbf4d-3ef9-4689-8143-76b194e85509"},
		}},
		{"v2 token without upn", map[string]any{"oid": "o", "tid": "t", "preferred_username": "admin@contoso.onmicrosoft.com", "azp": "14d82eec-204b-4c2f-b7e8-296a70dab67e", "scp": "User.Read"},
			Identity{ObjectID: "o", TenantID: "t", Name: "admin@contoso.onmicrosoft.com", ClientAppID: "14d82eec-204b-4c2f-b7e8-296a70dab67e", Scopes: []string{"User.Read"}}},
		{"app-only", map[string]any{"oid": "sp", "tid": "t", "idtyp": "app", "app_displayname": "entra-link bootstrap", "appid": "a", "roles": []string{"Application.ReadWrite.All"}, "wids": []string{"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"}},
			Identity{ObjectID: "sp", TenantID: "t", AppOnly: true, Name: "entra-link bootstrap", ClientAppID: "a", Roles: []string{"Application.ReadWrite.All"}, RoleIDs: []string{"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"}}},
		{"app-only without idtyp", map[string]any{"oid": "sp", "tid": "t", "app_displayname": "x", "appid": "a", "roles": []string{"Directory.Read.All"}},
			Identity{ObjectID: "sp", TenantID: "t", AppOnly: true, Name: "x", ClientAppID: "a", Roles: []string{"Directory.Read.All"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cred := &stubCred{token: testJWT(t, tc.claims)}
			c, err := New(cred, Options{Endpoint: "https://graph.microsoft.us"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.WhoAmI(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got.Scopes == nil {
				got.Scopes = []string{}
			}
			if tc.want.Scopes == nil {
				tc.want.Scopes = []string{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("WhoAmI =\n%+v\nwant\n%+v", got, tc.want)
			}
			if !reflect.DeepEqual(cred.scopes, [][]string{{"https://graph.microsoft.us/.default"}}) {
				t.Errorf("token requested for %v", cred.scopes)
			}
		})
	}
}

func TestWhoAmIRejectsOpaqueTokens(t *testing.T) {
	for _, tok := range []string{"opaque", "a.b", "a.!!!.c", "a." + "bm90IGpzb24" + ".c"} {
		c, err := New(&stubCred{token: tok}, Options{Endpoint: "https://graph.microsoft.com"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.WhoAmI(context.Background())
		var ge *Error
		if !errors.As(err, &ge) {
			t.Errorf("WhoAmI(%q) = %v, want *Error", tok, err)
		}
		if err != nil && strings.Contains(err.Error(), tok) && len(tok) > 6 {
			t.Errorf("error repeats the token: %v", err)
		}
	}
}
