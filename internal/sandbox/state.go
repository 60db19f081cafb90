package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Well-known ids that are the same in every tenant.
const (
	microsoftTenantID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a" // Microsoft Services, owner of first-party apps
	globalAdminRoleID = "62e90394-69f5-4237-9190-012177145e10"
	privRoleAdminID   = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	appAdminRoleID    = "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"
	cloudAppAdminID   = "158c047a-c907-4556-b7ef-446551a6b5f7"
	userAdminRoleID   = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	appDeveloperID    = "cf1c38e5-3621-4004-a7cb-879624dced7c"
	directoryWriterID = "9360feb5-f418-4baa-8175-e2a00bac4301"
	globalReaderID    = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"
	securityAdminID   = "194ae4cb-b126-40b2-bd5b-6091b380977d"
	securityReaderID  = "5d6b6bb7-de71-4623-b4af-96380a352509"
	securityOperator  = "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f"
	reportsReaderID   = "4a5d8f65-41da-4de4-8968-e035b65339cf"
	// hybridIdentityAdminID may restore deleted applications (directory-deleteditems-restore).
	hybridIdentityAdminID = "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2"
	// legacyAADGraphAppID is Azure AD Graph; granting its app roles needs the
	// same privileged roles as Microsoft Graph's.
	legacyAADGraphAppID = "00000002-0000-0000-c000-000000000000"
)

// stateVersion is bumped when the persisted layout changes incompatibly.
const stateVersion = 1

// application is an app registration. Props holds its Graph representation
// (every property, keyCredentials' keys included); secret values exist only
// as salted hashes in Secrets.
type application struct {
	Props   map[string]any `json:"props"`
	Secrets []secretRecord `json:"secrets"`
	// CredAdded records when each credential (secret or certificate) was
	// added, for the replication delay of the token endpoint.
	CredAdded map[string]time.Time `json:"credAdded,omitempty"`
	Owners    []string             `json:"owners"`
	Created   time.Time            `json:"created"`
	Seq       int64                `json:"seq"`
}

// secretRecord is the only trace of a client secret the sandbox keeps.
type secretRecord struct {
	KeyID string `json:"keyId"`
	Salt  string `json:"salt"`
	Hash  string `json:"hash"`
}

func hashSecret(salt, secret string) string {
	sum := sha256.Sum256([]byte(salt + "\x00" + secret))
	return hex.EncodeToString(sum[:])
}

func (r secretRecord) matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(r.Salt, secret)), []byte(r.Hash)) == 1
}

// servicePrincipal is an enterprise application. Builtin SPs (Microsoft
// Graph, Exchange Online, first-party clients) are rebuilt from the fixtures
// on load instead of persisting their thousand-entry permission lists.
type servicePrincipal struct {
	Props   map[string]any `json:"props"`
	Builtin string         `json:"builtin,omitempty"`
	Owners  []string       `json:"owners,omitempty"`
	Created time.Time      `json:"created"`
	Seq     int64          `json:"seq"`
}

type user struct {
	Props   map[string]any `json:"props"`
	Created time.Time      `json:"created"`
	Seq     int64          `json:"seq"`
}

type appRoleAssignment struct {
	ID            string    `json:"id"`
	PrincipalID   string    `json:"principalId"`
	PrincipalType string    `json:"principalType"`
	ResourceID    string    `json:"resourceId"`
	AppRoleID     string    `json:"appRoleId"`
	Created       time.Time `json:"created"`
	Seq           int64     `json:"seq"`
}

