// Package catalog is the embedded, offline catalogue of the permissions and
// directory roles entra-link can name: Microsoft Graph's app roles and
// delegated scopes, Office 365 Exchange Online's app roles, and Entra's
// built-in directory roles. It is built from Microsoft's published data
// (see data/ and ../../README.md) and serves the offline plan, the profile
// validation and the sandbox tenant's seed. At apply time, setup re-resolves
// names against the tenant's own resource service principals.
package catalog

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Well-known application (client) ids of the resource APIs entra-link uses.
// They are the same in every tenant and every national cloud.
const (
	GraphAppID    = "00000003-0000-0000-c000-000000000000"
	ExchangeAppID = "00000002-0000-0ff1-ce00-000000000000"
)

// PermissionType says how a permission is granted.
type PermissionType string

const (
	// Application permissions are app roles, consented with an app role assignment.
	Application PermissionType = "application"
	// Delegated permissions are OAuth2 scopes, consented with an oauth2PermissionGrant.
	Delegated PermissionType = "delegated"
)

// GraphType is the requiredResourceAccess type Graph uses for t ("Role" or "Scope").
func (t PermissionType) GraphType() string {
	if t == Application {
		return "Role"
	}
	return "Scope"
}

// AppRole is an application permission published by a resource.
type AppRole struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Origin             string   `json:"origin"`
	Value              string   `json:"value"`
}

// Scope is a delegated permission published by a resource.
type Scope struct {
	AdminConsentDescription string `json:"adminConsentDescription"`
	AdminConsentDisplayName string `json:"adminConsentDisplayName"`
	ID                      string `json:"id"`
	IsEnabled               bool   `json:"isEnabled"`
	Type                    string `json:"type"` // "Admin" or "User": who may consent
	UserConsentDescription  string `json:"userConsentDescription"`
	UserConsentDisplayName  string `json:"userConsentDisplayName"`
	Value                   string `json:"value"`
}

// Resource is a resource API (its service principal in every tenant).
type Resource struct {
	AppID       string
	DisplayName string
	// Aliases are other names a profile may use for the resource.
	Aliases  []string
	AppRoles []AppRole
	Scopes   []Scope
}

// Permission is one resolved permission of a resource.
type Permission struct {
	ResourceAppID string         `json:"resourceAppId"`
	Resource      string         `json:"resource"`
	Name          string         `json:"name"`
	Type          PermissionType `json:"type"`
	ID            string         `json:"id"`
	DisplayName   string         `json:"displayName"`
	Description   string         `json:"description"`
	// AdminConsentRequired is true for every application permission and for
	// delegated scopes of type "Admin".
	AdminConsentRequired bool `json:"adminConsentRequired"`
}

// DirectoryRole is a built-in Entra directory role.
type DirectoryRole struct {
	Name        string `json:"name"`
	TemplateID  string `json:"templateId"`
	Description string `json:"description"`
}

//go:embed data/graph-permissions.json
var graphPermissionsJSON []byte

//go:embed data/ids.json
var idsJSON []byte

var (
	loadOnce  sync.Once
	resources []*Resource
	roles     []DirectoryRole
)

// Microsoft's descriptions of the built-in roles in data/ids.json, from the
// "Microsoft Entra built-in roles" reference.
var roleDescriptions = map[string]string{
	"Global Administrator":                    "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
	"User Administrator":                      "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
	"Exchange Administrator":                  "Can manage all aspects of the Exchange product.",
	"Privileged Role Administrator":           "Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.",
	"Application Administrator":               "Can create and manage all aspects of app registrations and enterprise apps.",
	"Cloud Application Administrator":         "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
	"Groups Administrator":                    "Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.",
	"Intune Administrator":                    "Can manage all aspects of the Intune product.",
	"Application Developer":                   "Can create application registrations independent of the 'Users can register applications' setting.",
	"Directory Readers":                       "Can read basic directory information. Commonly used to grant directory read access to applications and guests.",
	"Directory Writers":                       "Can read and write basic directory information. For granting access to applications, not intended for users.",
	"Global Reader":                           "Can read everything that a Global Administrator can, but not update anything.",
	"Helpdesk Administrator":                  "Can reset passwords for non-administrators and Helpdesk Administrators.",
	"Privileged Authentication Administrator": "Can access to view, set and reset authentication method information for any user (admin or non-admin).",
	"Security Administrator":                  "Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.",
	"Security Reader":                         "Can read security information and reports in Microsoft Entra ID and Office 365.",
	"Exchange Recipient Administrator":        "Can create or update Exchange Online recipients within the Exchange Online organization.",
	"Compliance Administrator":                "Can read and manage compliance configuration and reports in Microsoft Entra ID and Microsoft 365.",
}

