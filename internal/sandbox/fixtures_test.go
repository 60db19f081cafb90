package sandbox

import (
	"encoding/json"
	"go/parser"
	gotoken "go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/catalog"
)

// TestCatalogAgreesWithFixtures cross-checks the product's catalogue
// against the sandbox's independent seed data: every resource, permission
// (id, value, type, who may consent, texts) and directory role (template
// id, name, description) the catalogue knows must be exactly what the
// fixtures captured from Microsoft's published data say. The catalogue
// may know less than the fixtures, never something different.
func TestCatalogAgreesWithFixtures(t *testing.T) {
	for _, cr := range catalog.Resources() {
		fr := fixtureResource(cr.AppID)
		if fr == nil {
			t.Errorf("catalogue resource %s (%s) is not a first-party resource in the fixtures", cr.DisplayName, cr.AppID)
			continue
		}
		if cr.DisplayName != fr.DisplayName {
			t.Errorf("resource %s: catalogue calls it %q, the fixtures %q", cr.AppID, cr.DisplayName, fr.DisplayName)
		}
		roles := map[string]map[string]any{}
		for _, r := range objList(fr.AppRoles) {
			roles[str(r, "id")] = r
		}
		for _, cr := range cr.AppRoles {
			fr := roles[cr.ID]
			switch {
			case fr == nil:
				t.Errorf("%s: catalogue app role %s (%s) is not published in the fixtures", cr.Value, cr.ID, cr.DisplayName)
			case str(fr, "value") != cr.Value || str(fr, "displayName") != cr.DisplayName || str(fr, "description") != cr.Description:
				t.Errorf("app role %s: catalogue %q/%q, fixtures %q/%q", cr.ID, cr.Value, cr.DisplayName, str(fr, "value"), str(fr, "displayName"))
			case strings.Join(strList(fr["allowedMemberTypes"]), ",") != strings.Join(cr.AllowedMemberTypes, ",") || fr["isEnabled"] != cr.IsEnabled:
				t.Errorf("app role %s (%s): allowedMemberTypes/isEnabled differ: catalogue %v/%v, fixtures %v/%v", cr.ID, cr.Value,
					cr.AllowedMemberTypes, cr.IsEnabled, fr["allowedMemberTypes"], fr["isEnabled"])
			}
		}
		scopes := map[string]map[string]any{}
		for _, s := range objList(fr.Scopes) {
			scopes[str(s, "id")] = s
		}
		for _, cs := range cr.Scopes {
			fs := scopes[cs.ID]
			switch {
			case fs == nil:
				t.Errorf("%s: catalogue delegated scope %s is not published in the fixtures", cs.Value, cs.ID)
			case str(fs, "value") != cs.Value || str(fs, "type") != cs.Type:
				t.Errorf("scope %s: catalogue %q (%s), fixtures %q (%s)", cs.ID, cs.Value, cs.Type, str(fs, "value"), str(fs, "type"))
			case str(fs, "adminConsentDisplayName") != cs.AdminConsentDisplayName || str(fs, "adminConsentDescription") != cs.AdminConsentDescription:
				t.Errorf("scope %s (%s): texts differ from the fixtures", cs.ID, cs.Value)
			}
		}
	}
	// Resolution by name, as profiles use it, lands on the fixtures' ids.
	graph := fixtureResource(graphAppID)
	for _, name := range []string{"Application.ReadWrite.All", "Directory.Read.All", "RoleManagement.ReadWrite.Directory", "User.Read.All"} {
		p, err := catalog.ResourceByAppID(catalog.GraphAppID).Permission(name, catalog.Application)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := graph.appRoleID(name); err != nil || id != p.ID {
			t.Errorf("%s: catalogue id %s, fixtures %s (%v)", name, p.ID, id, err)
		}
	}

	for _, cr := range catalog.DirectoryRoles() {
		fr, ok := roleTemplateByID(cr.TemplateID)
		switch {
		case !ok:
			t.Errorf("catalogue role %q (%s) is not a role template in the fixtures", cr.Name, cr.TemplateID)
		case fr.DisplayName != cr.Name || fr.Description != cr.Description:
			t.Errorf("role %s: catalogue %q %q, fixtures %q %q", cr.TemplateID, cr.Name, cr.Description, fr.DisplayName, fr.Description)
		}
	}
	if len(catalog.DirectoryRoles()) == 0 || len(catalog.Resources()) == 0 {
		t.Fatal("the catalogue is empty: nothing was cross-checked")
	}
}

