package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Users, role-assignable groups and PIM eligibility (endpoints.md §6, §13).
// A role assigned to a role-assignable group is active for its members; an
// eligible role (PIM) appears nowhere but roleEligibilityScheduleInstances —
// not in wids, roleAssignments or memberOf — until it is activated.

// group is a security group; only role-assignable ones carry roles.
type group struct {
	Props   map[string]any `json:"props"`
	Members []string       `json:"members"`
	Created time.Time      `json:"created"`
	Seq     int64          `json:"seq"`
}

// roleEligibility is a PIM eligible assignment (a
// unifiedRoleEligibilityScheduleInstance).
type roleEligibility struct {
	ID               string    `json:"id"`
	PrincipalID      string    `json:"principalId"`
	RoleDefinitionID string    `json:"roleDefinitionId"`
	DirectoryScopeID string    `json:"directoryScopeId"`
	ScheduleID       string    `json:"roleEligibilityScheduleId"`
	Start            time.Time `json:"startDateTime"`
	End              time.Time `json:"endDateTime,omitzero"`
	Seq              int64     `json:"seq"`
}

// groupsOf lists the groups principal is a direct member of.
func (t *tenant) groupsOf(principalID string) []*group {
	var out []*group
	for _, g := range sortedBySeq(t.Groups, func(g *group) int64 { return g.Seq }) {
		if contains(g.Members, principalID) {
			out = append(out, g)
		}
	}
	return out
}

func newGroupProps(id, displayName string, roleAssignable bool, now time.Time) map[string]any {
	nick := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, displayName)
	if nick == "" {
		nick = "group"
	}
	visibility := any(nil)
	if roleAssignable {
		// Role-assignable groups are always private.
		visibility = "Private"
	}
	return map[string]any{
		"id":                            id,
		"deletedDateTime":               nil,
		"classification":                nil,
		"createdDateTime":               graphDate(now),
		"description":                   nil,
		"displayName":                   displayName,
		"groupTypes":                    []any{},
		"isAssignableToRole":            roleAssignable,
		"mail":                          nil,
		"mailEnabled":                   false,
		"mailNickname":                  nick,
		"membershipRule":                nil,
		"membershipRuleProcessingState": nil,
		"onPremisesSyncEnabled":         nil,
		"proxyAddresses":                []any{},
		"renewedDateTime":               graphDate(now),
		"securityEnabled":               true,
		"securityIdentifier":            "S-1-12-1-" + strings.ReplaceAll(id[:8], "-", ""),
		"visibility":                    visibility,
	}
}

var groupFilter = filterSpec{resource: "group", props: map[string]string{
	"id": "guid", "displayName": "string", "isAssignableToRole": "bool", "securityEnabled": "bool", "mailEnabled": "bool",
}}

var memberOfFilter = filterSpec{resource: "directoryObject", props: map[string]string{
	"displayName": "string", "roleTemplateId": "string", "id": "guid",
}}

var (
	permGroupRead = perm{
		app: anyOf("Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"),
		del: anyOf("Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"),
	}
	// roleEligibilityScheduleInstance list and filterByCurrentUser.
	permEligibilityRead = perm{
		app: anyOf("RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"),
		del: anyOf("RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleEligibilitySchedule.ReadWrite.Directory", "RoleManagement.ReadWrite.Directory"),
	}
)

// pimReadRoles may read everyone's PIM schedules with a delegated token
// (rbac-pim-entra-roles-apis: "For read operations: Global Reader, Security
// Operator, Security Reader, Security Administrator, or Privileged Role
// Administrator"), plus Global Administrator.
var pimReadRoles = []string{globalAdminRoleID, globalReaderID, securityOperator, securityReaderID, securityAdminID, privRoleAdminID}

// memberships answers /me/memberOf and /me/transitiveMemberOf: groups and
// directory roles, direct or (transitive) through role-assignable groups.
func (s *Server) memberships(g *graphReq, userID string, transitive bool, cast string) (*graphResp, *graphError) {
	t := s.t
	// A caller that may list memberships but not read directory roles
	// gets them with limited information: @odata.type and id, the other
	// properties null (user-list-transitivememberof).
	limited := !g.authorizeQuiet(perm{del: anyOf("RoleManagement.Read.Directory", "RoleManagement.Read.All", "RoleManagement.ReadWrite.Directory",
		"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All")})
	var items []map[string]any
	if cast != "directoryRole" {
		for _, gr := range t.groupsOf(userID) {
			p := deepCopy(gr.Props).(map[string]any)
			p["@odata.type"] = "#microsoft.graph.group"
			items = append(items, p)
		}
	}
	if cast != "group" {
		roles := t.directRoleTemplates(userID)
		if transitive {
			roles = t.directoryRoleTemplates(userID)
		}
		for _, tmpl := range roles {
			p := s.directoryRoleProps(tmpl)
			if limited {
				for k := range p {
					if k != "id" {
						p[k] = nil
					}
				}
			}
			p["@odata.type"] = "#microsoft.graph.directoryRole"
			items = append(items, p)
		}
	}
	set, typ := "directoryObjects", "directoryRole"
	switch cast {
	case "directoryRole":
		set = "directoryRoles"
	case "group":
		set, typ = "groups", "group"
	}
	return g.listResponse(items, listOptions{typ: typ, setName: set, advanced: true, filter: memberOfFilter})
}

