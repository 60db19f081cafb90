package sandbox

import (
	"net/http"
	"strings"
)

func (t *tenant) organizationProps() map[string]any {
	domains := []any{}
	for i, d := range t.verifiedDomains() {
		caps := "Email"
		if i == 0 {
			caps = "Email, OfficeCommunicationsOnline"
		}
		domains = append(domains, map[string]any{"capabilities": caps, "isDefault": i == 0, "isInitial": i == 0, "name": d, "type": "Managed"})
	}
	return map[string]any{
		"id":                                   t.TenantID,
		"deletedDateTime":                      nil,
		"assignedPlans":                        []any{},
		"businessPhones":                       []any{},
		"city":                                 nil,
		"country":                              nil,
		"countryLetterCode":                    "US",
		"createdDateTime":                      graphDate(t.CreatedDateTime),
		"defaultUsageLocation":                 nil,
		"displayName":                          t.DisplayName,
		"marketingNotificationEmails":          []any{},
		"mobileDeviceManagementAuthority":      "unknown",
		"onPremisesLastSyncDateTime":           nil,
		"onPremisesSyncEnabled":                nil,
		"partnerTenantType":                    nil,
		"postalCode":                           nil,
		"preferredLanguage":                    "en",
		"privacyProfile":                       map[string]any{"contactEmail": "", "statementUrl": ""},
		"provisionedPlans":                     []any{},
		"securityComplianceNotificationMails":  []any{},
		"securityComplianceNotificationPhones": []any{},
		"state":                                nil,
		"street":                               nil,
		"technicalNotificationMails":           []any{"admin@" + t.InitialDomain},
		"tenantType":                           "AAD",
		"verifiedDomains":                      domains,
	}
}

// limitedOrganization applies the User.Read rule of GET /organization: only
// id, displayName and verifiedDomains are readable, the rest come back null.
func limitedOrganization(p map[string]any) map[string]any {
	for k, v := range p {
		switch k {
		case "id", "displayName", "verifiedDomains":
			continue
		}
		if _, isList := v.([]any); isList {
			p[k] = []any{}
		} else {
			p[k] = nil
		}
	}
	return p
}

func (s *Server) routeOrganization(g *graphReq) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if len(g.segs) > 2 {
		return nil, errSegment(g.segs[2])
	}
	if err := g.authorize(permOrgRead); err != nil {
		return nil, err
	}
	props := s.t.organizationProps()
	if !g.id.appOnly && !g.authorizeQuiet(perm{del: anyOf("Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All")}) {
		props = limitedOrganization(props)
	}
	if len(g.segs) == 2 {
		if !strings.EqualFold(g.segs[1], s.t.TenantID) {
			return nil, errNotFound(g.segs[1])
		}
		return g.entityResponse("organization", "organization", props)
	}
	return g.listResponse([]map[string]any{props}, listOptions{typ: "organization", setName: "organization",
		filter: filterSpec{resource: "organization", props: map[string]string{"id": "guid", "displayName": "string"}}})
}

func (g *graphReq) authorizeQuiet(p perm) bool { return g.authorize(p) == nil }

func (s *Server) routeMe(g *graphReq) (*graphResp, *graphError) {
	if g.id.appOnly {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	u := s.t.Users[g.id.oid]
	if u == nil {
		return nil, errNotFound(g.id.oid)
	}
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	switch len(g.segs) {
	case 1:
		if err := g.authorize(permMe); err != nil {
			return nil, err
		}
		return s.userEntity(g, u)
	case 2, 3:
		nav := strings.ToLower(g.segs[1])
		if nav != "memberof" && nav != "transitivememberof" {
			return nil, errSegment(g.segs[1])
		}
		if err := g.authorize(permMemberOf); err != nil {
			return nil, err
		}
		cast := ""
		if len(g.segs) == 3 {
			switch strings.ToLower(g.segs[2]) {
			case "microsoft.graph.directoryrole":
				cast = "directoryRole"
			case "microsoft.graph.group":
				cast = "group"
			default:
				return nil, errSegment(g.segs[2])
			}
			// user-list-transitivememberof: ConsistencyLevel and $count are
			// required with an OData cast.
			if nav == "transitivememberof" && (!strings.EqualFold(g.header.Get("ConsistencyLevel"), "eventual") || !strings.EqualFold(g.query.Get("$count"), "true")) {
				return nil, errUnsupportedQuery("The specified filter to the reference property query is currently not supported.")
			}
		}
		return s.memberships(g, str(u.Props, "id"), nav == "transitivememberof", cast)
	}
	return nil, errSegment(g.segs[3])
}

func (s *Server) userEntity(g *graphReq, u *user) (*graphResp, *graphError) {
	sel, e := g.selectList("user")
	if e != nil {
		return nil, e
	}
	if len(sel) == 0 {
		sel = userDefaultProps
	}
	out := project("user", u.Props, sel)
	ctx := "users/$entity"
	if g.query.Get("$select") != "" {
		ctx = "users" + selectSuffix(sel) + "/$entity"
	}
	out["@odata.context"] = g.contextURL(ctx)
	return ok(out), nil
}

func (s *Server) routeUsers(g *graphReq) (*graphResp, *graphError) {
	if len(g.segs) != 2 {
		return nil, errSegment(g.segs[len(g.segs)-1])
	}
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permUserRead); err != nil {
		return nil, err
	}
	u := s.t.Users[strings.ToLower(g.segs[1])]
	if u == nil {
		u = s.t.userByUPN(g.segs[1])
	}
	if u == nil {
		return nil, errNotFound(g.segs[1])
	}
	return s.userEntity(g, u)
}