// TestFixturesAgreeWithVerifiedIDs checks the fixtures against the
// reference's verified id list (ids.json, copied with them): every Graph
// permission id there is published with that name and kind, and every role
// template id names that role. A mistake in copying or reshaping
// graph-permissions.json shows here.
func TestFixturesAgreeWithVerifiedIDs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "fixtures", "ids.json"))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		ID                   string `json:"id"`
		AdminConsentRequired *bool  `json:"adminConsentRequired"`
	}
	var ids struct {
		ResourceApps map[string]struct {
			AppID       string           `json:"appId"`
			DisplayName string           `json:"displayName"`
			AppRoles    map[string]entry `json:"appRoles"`
			Scopes      map[string]entry `json:"oauth2PermissionScopes"`
		} `json:"resourceApps"`
		DirectoryRoleTemplates map[string]struct {
			TemplateID string `json:"templateId"`
		} `json:"directoryRoleTemplates"`
	}
	if err := json.Unmarshal(b, &ids); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for key, app := range ids.ResourceApps {
		fr := fixtureResource(app.AppID)
		if fr == nil {
			if key == "microsoftGraph" || key == "office365ExchangeOnline" {
				t.Errorf("ids.json %s (%s) is not seeded", key, app.AppID)
			}
			continue
		}
		if app.DisplayName != "" && app.DisplayName != fr.DisplayName {
			t.Errorf("%s: ids.json says %q, first-party.json %q", app.AppID, app.DisplayName, fr.DisplayName)
		}
		for name, e := range app.AppRoles {
			if id, err := fr.appRoleID(name); err != nil || id != e.ID {
				t.Errorf("%s app role %s: ids.json %s, fixtures %s (%v)", fr.DisplayName, name, e.ID, id, err)
			}
			checked++
		}
		for name, e := range app.Scopes {
			found := false
			for _, s := range objList(fr.Scopes) {
				if str(s, "value") == name {
					found = str(s, "id") == e.ID && (e.AdminConsentRequired == nil || *e.AdminConsentRequired == (str(s, "type") == "Admin"))
				}
			}
			if !found {
				t.Errorf("%s scope %s: not published as %s with the consent type ids.json gives", fr.DisplayName, name, e.ID)
			}
			checked++
		}
	}
	for name, r := range ids.DirectoryRoleTemplates {
		if fr, ok := roleTemplateByID(r.TemplateID); !ok || fr.DisplayName != name {
			t.Errorf("role %s %s: fixtures have %+v", name, r.TemplateID, fr)
		}
		checked++
	}
	if checked < 50 {
		t.Fatalf("only %d ids checked", checked)
	}
	if len(roleTemplates()) != len(ids.DirectoryRoleTemplates) {
		t.Errorf("%d role templates, ids.json lists %d", len(roleTemplates()), len(ids.DirectoryRoleTemplates))
	}
}

// TestSandboxImportsNoProductData guards the rule that the tenant never
// shares truth with the product: no non-test file of the sandbox imports
// the catalogue, graph or the SDK.
func TestSandboxImportsNoProductData(t *testing.T) {
	forbidden := []string{"github.com/entra-link/entra-link/internal/catalog", "github.com/entra-link/entra-link/graph", "github.com/microsoftgraph/"}
	files, _ := filepath.Glob("*.go")
	more, _ := filepath.Glob("sandboxtest/*.go")
	checked := 0
	for _, f := range append(files, more...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		pf, err := parser.ParseFile(gotoken.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range pf.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s", f, p)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d files checked", checked)
	}
}