func (s *Server) routeGroups(g *graphReq) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permGroupRead); err != nil {
		return nil, err
	}
	t := s.t
	if len(g.segs) == 1 {
		var items []map[string]any
		for _, gr := range sortedBySeq(t.Groups, func(x *group) int64 { return x.Seq }) {
			items = append(items, gr.Props)
		}
		return g.listResponse(items, listOptions{typ: "group", setName: "groups", filter: groupFilter, advanced: true, search: true})
	}
	gr := t.Groups[strings.ToLower(g.segs[1])]
	if gr == nil {
		return nil, errNotFound(g.segs[1])
	}
	switch len(g.segs) {
	case 2:
		return g.entityResponse("group", "groups", gr.Props)
	case 3:
		if !segIs(g.segs[2], "members") && !segIs(g.segs[2], "transitiveMembers") {
			return nil, errSegment(g.segs[2])
		}
		var items []map[string]any
		for _, id := range gr.Members {
			switch {
			case t.Users[id] != nil:
				p := project("user", t.Users[id].Props, userDefaultProps)
				p["@odata.type"] = "#microsoft.graph.user"
				items = append(items, p)
			case t.ServicePrincipals[id] != nil:
				p := project("servicePrincipal", t.ServicePrincipals[id].Props, nil)
				p["@odata.type"] = "#microsoft.graph.servicePrincipal"
				items = append(items, p)
			}
		}
		return g.listResponse(items, listOptions{typ: "directoryObject", setName: "directoryObjects", filter: filterSpec{resource: "directoryObject", props: map[string]string{"id": "guid"}}})
	}
	return nil, errSegment(g.segs[3])
}

func eligibilityProps(e *roleEligibility) map[string]any {
	var end any
	if !e.End.IsZero() {
		end = graphTime(e.End)
	}
	return map[string]any{
		"id":                        e.ID,
		"principalId":               e.PrincipalID,
		"roleDefinitionId":          e.RoleDefinitionID,
		"directoryScopeId":          e.DirectoryScopeID,
		"appScopeId":                nil,
		"startDateTime":             graphTime(e.Start),
		"endDateTime":               end,
		"memberType":                "Direct",
		"roleEligibilityScheduleId": e.ScheduleID,
	}
}

var eligibilityFilter = filterSpec{resource: "unifiedRoleEligibilityScheduleInstance", props: map[string]string{
	"principalId": "string", "roleDefinitionId": "string", "directoryScopeId": "string", "id": "string",
}}

// routeEligibility serves roleManagement/directory/roleEligibilityScheduleInstances
// and its filterByCurrentUser(on='principal') function (v1.0).
func (s *Server) routeEligibility(g *graphReq) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permEligibilityRead); err != nil {
		return nil, err
	}
	const set = "roleManagement/directory/roleEligibilityScheduleInstances"
	t := s.t
	all := sortedBySeq(t.Eligibilities, func(e *roleEligibility) int64 { return e.Seq })
	now := time.Now()
	current := func(e *roleEligibility) bool { return !now.Before(e.Start) && (e.End.IsZero() || now.Before(e.End)) }
	switch len(g.segs) {
	case 3:
		if !g.id.appOnly && !g.userHasRole(t, pimReadRoles...) {
			return nil, errForbidden()
		}
		var items []map[string]any
		for _, e := range all {
			if current(e) {
				items = append(items, eligibilityProps(e))
			}
		}
		return g.listResponse(items, listOptions{typ: "unifiedRoleEligibilityScheduleInstance", setName: set, filter: eligibilityFilter})
	case 4:
		name, key, isCall := parseKeySegment(g.segs[3])
		if isCall && strings.EqualFold(strings.TrimPrefix(name, "microsoft.graph."), "filterByCurrentUser") {
			on, ok := parseAlternateKey(key, "on")
			if !ok {
				return nil, errSegment(g.segs[3])
			}
			if on != "principal" {
				return nil, gerr(http.StatusBadRequest, "BadRequest", "The parameter 'on' has an invalid value '%s'. The possible values are 'principal'.", on)
			}
			var items []map[string]any
			for _, e := range all {
				if e.PrincipalID == g.id.oid && current(e) {
					items = append(items, eligibilityProps(e))
				}
			}
			return g.listResponse(items, listOptions{typ: "unifiedRoleEligibilityScheduleInstance", setName: "Collection(unifiedRoleEligibilityScheduleInstance)", filter: eligibilityFilter})
		}
		if !g.id.appOnly && !g.userHasRole(t, pimReadRoles...) {
			return nil, errForbidden()
		}
		for _, e := range all {
			if e.ID == g.segs[3] {
				return g.entityResponse("unifiedRoleEligibilityScheduleInstance", set, eligibilityProps(e))
			}
		}
		return nil, errNotFound(g.segs[3])
	}
	return nil, errSegment(g.segs[4])
}

