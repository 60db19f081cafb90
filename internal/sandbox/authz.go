package sandbox

import (
	"net"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/cloud"
)

// identity is the caller of a Graph request, from its access token.
type identity struct {
	appOnly bool
	appID   string   // client application id (appid/azp)
	oid     string   // service principal (app-only) or user object id
	roles   []string // app roles (app-only)
	scopes  []string // delegated scopes
	wids    []string
	upn     string
	tenant  *tenant // the tenant of the token's tid
}

// clockSkew is the leeway Graph allows on token lifetimes.
const clockSkew = 5 * time.Minute

// authenticate validates the bearer token the way Graph does: signature by
// the tenant's signing key, lifetime, tenant, and an audience that matches
// the Graph host the request was sent to. Callers hold s.mu.
func (s *Server) authenticate(g *graphReq) (*identity, *graphError) {
	h := g.header.Get("Authorization")
	if h == "" {
		return nil, errUnauthorized("Access token is empty.")
	}
	scheme, raw, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil, errUnauthorized("Access token is empty.")
	}
	tok, err := parseJWT(strings.TrimSpace(raw))
	if err != nil {
		return nil, errUnauthorized("CompactToken parsing failed with error code: 80049217")
	}
	if tok.alg() != "RS256" || tok.verify(&s.signing.key.PublicKey) != nil {
		return nil, errUnauthorized("Access token validation failure.")
	}
	now := time.Now()
	exp, hasExp := tok.num("exp")
	if !hasExp || now.After(time.Unix(exp, 0).Add(clockSkew)) {
		return nil, errUnauthorized("Lifetime validation failed, the token is expired.")
	}
	if nbf, ok := tok.num("nbf"); ok && now.Add(clockSkew).Before(time.Unix(nbf, 0)) {
		return nil, errUnauthorized("Lifetime validation failed, the token is not yet valid.")
	}
	t := s.tenantByID(tok.str("tid"))
	if tok.str("tid") == "" || t == nil {
		return nil, errUnauthorized("Access token validation failure. Invalid issuer.")
	}
	if !s.audienceValid(tok.str("aud"), tok.str("iss"), g.hostName()) {
		return nil, errUnauthorized("Access token validation failure. Invalid audience.")
	}
	id := &identity{
		appOnly: tok.str("idtyp") == "app" || tok.str("scp") == "",
		appID:   tok.str("appid"),
		oid:     tok.str("oid"),
		roles:   tok.strings("roles"),
		wids:    tok.strings("wids"),
		upn:     tok.str("upn"),
		tenant:  t,
	}
	if scp := tok.str("scp"); scp != "" {
		id.scopes = strings.Fields(scp)
	}
	return id, nil
}

// graphHostCloud maps a Graph host to its cloud name ("" if not a Microsoft
// Graph host, i.e. the sandbox's own address).
func graphHostCloud(host string) string {
	host = strings.ToLower(host)
	for _, c := range cloud.All() {
		if strings.EqualFold(c.GraphHost(), host) {
			return c.Name
		}
	}
	return ""
}

// audienceValid implements Graph's audience check: a token for one national
// cloud's Graph (or for the sandbox's own address) is not valid at another.
// The Graph appId as audience is accepted where the token was issued by the
// same cloud.
func (s *Server) audienceValid(aud, iss, host string) bool {
	aud = strings.TrimSuffix(strings.ToLower(aud), "/")
	hostCloud := graphHostCloud(host)
	if aud == graphAppID {
		return issuerCloud(iss) == hostCloud || hostCloud == "" && s.isSandboxIssuer(iss)
	}
	if hostCloud != "" {
		return aud == "https://"+strings.ToLower(host)
	}
	return s.isSandboxAudience(aud, host)
}

// isSandboxAudience reports whether aud names the sandbox's own address as
// reached through host (127.0.0.1, localhost and ::1 are one server).
func (s *Server) isSandboxAudience(aud, host string) bool {
	aud = strings.TrimPrefix(aud, "https://")
	_, port, _ := net.SplitHostPort(s.addr)
	ah, ap := splitHTTPSHost(aud)
	if ap != port || !isLoopbackName(ah) {
		return false
	}
	hh, hp := splitHTTPSHost(host)
	return hp == port && isLoopbackName(hh)
}

// splitHTTPSHost splits host[:port]; no port is https's 443 (a sandbox on
// 443 is addressed as https://127.0.0.1, and clients drop the default port).
func splitHTTPSHost(host string) (string, string) {
	h, p, err := net.SplitHostPort(host)
	if err != nil {
		return strings.Trim(host, "[]"), "443"
	}
	return h, p
}