func roleName(templateID string) string {
	if r, ok := roleTemplateByID(templateID); ok {
		return r.DisplayName
	}
	return templateID
}

func (s *Server) directoryRoleProps(templateID string) map[string]any {
	r, _ := roleTemplateByID(templateID)
	id := s.t.DirectoryRoleIDs[templateID]
	if id == "" {
		id = templateID
	}
	return map[string]any{"id": id, "deletedDateTime": nil, "description": r.Description, "displayName": r.DisplayName, "roleTemplateId": templateID}
}

// activatedRoles are the directory roles that have been activated in the
// tenant: those with at least one member (Global Administrator always).
func (s *Server) activatedRoles() []string {
	seen := map[string]bool{globalAdminRoleID: true}
	out := []string{globalAdminRoleID}
	for _, ra := range sortedBySeq(s.t.RoleAssignments, func(r *roleAssignment) int64 { return r.Seq }) {
		if ra.DirectoryScopeID == "/" && !seen[ra.RoleDefinitionID] {
			seen[ra.RoleDefinitionID] = true
			out = append(out, ra.RoleDefinitionID)
		}
	}
	return out
}

func (s *Server) routeDirectoryRoles(g *graphReq, key string, hasKey bool) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permRoleRead); err != nil {
		return nil, err
	}
	if hasKey {
		tmpl, ok := parseAlternateKey(key, "roleTemplateId")
		if !ok || len(g.segs) != 1 {
			return nil, errSegment(g.segs[0])
		}
		for _, r := range s.activatedRoles() {
			if strings.EqualFold(r, tmpl) {
				return g.entityResponse("directoryRole", "directoryRoles", s.directoryRoleProps(r))
			}
		}
		return nil, errNotFound(tmpl)
	}
	switch len(g.segs) {
	case 1:
		var items []map[string]any
		for _, r := range s.activatedRoles() {
			items = append(items, s.directoryRoleProps(r))
		}
		return g.listResponse(items, listOptions{typ: "directoryRole", setName: "directoryRoles",
			filter: filterSpec{resource: "directoryRole", props: map[string]string{"displayName": "string", "roleTemplateId": "string", "id": "guid"}}})
	case 2:
		for _, r := range s.activatedRoles() {
			if strings.EqualFold(s.t.DirectoryRoleIDs[r], g.segs[1]) {
				return g.entityResponse("directoryRole", "directoryRoles", s.directoryRoleProps(r))
			}
		}
		return nil, errNotFound(g.segs[1])
	}
	return nil, errSegment(g.segs[2])
}

func roleTemplateProps(r roleTemplate) map[string]any {
	return map[string]any{"id": r.ID, "deletedDateTime": nil, "description": r.Description, "displayName": r.DisplayName}
}

func (s *Server) routeDirectoryRoleTemplates(g *graphReq) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permRoleRead); err != nil {
		return nil, err
	}
	switch len(g.segs) {
	case 1:
		var items []map[string]any
		for _, r := range roleTemplates() {
			items = append(items, roleTemplateProps(r))
		}
		return g.listResponse(items, listOptions{typ: "directoryRoleTemplate", setName: "directoryRoleTemplates",
			filter: filterSpec{resource: "directoryRoleTemplate", props: map[string]string{"displayName": "string", "id": "guid"}}})
	case 2:
		if r, ok := roleTemplateByID(g.segs[1]); ok {
			return g.entityResponse("directoryRoleTemplate", "directoryRoleTemplates", roleTemplateProps(r))
		}
		return nil, errNotFound(g.segs[1])
	}
	return nil, errSegment(g.segs[2])
}

func roleDefinitionProps(r roleTemplate) map[string]any {
	return map[string]any{
		"id":          r.ID,
		"description": r.Description,
		"displayName": r.DisplayName,
		"isBuiltIn":   true,
		"isEnabled":   true,
		// The fixtures have no action lists; an empty list says so honestly.
		"rolePermissions": []any{map[string]any{"allowedResourceActions": []any{}, "condition": nil}},
		"resourceScopes":  []any{"/"},
		"templateId":      r.ID,
		"version":         "1",
	}
}