type permissionGrant struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"clientId"`
	ConsentType string    `json:"consentType"`
	PrincipalID string    `json:"principalId,omitempty"`
	ResourceID  string    `json:"resourceId"`
	Scope       string    `json:"scope"`
	Created     time.Time `json:"created"`
	Seq         int64     `json:"seq"`
}

type roleAssignment struct {
	ID               string    `json:"id"`
	PrincipalID      string    `json:"principalId"`
	RoleDefinitionID string    `json:"roleDefinitionId"`
	DirectoryScopeID string    `json:"directoryScopeId"`
	Created          time.Time `json:"created"`
	Seq              int64     `json:"seq"`
}

// tenant is the whole directory; it is what state.json persists.
type tenant struct {
	Version          int               `json:"version"`
	TenantID         string            `json:"tenantId"`
	InitialDomain    string            `json:"initialDomain"`
	DisplayName      string            `json:"displayName"`
	CreatedDateTime  time.Time         `json:"createdDateTime"`
	ExtraDomains     []string          `json:"extraDomains"`
	DirectoryRoleIDs map[string]string `json:"directoryRoleIds"`
	BootstrapAppID   string            `json:"bootstrapAppId"`
	AdminUserID      string            `json:"adminUserId"`
	NextSeq          int64             `json:"nextSeq"`

	Applications       map[string]*application       `json:"applications"`
	ServicePrincipals  map[string]*servicePrincipal  `json:"servicePrincipals"`
	Users              map[string]*user              `json:"users"`
	AppRoleAssignments map[string]*appRoleAssignment `json:"appRoleAssignments"`
	Grants             map[string]*permissionGrant   `json:"oauth2PermissionGrants"`
	RoleAssignments    map[string]*roleAssignment    `json:"roleAssignments"`

	// The recycle bin (/directory/deletedItems).
	DeletedApplications      map[string]*application      `json:"deletedApplications,omitempty"`
	DeletedServicePrincipals map[string]*deletedPrincipal `json:"deletedServicePrincipals,omitempty"`

	Groups        map[string]*group           `json:"groups,omitempty"`
	Eligibilities map[string]*roleEligibility `json:"roleEligibilities,omitempty"`

	// App management policies: the tenant default and per-app policies.
	DefaultAppPolicy map[string]any                  `json:"defaultAppManagementPolicy,omitempty"`
	AppPolicies      map[string]*appManagementPolicy `json:"appManagementPolicies,omitempty"`
	// RequireServiceManagementReference makes new applications without a
	// serviceManagementReference fail, as some tenants are configured.
	RequireServiceManagementReference bool `json:"requireServiceManagementReference,omitempty"`

	SignIns []*signInRecord `json:"signIns,omitempty"`

	// Tenants are the further tenants one sandbox serves; only the home
	// tenant (the root of state.json) has them.
	Tenants []*tenant `json:"tenants,omitempty"`
}

func (t *tenant) seq() int64 { t.NextSeq++; return t.NextSeq }

// verifiedDomains lists the initial domain first, then the others.
func (t *tenant) verifiedDomains() []string {
	return append([]string{t.InitialDomain}, t.ExtraDomains...)
}

// isVerifiedHost reports whether host is a verified domain or a subdomain of one.
func (t *tenant) isVerifiedHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range t.verifiedDomains() {
		d = strings.ToLower(d)
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// matchesTenant reports whether a path segment names this tenant (its id or
// one of its verified domains).
func (t *tenant) matchesTenant(seg string) bool {
	if strings.EqualFold(seg, t.TenantID) {
		return true
	}
	for _, d := range t.verifiedDomains() {
		if strings.EqualFold(seg, d) {
			return true
		}
	}
	return false
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func strList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func anyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func objList(v any) []map[string]any {
	arr, _ := v.([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, x := range arr {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (t *tenant) appByAppID(appID string) *application {
	for _, a := range t.Applications {
		if strings.EqualFold(str(a.Props, "appId"), appID) {
			return a
		}
	}
	return nil
}

func (t *tenant) spByAppID(appID string) *servicePrincipal {
	for _, sp := range t.ServicePrincipals {
		if strings.EqualFold(str(sp.Props, "appId"), appID) {
			return sp
		}
	}
	return nil
}

func (t *tenant) userByUPN(upn string) *user {
	for _, u := range t.Users {
		if strings.EqualFold(str(u.Props, "userPrincipalName"), upn) {
			return u
		}
	}
	return nil
}

// principalKind returns "ServicePrincipal", "User", "Group" or "" for an
// object id.
func (t *tenant) principalKind(id string) string {
	if _, ok := t.ServicePrincipals[id]; ok {
		return "ServicePrincipal"
	}
	if _, ok := t.Users[id]; ok {
		return "User"
	}
	if _, ok := t.Groups[id]; ok {
		return "Group"
	}
	return ""
}

func (t *tenant) principalCreated(id string) time.Time {
	if sp, ok := t.ServicePrincipals[id]; ok {
		return sp.Created
	}
	if u, ok := t.Users[id]; ok {
		return u.Created
	}
	if g, ok := t.Groups[id]; ok {
		return g.Created
	}
	return time.Time{}
}

func (t *tenant) principalName(id string) string {
	if sp, ok := t.ServicePrincipals[id]; ok {
		return str(sp.Props, "displayName")
	}
	if u, ok := t.Users[id]; ok {
		return str(u.Props, "displayName")
	}
	if g, ok := t.Groups[id]; ok {
		return str(g.Props, "displayName")
	}
	return ""
}

// directRoleTemplates returns the role templates assigned to principal
// itself (active, tenant-wide).
func (t *tenant) directRoleTemplates(principalID string) []string {
	var out []string
	for _, ra := range t.RoleAssignments {
		if ra.PrincipalID == principalID && ra.DirectoryScopeID == "/" && !contains(out, ra.RoleDefinitionID) {
			out = append(out, ra.RoleDefinitionID)
		}
	}
	sort.Strings(out)
	return out
}

// directoryRoleTemplates returns the active role templates of principal:
// its own tenant-wide assignments and those of the role-assignable groups
// it is a member of (a role-assignable group cannot contain groups, so one
// level is the whole of it). PIM-eligible roles are not among them.
func (t *tenant) directoryRoleTemplates(principalID string) []string {
	out := t.directRoleTemplates(principalID)
	for _, g := range t.groupsOf(principalID) {
		if b, _ := g.Props["isAssignableToRole"].(bool); !b {
			continue
		}
		for _, r := range t.directRoleTemplates(str(g.Props, "id")) {
			if !contains(out, r) {
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (t *tenant) hasRole(principalID string, templates ...string) bool {
	for _, r := range t.directoryRoleTemplates(principalID) {
		if contains(templates, r) {
			return true
		}
	}
	return false
}

// graphAppRoles returns the values of the app roles a service principal holds
// on the resource whose service principal is resourceID.
func (t *tenant) appRoleValues(principalID, resourceID string) []string {
	res := t.ServicePrincipals[resourceID]
	if res == nil {
		return nil
	}
	byID := map[string]string{}
	for _, r := range objList(res.Props["appRoles"]) {
		byID[strings.ToLower(str(r, "id"))] = str(r, "value")
	}
	var out []string
	for _, a := range t.AppRoleAssignments {
		if a.PrincipalID == principalID && a.ResourceID == resourceID {
			if v := byID[strings.ToLower(a.AppRoleID)]; v != "" && !contains(out, v) {
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// persisted is the on-disk form: builtin SPs lose their appRoles and scopes.
func (t *tenant) persisted() *tenant {
	cp := *t
	cp.Tenants = make([]*tenant, len(t.Tenants))
	for i, o := range t.Tenants {
		cp.Tenants[i] = o.persisted()
	}
	cp.ServicePrincipals = make(map[string]*servicePrincipal, len(t.ServicePrincipals))
	for id, sp := range t.ServicePrincipals {
		if sp.Builtin == "" {
			cp.ServicePrincipals[id] = sp
			continue
		}
		props := make(map[string]any, len(sp.Props))
		for k, v := range sp.Props {
			if k != "appRoles" && k != "oauth2PermissionScopes" {
				props[k] = v
			}
		}
		spc := *sp
		spc.Props = props
		cp.ServicePrincipals[id] = &spc
	}
	return &cp
}

func saveTenant(dir string, t *tenant) error {
	b, err := json.Marshal(t.persisted())
	if err != nil {
		return fmt.Errorf("encode sandbox state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), b, 0o600)
}

// loadTenant reads state.json; it returns (nil, nil) when there is none.
func loadTenant(dir string) (*tenant, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}
	var t tenant
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decode sandbox state %s: %w", filepath.Join(dir, stateFile), err)
	}
	if t.Version != stateVersion {
		return nil, fmt.Errorf("sandbox state %s has version %d, want %d: use a new --state-dir", filepath.Join(dir, stateFile), t.Version, stateVersion)
	}
	t.afterLoad()
	for _, sp := range t.ServicePrincipals {
		if sp.Builtin != "" {
			fillBuiltinPermissions(sp)
		}
	}
	return &t, nil
}

// fillBuiltinPermissions restores a builtin SP's appRoles and scopes from
// the fixtures.
func fillBuiltinPermissions(sp *servicePrincipal) {
	roles, scopes := []any{}, []any{}
	if res := fixtureResource(str(sp.Props, "appId")); res != nil {
		roles, scopes = deepCopy(res.AppRoles).([]any), deepCopy(res.Scopes).([]any)
	}
	sp.Props["appRoles"] = roles
	sp.Props["oauth2PermissionScopes"] = scopes
}