func isLoopbackName(h string) bool {
	h = strings.Trim(strings.ToLower(h), "[]")
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// Issuers of v1 access tokens per cloud, as Entra writes them.
func issuerFor(cloudName, host, tenantID string) string {
	switch cloudName {
	case cloud.Global.Name:
		return "https://sts.windows.net/" + tenantID + "/"
	case cloud.USGov.Name, cloud.USGovDoD.Name:
		return "https://login.microsoftonline.us/" + tenantID + "/"
	case cloud.China.Name:
		return "https://sts.chinacloudapi.cn/" + tenantID + "/"
	}
	return "https://" + host + "/" + tenantID + "/"
}

func issuerCloud(iss string) string {
	switch {
	case strings.HasPrefix(iss, "https://sts.windows.net/"):
		return cloud.Global.Name
	case strings.HasPrefix(iss, "https://login.microsoftonline.us/"):
		return cloud.USGov.Name
	case strings.HasPrefix(iss, "https://sts.chinacloudapi.cn/"):
		return cloud.China.Name
	}
	return ""
}

func (s *Server) isSandboxIssuer(iss string) bool { return issuerCloud(iss) == "" }

// perm lists what a request needs: for app-only tokens every group in app
// must be satisfied by one role of the group; for delegated tokens one scope
// of each group in del. An empty list means the token type is not supported.
type perm struct {
	app [][]string
	del [][]string
}

func anyOf(names ...string) [][]string { return [][]string{names} }

var (
	permOrgRead = perm{
		app: anyOf("Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("User.Read", "Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permMe = perm{
		del: anyOf("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permMemberOf = perm{
		del: anyOf("User.Read", "User.Read.All", "User.ReadWrite.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permUserRead = perm{
		app: anyOf("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permAppRead = perm{
		app: anyOf("Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permAppCreate = perm{
		app: anyOf("AppRegistration.Create", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"),
		del: anyOf("AppRegistration.Create", "Application.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permAppWrite = perm{
		app: anyOf("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All"),
		del: anyOf("Application.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permAddKey = perm{
		app: anyOf("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"),
		del: anyOf("Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permSPRead = perm{
		app: anyOf("Application.Read.All", "Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permSPList = perm{
		app: anyOf("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permSPWrite = perm{
		app: anyOf("Application.ReadWrite.OwnedBy", "Application.ReadWrite.All", "Directory.ReadWrite.All"),
		del: anyOf("Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	// Granting an app role needs AppRoleAssignment.ReadWrite.All plus read
	// access to applications (serviceprincipal-post-approleassignedto).
	permAssignAppRole = perm{
		app: [][]string{{"AppRoleAssignment.ReadWrite.All"}, {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
		del: [][]string{{"AppRoleAssignment.ReadWrite.All", "Directory.AccessAsUser.All"}, {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}},
	}
	permAppRoleRead = perm{
		app: anyOf("Application.Read.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("Application.Read.All", "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permAppRoleDelete = perm{
		app: anyOf("AppRoleAssignment.ReadWrite.All"),
		del: anyOf("AppRoleAssignment.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permGrantWrite = perm{
		app: anyOf("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"),
		del: anyOf("DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permGrantRead = perm{
		app: anyOf("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("DelegatedPermissionGrant.Read.All", "DelegatedPermissionGrant.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	permRoleWrite = perm{
		app: anyOf("RoleManagement.ReadWrite.Directory"),
		del: anyOf("RoleManagement.ReadWrite.Directory", "Directory.AccessAsUser.All"),
	}
	permRoleRead = perm{
		app: anyOf("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
)

// authorize checks the token's roles or scopes against p.
func (g *graphReq) authorize(p perm) *graphError {
	groups, have := p.del, g.id.scopes
	if g.id.appOnly {
		groups, have = p.app, g.id.roles
	}
	if len(groups) == 0 {
		return errForbidden()
	}
	for _, grp := range groups {
		satisfied := false
		for _, name := range grp {
			if contains(have, name) {
				satisfied = true
				break
			}
		}
		if !satisfied {
			return errForbidden()
		}
	}
	return nil
}

// hasRole reports whether an app-only caller holds one of the roles.
func (g *graphReq) hasRole(roles ...string) bool {
	for _, r := range roles {
		if contains(g.id.roles, r) {
			return true
		}
	}
	return false
}

// userHasRole reports whether a delegated caller's user holds one of the
// directory roles: active now (directly or through a role-assignable group)
// and present in the token's wids, which changes only with a new token
// (endpoints.md §13) — a role activated in PIM after sign-in does not count
// until the user signs in again, one removed since does not count either.
func (g *graphReq) userHasRole(t *tenant, templates ...string) bool {
	for _, r := range t.directoryRoleTemplates(g.id.oid) {
		if contains(templates, r) && contains(g.id.wids, r) {
			return true
		}
	}
	return false
}

// appAdminRoles may manage every application and service principal.
var appAdminRoles = []string{globalAdminRoleID, appAdminRoleID, cloudAppAdminID}

// canManageApp decides writes to an application: app-only callers need
// Application.ReadWrite.All, or OwnedBy and ownership; users need to own it or
// hold an application admin role.
func (g *graphReq) canManageApp(t *tenant, owners []string) bool {
	if g.id.appOnly {
		if g.hasRole("Application.ReadWrite.All", "Directory.ReadWrite.All") {
			return true
		}
		return contains(owners, g.id.oid)
	}
	return contains(owners, g.id.oid) || g.userHasRole(t, appAdminRoles...)
}

// canReadApp decides reads: OwnedBy-only apps see only what they own.
func (g *graphReq) canReadApp(owners []string) bool {
	if g.id.appOnly && !g.hasRole("Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All") {
		return contains(owners, g.id.oid)
	}
	return true
}
