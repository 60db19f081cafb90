package sandbox

import (
	"net/http"
	"strings"
	"time"
)

var grantFilter = filterSpec{resource: "oAuth2PermissionGrant", props: map[string]string{
	"clientId": "string", "resourceId": "string", "consentType": "string", "principalId": "string", "id": "string",
}}

func grantProps(g *permissionGrant) map[string]any {
	var principal any
	if g.PrincipalID != "" {
		principal = g.PrincipalID
	}
	return map[string]any{
		"clientId":    g.ClientID,
		"consentType": g.ConsentType,
		"id":          g.ID,
		"principalId": principal,
		"resourceId":  g.ResourceID,
		"scope":       g.Scope,
	}
}

// grantAdminRoles may manage delegated permission grants with a delegated
// token (oauth2permissiongrant-post: Application Administrator, Application
// Developer, Cloud Application Administrator, Directory Writers, Privileged
// Role Administrator, User Administrator), plus Global Administrator.
var grantAdminRoles = []string{globalAdminRoleID, privRoleAdminID, appAdminRoleID, cloudAppAdminID, appDeveloperID, directoryWriterID, userAdminRoleID}

func (s *Server) routeGrants(g *graphReq) (*graphResp, *graphError) {
	t := s.t
	switch len(g.segs) {
	case 1:
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permGrantRead); err != nil {
				return nil, err
			}
			var items []map[string]any
			for _, gr := range sortedBySeq(t.Grants, func(x *permissionGrant) int64 { return x.Seq }) {
				items = append(items, grantProps(gr))
			}
			return g.listResponse(items, listOptions{typ: "oAuth2PermissionGrant", setName: "oauth2PermissionGrants", filter: grantFilter})
		case http.MethodPost:
			return s.createGrant(g)
		}
		return nil, errMethodNotAllowed()
	case 2:
		gr := t.Grants[g.segs[1]]
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permGrantRead); err != nil {
				return nil, err
			}
			if gr == nil {
				return nil, errNotFound(g.segs[1])
			}
			return g.entityResponse("oAuth2PermissionGrant", "oauth2PermissionGrants", grantProps(gr))
		case http.MethodPatch:
			return s.updateGrant(g, gr)
		case http.MethodDelete:
			if err := g.authorize(permGrantWrite); err != nil {
				return nil, err
			}
			if !g.id.appOnly && !g.userHasRole(t, grantAdminRoles...) {
				return nil, errForbidden()
			}
			if gr == nil {
				return nil, errNotFound(g.segs[1])
			}
			delete(t.Grants, gr.ID)
			return s.commit(noContent())
		}
		return nil, errMethodNotAllowed()
	}
	return nil, errSegment(g.segs[2])
}

func validScope(scope string) bool { return len(scope) <= 3850 }

// scopesPublished checks a grant's scope against the delegated permissions
// the resource publishes (its oauth2PermissionScopes values, matched
// case-insensitively as Entra matches scopes): a grant for a permission
// the resource does not have is a bad property value, answered in Entra's
// generic form (endpoints.md §8.2, "Malformed/invalid body or property
// value").
func scopesPublished(resource *servicePrincipal, scope string) *graphError {
	published := map[string]bool{}
	for _, p := range objList(resource.Props["oauth2PermissionScopes"]) {
		published[strings.ToLower(str(p, "value"))] = true
	}
	for _, v := range strings.Fields(scope) {
		if !published[strings.ToLower(v)] {
			return errInvalidValue("scope", "OAuth2PermissionGrant")
		}
	}
	return nil
}

