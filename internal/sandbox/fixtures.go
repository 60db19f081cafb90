package sandbox

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// The sandbox's seed data — Microsoft's first-party service principals, the
// permissions they publish and the directory role templates — comes from
// its own fixture files in testdata/fixtures, captured from Microsoft's
// published data with their provenance (testdata/fixtures/README.md). It
// deliberately does not come from internal/catalog: the product resolves
// names through its catalogue, and a wrong id there must be caught by the
// tenant, not agreed with (see TestCatalogAgreesWithFixtures).

//go:embed testdata/fixtures/graph-permissions.json
var graphPermissionsFixture []byte

//go:embed testdata/fixtures/first-party.json
var firstPartyFixture []byte

//go:embed testdata/fixtures/role-templates.json
var roleTemplatesFixture []byte

// Well-known application ids of the first-party resources (first-party.json).
const (
	graphAppID    = "00000003-0000-0000-c000-000000000000"
	exchangeAppID = "00000002-0000-0ff1-ce00-000000000000"
	armAppID      = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
)

// firstPartyResource is a Microsoft resource application seeded in every
// tenant. AppRoles and Scopes are decoded JSON, in Graph's representation.
type firstPartyResource struct {
	AppID       string `json:"appId"`
	DisplayName string `json:"displayName"`
	// Permissions names a file holding appRoles and oauth2PermissionScopes.
	Permissions string `json:"permissions"`
	AppRoles    []any  `json:"appRoles"`
	Scopes      []any  `json:"oauth2PermissionScopes"`
	// IdentifierByCloud is the resource URI (token audience) per cloud
	// name; IdentifiersByCloud is for resources with several.
	IdentifierByCloud  map[string]string   `json:"identifierByCloud"`
	IdentifiersByCloud map[string][]string `json:"identifiersByCloud"`
	OtherNames         []string            `json:"otherServicePrincipalNames"`
	// ARMHostByCloud is the Azure Resource Manager host per cloud (only
	// the Service Management API has one).
	ARMHostByCloud map[string]string `json:"armHostByCloud"`
}

// identifiers returns the resource URIs the resource answers to in cloud.
func (r *firstPartyResource) identifiers(cloudName string) []string {
	var out []string
	if id := r.IdentifierByCloud[cloudName]; id != "" {
		out = append(out, id)
	}
	return append(out, r.IdentifiersByCloud[cloudName]...)
}

// servicePrincipalNames is the appId, every cloud's identifiers (with and
// without a trailing slash) and the observed extra names.
func (r *firstPartyResource) servicePrincipalNames() []any {
	names := []any{r.AppID}
	seen := map[string]bool{r.AppID: true}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, c := range fixtureCloudOrder {
		for _, id := range r.identifiers(c) {
			add(strings.TrimSuffix(id, "/"))
			add(strings.TrimSuffix(id, "/") + "/")
		}
	}
	for _, n := range r.OtherNames {
		add(n)
	}
	return names
}

// fixtureCloudOrder is the order clouds are listed in the fixtures.
var fixtureCloudOrder = []string{"global", "usgov", "usgov-dod", "china"}

// roleTemplate is a built-in directory role (role-templates.json).
type roleTemplate struct {
	DisplayName string `json:"displayName"`
	ID          string `json:"id"`
	Description string `json:"description"`
}

type fixtureSet struct {
	resources     []*firstPartyResource
	roles         []roleTemplate
	publicClients map[string]string // appId → display name
}

var fixtures = sync.OnceValue(func() *fixtureSet {
	f, err := parseFixtures(firstPartyFixture, graphPermissionsFixture, roleTemplatesFixture)
	if err != nil {
		// The files are embedded: a parse error is a build defect.
		panic(fmt.Sprintf("sandbox: %v", err))
	}
	return f
})

func parseFixtures(firstParty, graphPermissions, roleTemplates []byte) (*fixtureSet, error) {
	var fp struct {
		Resources     []*firstPartyResource `json:"resources"`
		PublicClients []struct {
			AppID       string `json:"appId"`
			DisplayName string `json:"displayName"`
		} `json:"publicClients"`
	}
	if err := json.Unmarshal(firstParty, &fp); err != nil {
		return nil, fmt.Errorf("fixture first-party.json: %w", err)
	}
	var gp struct {
		AppID    string `json:"appId"`
		AppRoles []any  `json:"appRoles"`
		Scopes   []any  `json:"oauth2PermissionScopes"`
	}
	if err := json.Unmarshal(graphPermissions, &gp); err != nil {
		return nil, fmt.Errorf("fixture graph-permissions.json: %w", err)
	}
	var rt struct {
		RoleTemplates []roleTemplate `json:"roleTemplates"`
	}
	if err := json.Unmarshal(roleTemplates, &rt); err != nil {
		return nil, fmt.Errorf("fixture role-templates.json: %w", err)
	}
	f := &fixtureSet{resources: fp.Resources, roles: rt.RoleTemplates, publicClients: map[string]string{}}
	for _, r := range f.resources {
		if r.Permissions == "graph-permissions.json" {
			if !strings.EqualFold(gp.AppID, r.AppID) {
				return nil, fmt.Errorf("fixture graph-permissions.json is for %s, not %s", gp.AppID, r.AppID)
			}
			r.AppRoles, r.Scopes = gp.AppRoles, gp.Scopes
		}
		if r.AppRoles == nil {
			r.AppRoles = []any{}
		}
		if r.Scopes == nil {
			r.Scopes = []any{}
		}
	}
	for _, c := range fp.PublicClients {
		f.publicClients[strings.ToLower(c.AppID)] = c.DisplayName
	}
	sort.Slice(f.roles, func(i, j int) bool { return f.roles[i].DisplayName < f.roles[j].DisplayName })
	return f, nil
}

// fixtureResource returns the first-party resource with this appId, or nil.
func fixtureResource(appID string) *firstPartyResource {
	for _, r := range fixtures().resources {
		if strings.EqualFold(r.AppID, appID) {
			return r
		}
	}
	return nil
}

// publicClientName returns the display name of a Microsoft public client.
func publicClientName(appID string) (string, bool) {
	n, ok := fixtures().publicClients[strings.ToLower(appID)]
	return n, ok
}

// roleTemplates returns the built-in directory roles, sorted by name.
func roleTemplates() []roleTemplate { return fixtures().roles }

// roleTemplateByID finds a built-in role by template id.
func roleTemplateByID(id string) (roleTemplate, bool) {
	for _, r := range roleTemplates() {
		if strings.EqualFold(r.ID, id) {
			return r, true
		}
	}
	return roleTemplate{}, false
}

// roleTemplateByName finds a built-in role by display name (case-insensitive).
func roleTemplateByName(name string) (roleTemplate, error) {
	for _, r := range roleTemplates() {
		if strings.EqualFold(r.DisplayName, name) {
			return r, nil
		}
	}
	return roleTemplate{}, fmt.Errorf("no built-in directory role named %q", name)
}

// appRoleID returns the id of the enabled app role with this value.
func (r *firstPartyResource) appRoleID(value string) (string, error) {
	for _, ar := range objList(r.AppRoles) {
		if str(ar, "value") == value {
			if enabled, _ := ar["isEnabled"].(bool); enabled {
				return str(ar, "id"), nil
			}
		}
	}
	return "", fmt.Errorf("%s publishes no application permission %q", r.DisplayName, value)
}