// --- administration (Go API; see admin.go for the HTTP form) ---

// UserSpec describes a user to create.
type UserSpec struct {
	// TenantID selects the tenant; "" is the home tenant.
	TenantID string `json:"tenantId,omitempty"`
	// Name is the local part of the user principal name and the display name.
	Name string `json:"name"`
	// Roles are active directory roles by name ("Application Administrator").
	Roles []string `json:"roles,omitempty"`
	// EligibleRoles are PIM-eligible directory roles by name: listed by
	// roleEligibilityScheduleInstances, active nowhere until activated.
	EligibleRoles []string `json:"eligibleRoles,omitempty"`
	// Groups are object ids of groups the user joins.
	Groups []string `json:"groups,omitempty"`
}

// GroupSpec describes a security group to create.
type GroupSpec struct {
	TenantID    string `json:"tenantId,omitempty"`
	DisplayName string `json:"displayName"`
	// RoleAssignable makes it a role-assignable group (isAssignableToRole);
	// only those may hold directory roles.
	RoleAssignable bool `json:"isAssignableToRole"`
	// Members are object ids of users or service principals.
	Members []string `json:"members,omitempty"`
	// Roles are active directory roles by name, assigned to the group.
	Roles []string `json:"roles,omitempty"`
}

// roleTemplateIDs maps built-in role names to their template ids.
func roleTemplateIDs(names []string) ([]string, error) {
	var out []string
	for _, r := range names {
		role, err := roleTemplateByName(r)
		if err != nil {
			return nil, err
		}
		out = append(out, role.ID)
	}
	return out, nil
}

