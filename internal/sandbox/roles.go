package sandbox

import (
	"net/http"
	"strings"
	"time"
)

func roleAssignmentProps(r *roleAssignment) map[string]any {
	return map[string]any{
		"id":               r.ID,
		"principalId":      r.PrincipalID,
		"roleDefinitionId": r.RoleDefinitionID,
		"directoryScopeId": r.DirectoryScopeID,
	}
}

var roleAssignmentFilter = filterSpec{resource: "unifiedRoleAssignment", props: map[string]string{
	"principalId": "string", "roleDefinitionId": "string", "directoryScopeId": "string", "id": "string",
}}

var roleDefinitionFilter = filterSpec{resource: "unifiedRoleDefinition", props: map[string]string{
	"id": "string", "displayName": "string", "isBuiltIn": "bool", "templateId": "string",
}}

func (s *Server) routeRoleManagement(g *graphReq) (*graphResp, *graphError) {
	if len(g.segs) < 3 || !segIs(g.segs[1], "directory") {
		if len(g.segs) < 2 {
			return nil, errSegment(g.segs[0])
		}
		return nil, errSegment(g.segs[1])
	}
	switch strings.ToLower(g.segs[2]) {
	case "roleassignments":
		return s.routeRoleAssignments(g)
	case "roledefinitions":
		return s.routeRoleDefinitions(g)
	case "roleeligibilityscheduleinstances":
		return s.routeEligibility(g)
	}
	return nil, errSegment(g.segs[2])
}

func (s *Server) routeRoleDefinitions(g *graphReq) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permRoleRead); err != nil {
		return nil, err
	}
	switch len(g.segs) {
	case 3:
		var items []map[string]any
		for _, r := range roleTemplates() {
			items = append(items, roleDefinitionProps(r))
		}
		return g.listResponse(items, listOptions{typ: "unifiedRoleDefinition", setName: "roleManagement/directory/roleDefinitions", filter: roleDefinitionFilter})
	case 4:
		if r, ok := roleTemplateByID(g.segs[3]); ok {
			return g.entityResponse("unifiedRoleDefinition", "roleManagement/directory/roleDefinitions", roleDefinitionProps(r))
		}
		return nil, errNotFound(g.segs[3])
	}
	return nil, errSegment(g.segs[4])
}

func (s *Server) routeRoleAssignments(g *graphReq) (*graphResp, *graphError) {
	const set = "roleManagement/directory/roleAssignments"
	switch len(g.segs) {
	case 3:
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permRoleRead); err != nil {
				return nil, err
			}
			var items []map[string]any
			for _, r := range sortedBySeq(s.t.RoleAssignments, func(r *roleAssignment) int64 { return r.Seq }) {
				items = append(items, roleAssignmentProps(r))
			}
			return g.listResponse(items, listOptions{typ: "unifiedRoleAssignment", setName: set, filter: roleAssignmentFilter})
		case http.MethodPost:
			return s.createRoleAssignment(g)
		}
		return nil, errMethodNotAllowed()
	case 4:
		ra := s.t.RoleAssignments[g.segs[3]]
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permRoleRead); err != nil {
				return nil, err
			}
			if ra == nil {
				return nil, errNotFound(g.segs[3])
			}
			return g.entityResponse("unifiedRoleAssignment", set, roleAssignmentProps(ra))
		case http.MethodDelete:
			if err := g.authorize(permRoleWrite); err != nil {
				return nil, err
			}
			if !g.id.appOnly && !g.userHasRole(s.t, globalAdminRoleID, privRoleAdminID) {
				return nil, errForbidden()
			}
			if ra == nil {
				return nil, errNotFound(g.segs[3])
			}
			delete(s.t.RoleAssignments, ra.ID)
			return s.commit(noContent())
		}
		return nil, errMethodNotAllowed()
	}
	return nil, errSegment(g.segs[4])
}

func (s *Server) createRoleAssignment(g *graphReq) (*graphResp, *graphError) {
	if err := g.authorize(permRoleWrite); err != nil {
		return nil, err
	}
	// Assigning directory roles is reserved to Privileged Role
	// Administrators and Global Administrators.
	if !g.id.appOnly && !g.userHasRole(s.t, globalAdminRoleID, privRoleAdminID) {
		return nil, errForbidden()
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := validateObject("unifiedRoleAssignment", body); e != nil {
		return nil, e
	}
	if _, set := body["id"]; set {
		return nil, errBadRequest("Property 'id' is read-only and cannot be set.")
	}
	roleID, principalID := str(body, "roleDefinitionId"), str(body, "principalId")
	scope, appScope := str(body, "directoryScopeId"), str(body, "appScopeId")
	if roleID == "" {
		return nil, errInvalidValue("roleDefinitionId", "UnifiedRoleAssignment")
	}
	if principalID == "" {
		return nil, errInvalidValue("principalId", "UnifiedRoleAssignment")
	}
	if scope == "" && appScope == "" || scope != "" && appScope != "" {
		return nil, errInvalidValue("directoryScopeId", "UnifiedRoleAssignment")
	}
	if appScope != "" {
		return nil, errInvalidValue("appScopeId", "UnifiedRoleAssignment")
	}
	if _, ok := roleTemplateByID(roleID); !ok {
		return nil, errNotFound(roleID)
	}
	kind := s.t.principalKind(principalID)
	if kind == "" || !s.replicated(s.t.principalCreated(principalID)) {
		if kind != "" {
			g.fault = "replication"
		}
		return nil, errNotFound(principalID)
	}
	if gr := s.t.Groups[principalID]; gr != nil {
		if b, _ := gr.Props["isAssignableToRole"].(bool); !b {
			// No published wording; only role-assignable groups can hold roles.
			return nil, errBadRequest("The group '%s' is not role-assignable: only groups created with isAssignableToRole can be assigned directory roles.", principalID)
		}
	}
	if scope != "/" {
		target := strings.TrimPrefix(scope, "/")
		if _, isApp := s.t.Applications[target]; !isApp || strings.Contains(target, "/") {
			return nil, errInvalidValue("directoryScopeId", "UnifiedRoleAssignment")
		}
	}
	for _, ra := range s.t.RoleAssignments {
		if ra.PrincipalID == principalID && strings.EqualFold(ra.RoleDefinitionID, roleID) && ra.DirectoryScopeID == scope {
			// Observed for this endpoint: 400 Request_BadRequest with
			// the directory's generic conflict message.
			return nil, errBadRequest("A conflicting object with one or more of the specified property values is present in the directory.")
		}
	}
	ra := s.t.addRoleAssignment(strings.ToLower(roleID), principalID, scope, time.Now())
	out := roleAssignmentProps(ra)
	out["@odata.context"] = g.contextURL("roleManagement/directory/roleAssignments/$entity")
	return s.commit(created(out))
}
