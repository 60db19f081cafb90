package catalog

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGraphCatalogueMatchesIDsJSON(t *testing.T) {
	// Every Graph id that ids.json lists (cross-checked against two Microsoft
	// sources) must agree with the full catalogue we embed.
	var ids struct {
		ResourceApps map[string]struct {
			AppID    string                         `json:"appId"`
			AppRoles map[string]struct{ ID string } `json:"appRoles"`
			Scopes   map[string]struct{ ID string } `json:"oauth2PermissionScopes"`
		} `json:"resourceApps"`
	}
	if err := json.Unmarshal(idsJSON, &ids); err != nil {
		t.Fatal(err)
	}
	g, err := LookupResource("Microsoft Graph")
	if err != nil {
		t.Fatal(err)
	}
	mg := ids.ResourceApps["microsoftGraph"]
	if mg.AppID != GraphAppID || g.AppID != GraphAppID {
		t.Fatalf("Graph appId: ids.json %s, catalogue %s", mg.AppID, g.AppID)
	}
	if len(mg.AppRoles) < 10 || len(mg.Scopes) < 10 {
		t.Fatalf("ids.json looks truncated: %d roles, %d scopes", len(mg.AppRoles), len(mg.Scopes))
	}
	for name, r := range mg.AppRoles {
		got, ok := g.AppRole(name)
		if !ok || got.ID != r.ID {
			t.Errorf("app role %s: ids.json %s, catalogue %+v (found %v)", name, r.ID, got.ID, ok)
		}
	}
	for name, s := range mg.Scopes {
		got, ok := g.Scope(name)
		if !ok || got.ID != s.ID {
			t.Errorf("scope %s: ids.json %s, catalogue %s (found %v)", name, s.ID, got.ID, ok)
		}
	}
	if len(g.AppRoles) < 500 || len(g.Scopes) < 500 {
		t.Errorf("full catalogue expected: %d app roles, %d scopes", len(g.AppRoles), len(g.Scopes))
	}
}

func TestExchange(t *testing.T) {
	r, err := LookupResource("Office 365 Exchange Online")
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Permission("Exchange.ManageAsApp", Application)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "dc50a0fb-09a3-484d-be87-e023b12c6440" || p.ResourceAppID != ExchangeAppID {
		t.Errorf("Exchange.ManageAsApp = %+v", p)
	}
	if ResourceByAppID(ExchangeAppID) != r {
		t.Error("ResourceByAppID(exchange) did not find it")
	}
	for _, alias := range []string{"exchange", "EXCHANGE ONLINE", ExchangeAppID} {
		if got, err := LookupResource(alias); err != nil || got != r {
			t.Errorf("LookupResource(%q) = %v, %v", alias, got, err)
		}
	}
}

func TestPermissionErrors(t *testing.T) {
	g, _ := LookupResource("graph")
	tests := []struct {
		name    string
		typ     PermissionType
		wantErr []string
	}{
		{"User.Read.All", Application, nil},
		{"User.Read", Delegated, nil},
		{"offline_access", Delegated, nil},
		{"Device.ReadWrite.All", Application, nil},
		{"User.Read", Application, []string{"exists only as a delegated permission", `"User.Read.All"`}},
		{"offline_access", Application, []string{"exists only as a delegated permission"}},
		{"Device.ReadWrite.All", Delegated, []string{"exists only as an application permission", `"Device.Read.All"`}},
		{"User.Read.Al", Application, []string{"no application permission", `did you mean "User.Read.All"`}},
		{"user.read.all", Application, []string{`did you mean "User.Read.All"`}},
		{"Group.ReadWrite.Alll", Application, []string{`"Group.ReadWrite.All"`}},
		{"Nonsense.Permission", Application, []string{"has no application permission \"Nonsense.Permission\""}},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ)+"/"+tt.name, func(t *testing.T) {
			p, err := g.Permission(tt.name, tt.typ)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if p.ID == "" || p.Name != tt.name || p.Type != tt.typ || p.Description == "" {
					t.Errorf("incomplete permission: %+v", p)
				}
				return
			}
			if err == nil {
				t.Fatalf("want error, got %+v", p)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestRoles(t *testing.T) {
	r, err := LookupRole("user administrator")
	if err != nil || r.TemplateID != "fe930be7-5e62-47db-91af-98c3a49a38b1" || r.Description == "" {
		t.Fatalf("LookupRole = %+v, %v", r, err)
	}
	if _, err := LookupRole("Exchange Admin"); err == nil || !strings.Contains(err.Error(), `"Exchange Administrator"`) {
		t.Errorf("want suggestion for Exchange Admin, got %v", err)
	}
	for _, role := range DirectoryRoles() {
		if role.Description == "" {
			t.Errorf("role %s has no description", role.Name)
		}
		if got, ok := RoleByTemplateID(role.TemplateID); !ok || got.Name != role.Name {
			t.Errorf("RoleByTemplateID(%s) = %+v", role.TemplateID, got)
		}
	}
}

func TestGraphType(t *testing.T) {
	if Application.GraphType() != "Role" || Delegated.GraphType() != "Scope" {
		t.Error("GraphType mapping wrong")
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"relution", "hire2retire", "entitle", "unify", "roger365"}
	tests := map[string]string{"relutoin": "relution", "entitel": "entitle", "roger": "roger365", "Unify": "unify"}
	for in, want := range tests {
		got := Suggest(in, cands, 1)
		if len(got) != 1 || got[0] != want {
			t.Errorf("Suggest(%q) = %v, want %s", in, got, want)
		}
	}
	if got := Suggest("zzzzzzzzzz", cands, 3); len(got) != 0 {
		t.Errorf("Suggest(nonsense) = %v, want none", got)
	}
}