// CreateUserIn adds a member user <name>@<initial domain> to a tenant with
// active and eligible directory roles and group memberships, and returns
// its object id and user principal name.
func (s *Server) CreateUserIn(ctx context.Context, spec UserSpec) (userID, upn string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	active, err := roleTemplateIDs(spec.Roles)
	if err != nil {
		return "", "", fmt.Errorf("create sandbox user %q: %w", spec.Name, err)
	}
	eligible, err := roleTemplateIDs(spec.EligibleRoles)
	if err != nil {
		return "", "", fmt.Errorf("create sandbox user %q: %w", spec.Name, err)
	}
	if strings.TrimSpace(spec.Name) == "" || strings.ContainsAny(spec.Name, "@ /") {
		return "", "", fmt.Errorf("create sandbox user: invalid name %q", spec.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantByID(spec.TenantID)
	if t == nil {
		return "", "", fmt.Errorf("create sandbox user: no tenant %q", spec.TenantID)
	}
	upn = strings.ToLower(spec.Name) + "@" + t.InitialDomain
	if t.userByUPN(upn) != nil {
		return "", "", fmt.Errorf("create sandbox user: %s already exists", upn)
	}
	for _, gid := range spec.Groups {
		if t.Groups[strings.ToLower(gid)] == nil {
			return "", "", fmt.Errorf("create sandbox user %q: no group %s in tenant %s", spec.Name, gid, t.TenantID)
		}
	}
	created := time.Now().Add(-24 * time.Hour)
	userID = newGUID()
	t.Users[userID] = &user{Props: newUserProps(userID, spec.Name, spec.Name, "", upn, time.Now()), Created: created, Seq: t.seq()}
	for _, tmpl := range active {
		t.addRoleAssignment(tmpl, userID, "/", created)
	}
	for _, tmpl := range eligible {
		t.addEligibility(tmpl, userID, created)
	}
	for _, gid := range spec.Groups {
		gr := t.Groups[strings.ToLower(gid)]
		gr.Members = append(gr.Members, userID)
	}
	if err := s.save(); err != nil {
		return "", "", err
	}
	return userID, upn, nil
}

func (t *tenant) addEligibility(roleDefinitionID, principalID string, start time.Time) *roleEligibility {
	e := &roleEligibility{
		ID:               strings.TrimSuffix(roleAssignmentID(roleDefinitionID, principalID, "/"), "-1") + "-1-e",
		PrincipalID:      principalID,
		RoleDefinitionID: roleDefinitionID,
		DirectoryScopeID: "/",
		ScheduleID:       newGUID(),
		Start:            start,
		Seq:              t.seq(),
	}
	t.Eligibilities[e.ID] = e
	return e
}

// CreateGroup adds a security group (role-assignable if asked) with
// members and active directory roles, and returns its object id.
func (s *Server) CreateGroup(ctx context.Context, spec GroupSpec) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	roles, err := roleTemplateIDs(spec.Roles)
	if err != nil {
		return "", fmt.Errorf("create sandbox group %q: %w", spec.DisplayName, err)
	}
	if strings.TrimSpace(spec.DisplayName) == "" {
		return "", errors.New("create sandbox group: a display name is required")
	}
	if len(roles) > 0 && !spec.RoleAssignable {
		return "", fmt.Errorf("create sandbox group %q: only role-assignable groups can hold directory roles", spec.DisplayName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantByID(spec.TenantID)
	if t == nil {
		return "", fmt.Errorf("create sandbox group: no tenant %q", spec.TenantID)
	}
	var members []string
	for _, m := range spec.Members {
		m = strings.ToLower(m)
		if t.Users[m] == nil && t.ServicePrincipals[m] == nil {
			return "", fmt.Errorf("create sandbox group %q: no user or service principal %s in tenant %s", spec.DisplayName, m, t.TenantID)
		}
		members = append(members, m)
	}
	created := time.Now().Add(-24 * time.Hour)
	id := newGUID()
	t.Groups[id] = &group{Props: newGroupProps(id, spec.DisplayName, spec.RoleAssignable, created), Members: members, Created: created, Seq: t.seq()}
	for _, tmpl := range roles {
		t.addRoleAssignment(tmpl, id, "/", created)
	}
	if err := s.save(); err != nil {
		return "", err
	}
	return id, nil
}

// AddGroupMember adds a user or service principal to a group.
func (s *Server) AddGroupMember(ctx context.Context, groupID, memberID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantOf(groupID)
	if t == nil || t.Groups[strings.ToLower(groupID)] == nil {
		return fmt.Errorf("sandbox: no group %s", groupID)
	}
	gr := t.Groups[strings.ToLower(groupID)]
	m := strings.ToLower(memberID)
	if t.Users[m] == nil && t.ServicePrincipals[m] == nil {
		return fmt.Errorf("sandbox: no user or service principal %s in the group's tenant", memberID)
	}
	if !contains(gr.Members, m) {
		gr.Members = append(gr.Members, m)
	}
	return s.save()
}

// AddEligibleRole makes a user PIM-eligible for a directory role (by name).
func (s *Server) AddEligibleRole(ctx context.Context, principalID, role string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmpl, err := roleTemplateIDs([]string{role})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantOf(principalID)
	if t == nil || t.Users[strings.ToLower(principalID)] == nil {
		return fmt.Errorf("sandbox: no user %s", principalID)
	}
	t.addEligibility(tmpl[0], strings.ToLower(principalID), time.Now().Add(-time.Hour))
	return s.save()
}

// ActivateEligibleRole does what a PIM activation does: the eligible role
// becomes an active assignment (the eligibility stays). Tokens issued
// before carry the old wids; the user must sign in again.
func (s *Server) ActivateEligibleRole(ctx context.Context, principalID, role string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	tmpl, err := roleTemplateIDs([]string{role})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strings.ToLower(principalID)
	t := s.tenantOf(id)
	if t == nil {
		return fmt.Errorf("sandbox: no principal %s", principalID)
	}
	found := false
	for _, e := range t.Eligibilities {
		if e.PrincipalID == id && strings.EqualFold(e.RoleDefinitionID, tmpl[0]) {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("sandbox: %s is not eligible for %s", principalID, role)
	}
	if !contains(t.directRoleTemplates(id), tmpl[0]) {
		t.addRoleAssignment(tmpl[0], id, "/", time.Now())
	}
	return s.save()
}

// CreatePrincipalIn is CreatePrincipal in the tenant with this id ("" is
// the home tenant).
func (s *Server) CreatePrincipalIn(ctx context.Context, tenantID, name string, graphAppRoles, directoryRoles []string) (clientID, secret string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantByID(tenantID)
	if t == nil {
		return "", "", fmt.Errorf("create sandbox principal %q: no tenant %q", name, tenantID)
	}
	clientID, secret, err = t.createPrincipal(name, graphAppRoles, directoryRoles, time.Now().Add(-24*time.Hour))
	if err != nil {
		return "", "", fmt.Errorf("create sandbox principal %q: %w", name, err)
	}
	if err := s.save(); err != nil {
		return "", "", err
	}
	return clientID, secret, nil
}

// roleNamesOf names role templates (unknown ones by id), sorted.
func roleNamesOf(templates []string) []any {
	names := make([]string, 0, len(templates))
	for _, t := range templates {
		names = append(names, roleName(t))
	}
	sort.Strings(names)
	return anyList(names)
}