func (s *Server) createGrant(g *graphReq) (*graphResp, *graphError) {
	if err := g.authorize(permGrantWrite); err != nil {
		return nil, err
	}
	t := s.t
	if !g.id.appOnly && !g.userHasRole(t, grantAdminRoles...) {
		return nil, errForbidden()
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := validateObject("oAuth2PermissionGrant", body); e != nil {
		return nil, e
	}
	if _, set := body["id"]; set {
		return nil, errBadRequest("Property 'id' is read-only and cannot be set.")
	}
	clientID, resourceID := strings.ToLower(str(body, "clientId")), strings.ToLower(str(body, "resourceId"))
	consentType, principalID, scope := str(body, "consentType"), strings.ToLower(str(body, "principalId")), str(body, "scope")
	if clientID == "" {
		return nil, errInvalidValue("clientId", "OAuth2PermissionGrant")
	}
	if resourceID == "" {
		return nil, errInvalidValue("resourceId", "OAuth2PermissionGrant")
	}
	switch consentType {
	case "AllPrincipals":
		if principalID != "" {
			return nil, errInvalidValue("principalId", "OAuth2PermissionGrant")
		}
	case "Principal":
		u := t.Users[principalID]
		if u == nil || !s.replicated(u.Created) {
			return nil, errNotFound(str(body, "principalId"))
		}
	default:
		return nil, errInvalidValue("consentType", "OAuth2PermissionGrant")
	}
	if !validScope(scope) {
		return nil, errInvalidValue("scope", "OAuth2PermissionGrant")
	}
	client := t.ServicePrincipals[clientID]
	if client == nil || !s.replicated(client.Created) {
		if client != nil {
			g.fault = "replication"
		}
		return nil, errNotFound(str(body, "clientId"))
	}
	resource := t.ServicePrincipals[resourceID]
	if resource == nil || !s.replicated(resource.Created) {
		if resource != nil {
			g.fault = "replication"
		}
		// Observed while a new resource SP replicates (and for unknown ids).
		return nil, errBadRequest("Specified resourceId was not found.")
	}
	if e := scopesPublished(resource, scope); e != nil {
		return nil, e
	}
	// Tenant-wide consent to Microsoft Graph needs more than the API roles:
	// the admin roles that may grant it.
	if !g.id.appOnly && consentType == "AllPrincipals" && str(resource.Props, "appId") == graphAppID &&
		!g.userHasRole(t, globalAdminRoleID, privRoleAdminID, appAdminRoleID, cloudAppAdminID) {
		return nil, errForbidden()
	}
	for _, gr := range t.Grants {
		if gr.ClientID == clientID && gr.ResourceID == resourceID && gr.ConsentType == consentType && gr.PrincipalID == principalID {
			// Observed in a real run (endpoints.md §8.6).
			return nil, gerr(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists.")
		}
	}
	ids := []string{clientID, resourceID}
	if principalID != "" {
		ids = append(ids, principalID)
	}
	gr := &permissionGrant{ID: opaqueID(ids...), ClientID: clientID, ConsentType: consentType, PrincipalID: principalID,
		ResourceID: resourceID, Scope: scope, Created: time.Now(), Seq: t.seq()}
	t.Grants[gr.ID] = gr
	out := grantProps(gr)
	out["@odata.context"] = g.contextURL("oauth2PermissionGrants/$entity")
	return s.commit(created(out))
}

func (s *Server) updateGrant(g *graphReq, gr *permissionGrant) (*graphResp, *graphError) {
	if err := g.authorize(permGrantWrite); err != nil {
		return nil, err
	}
	if !g.id.appOnly && !g.userHasRole(s.t, grantAdminRoles...) {
		return nil, errForbidden()
	}
	if gr == nil {
		return nil, errNotFound(g.segs[1])
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := validateObject("oAuth2PermissionGrant", body); e != nil {
		return nil, e
	}
	// Only scope is updatable (oauth2permissiongrant-update).
	for k := range body {
		if k != "scope" && !isAnnotation(k) {
			return nil, errBadRequest("Property '%s' is read-only and cannot be set.", k)
		}
	}
	scope, _ := body["scope"].(string)
	if !validScope(scope) {
		return nil, errInvalidValue("scope", "OAuth2PermissionGrant")
	}
	if _, set := body["scope"]; set {
		if resource := s.t.ServicePrincipals[gr.ResourceID]; resource != nil {
			if e := scopesPublished(resource, scope); e != nil {
				return nil, e
			}
		}
		gr.Scope = scope
	}
	return s.commit(noContent())
}