// exchangeManageAsApp describes Exchange.ManageAsApp as Microsoft's
// Exchange app-only authentication documentation does.
var exchangeManageAsApp = AppRole{
	AllowedMemberTypes: []string{"Application"},
	Description:        "Allows the app to manage the organization's Exchange environment without any user interaction. This includes mailboxes, groups, and other configuration objects. To enable management actions, an admin must assign the appropriate roles directly to the app.",
	DisplayName:        "Manage Exchange As Application",
	IsEnabled:          true,
	Origin:             "Application",
	Value:              "Exchange.ManageAsApp",
}

func load() {
	var g struct {
		AppID    string    `json:"appId"`
		AppRoles []AppRole `json:"appRoles"`
		Scopes   []Scope   `json:"oauth2PermissionScopes"`
	}
	if err := json.Unmarshal(graphPermissionsJSON, &g); err != nil {
		panic(fmt.Sprintf("catalog: embedded graph-permissions.json: %v", err))
	}
	var ids struct {
		ResourceApps map[string]struct {
			AppID       string `json:"appId"`
			DisplayName string `json:"displayName"`
			AppRoles    map[string]struct {
				ID string `json:"id"`
			} `json:"appRoles"`
		} `json:"resourceApps"`
		DirectoryRoleTemplates map[string]struct {
			TemplateID string `json:"templateId"`
		} `json:"directoryRoleTemplates"`
	}
	if err := json.Unmarshal(idsJSON, &ids); err != nil {
		panic(fmt.Sprintf("catalog: embedded ids.json: %v", err))
	}
	graphRes := &Resource{AppID: g.AppID, DisplayName: "Microsoft Graph", Aliases: []string{"graph", "Microsoft Graph API"}, AppRoles: g.AppRoles, Scopes: g.Scopes}
	exo := ids.ResourceApps["office365ExchangeOnline"]
	role := exchangeManageAsApp
	role.ID = exo.AppRoles["Exchange.ManageAsApp"].ID
	exoRes := &Resource{AppID: exo.AppID, DisplayName: exo.DisplayName, Aliases: []string{"exchange", "Exchange Online"}, AppRoles: []AppRole{role}}
	resources = []*Resource{graphRes, exoRes}

	for name, t := range ids.DirectoryRoleTemplates {
		roles = append(roles, DirectoryRole{Name: name, TemplateID: t.TemplateID, Description: roleDescriptions[name]})
	}
	sort.Slice(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
}

// Resources returns every resource API in the catalogue.
func Resources() []*Resource {
	loadOnce.Do(load)
	return resources
}

// DirectoryRoles returns the built-in directory roles, sorted by name.
func DirectoryRoles() []DirectoryRole {
	loadOnce.Do(load)
	return roles
}

// LookupResource finds a resource by display name, alias or appId (case-insensitive).
func LookupResource(name string) (*Resource, error) {
	for _, r := range Resources() {
		if strings.EqualFold(r.DisplayName, name) || strings.EqualFold(r.AppID, name) {
			return r, nil
		}
		for _, a := range r.Aliases {
			if strings.EqualFold(a, name) {
				return r, nil
			}
		}
	}
	names := make([]string, 0, len(Resources()))
	for _, r := range Resources() {
		names = append(names, r.DisplayName)
	}
	return nil, fmt.Errorf("unknown resource %q; known resources: %s", name, quoteList(names))
}

// ResourceByAppID returns the resource with the given appId, or nil.
func ResourceByAppID(appID string) *Resource {
	for _, r := range Resources() {
		if strings.EqualFold(r.AppID, appID) {
			return r
		}
	}
	return nil
}

// AppRole returns the enabled app role with the given value.
func (r *Resource) AppRole(value string) (AppRole, bool) {
	for _, a := range r.AppRoles {
		if a.Value == value && a.IsEnabled {
			return a, true
		}
	}
	return AppRole{}, false
}

// Scope returns the enabled delegated scope with the given value.
func (r *Resource) Scope(value string) (Scope, bool) {
	for _, s := range r.Scopes {
		if s.Value == value && s.IsEnabled {
			return s, true
		}
	}
	return Scope{}, false
}

// Permission resolves a permission name of the given type on r. When the name
// is unknown, or exists only with the other type, the error says so and
// suggests the closest valid names.
func (r *Resource) Permission(name string, typ PermissionType) (Permission, error) {
	switch typ {
	case Application:
		if a, ok := r.AppRole(name); ok {
			return Permission{ResourceAppID: r.AppID, Resource: r.DisplayName, Name: a.Value, Type: Application, ID: a.ID,
				DisplayName: a.DisplayName, Description: a.Description, AdminConsentRequired: true}, nil
		}
		if _, ok := r.Scope(name); ok {
			return Permission{}, fmt.Errorf("%s permission %q exists only as a delegated permission, not as an application permission%s",
				r.DisplayName, name, suggestion(name, r.names(Application)))
		}
		return Permission{}, fmt.Errorf("%s has no application permission %q%s", r.DisplayName, name, suggestion(name, r.names(Application)))
	case Delegated:
		if s, ok := r.Scope(name); ok {
			return Permission{ResourceAppID: r.AppID, Resource: r.DisplayName, Name: s.Value, Type: Delegated, ID: s.ID,
				DisplayName: s.AdminConsentDisplayName, Description: s.AdminConsentDescription, AdminConsentRequired: s.Type == "Admin"}, nil
		}
		if _, ok := r.AppRole(name); ok {
			return Permission{}, fmt.Errorf("%s permission %q exists only as an application permission, not as a delegated permission%s",
				r.DisplayName, name, suggestion(name, r.names(Delegated)))
		}
		return Permission{}, fmt.Errorf("%s has no delegated permission %q%s", r.DisplayName, name, suggestion(name, r.names(Delegated)))
	default:
		return Permission{}, fmt.Errorf("unknown permission type %q; valid types: %q, %q", typ, Application, Delegated)
	}
}

func (r *Resource) names(typ PermissionType) []string {
	var out []string
	if typ == Application {
		for _, a := range r.AppRoles {
			if a.IsEnabled {
				out = append(out, a.Value)
			}
		}
		return out
	}
	for _, s := range r.Scopes {
		if s.IsEnabled {
			out = append(out, s.Value)
		}
	}
	return out
}

// LookupRole resolves a built-in directory role by name (case-insensitive) or template id.
func LookupRole(name string) (DirectoryRole, error) {
	names := make([]string, 0, len(DirectoryRoles()))
	for _, r := range DirectoryRoles() {
		if strings.EqualFold(r.Name, name) || strings.EqualFold(r.TemplateID, name) {
			return r, nil
		}
		names = append(names, r.Name)
	}
	return DirectoryRole{}, fmt.Errorf("unknown directory role %q%s", name, suggestion(name, names))
}

// RoleByTemplateID returns the role with the given template id.
func RoleByTemplateID(id string) (DirectoryRole, bool) {
	for _, r := range DirectoryRoles() {
		if strings.EqualFold(r.TemplateID, id) {
			return r, true
		}
	}
	return DirectoryRole{}, false
}

func suggestion(name string, candidates []string) string {
	s := Suggest(name, candidates, 3)
	if len(s) == 0 {
		return ""
	}
	return "; did you mean " + quoteList(s) + "?"
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) <= 1 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
