package sandbox

import (
	"net/http"
	"strings"
	"time"
)

var servicePrincipalFilter = filterSpec{resource: "servicePrincipal", props: map[string]string{
	"appId": "string", "displayName": "string", "id": "guid", "servicePrincipalNames": "collection", "tags": "collection",
	"servicePrincipalType": "string", "accountEnabled": "bool", "appOwnerOrganizationId": "guid", "appDisplayName": "string",
}}

var appRoleAssignmentFilter = filterSpec{resource: "appRoleAssignment", props: map[string]string{
	"resourceId": "guid", "principalId": "guid", "appRoleId": "guid", "principalType": "string",
}}

func (s *Server) routeServicePrincipals(g *graphReq, key string, hasKey bool) (*graphResp, *graphError) {
	t := s.t
	var sp *servicePrincipal
	var rest []string
	switch {
	case hasKey:
		var r *graphResp
		var e *graphError
		if sp, r, e = s.routeSPKey(g, key); sp == nil {
			return r, e
		}
		rest = g.segs[1:]
	case len(g.segs) == 1:
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permSPList); err != nil {
				return nil, err
			}
			var items []map[string]any
			for _, x := range sortedBySeq(t.ServicePrincipals, func(x *servicePrincipal) int64 { return x.Seq }) {
				items = append(items, x.Props)
			}
			return g.listResponse(items, listOptions{typ: "servicePrincipal", setName: "servicePrincipals", filter: servicePrincipalFilter, advanced: true, search: true})
		case http.MethodPost:
			return s.createServicePrincipal(g)
		}
		return nil, errMethodNotAllowed()
	case g.segs[1] == "$count":
		return s.countObjects(g, permSPList, len(t.ServicePrincipals))
	default:
		if sp = t.ServicePrincipals[strings.ToLower(g.segs[1])]; sp == nil {
			if err := g.authorize(permSPRead); err != nil {
				return nil, err
			}
			return nil, errNotFound(g.segs[1])
		}
		rest = g.segs[2:]
	}
	if len(rest) == 0 {
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permSPRead); err != nil {
				return nil, err
			}
			return g.entityResponse("servicePrincipal", "servicePrincipals", sp.Props)
		case http.MethodPatch:
			return s.updateServicePrincipal(g, sp)
		case http.MethodDelete:
			return s.deleteServicePrincipal(g, sp)
		}
		return nil, errMethodNotAllowed()
	}
	nav := strings.ToLower(rest[0])
	switch nav {
	case "approleassignedto", "approleassignments":
		resourceSide := nav == "approleassignedto"
		switch len(rest) {
		case 1:
			switch g.method {
			case http.MethodGet:
				return s.listAppRoleAssignments(g, sp, resourceSide)
			case http.MethodPost:
				return s.createAppRoleAssignment(g, sp, resourceSide)
			}
			return nil, errMethodNotAllowed()
		case 2:
			return s.appRoleAssignmentItem(g, sp, resourceSide, rest[1])
		}
		return nil, errSegment(rest[2])
	case "oauth2permissiongrants":
		if len(rest) != 1 {
			return nil, errSegment(rest[1])
		}
		if g.method != http.MethodGet {
			return nil, errMethodNotAllowed()
		}
		if err := g.authorize(permGrantRead); err != nil {
			return nil, err
		}
		spID := str(sp.Props, "id")
		var items []map[string]any
		for _, gr := range sortedBySeq(t.Grants, func(x *permissionGrant) int64 { return x.Seq }) {
			if gr.ClientID == spID {
				items = append(items, grantProps(gr))
			}
		}
		return g.listResponse(items, listOptions{typ: "oAuth2PermissionGrant", setName: "oauth2PermissionGrants", filter: grantFilter})
	}
	return nil, errSegment(rest[0])
}

func (s *Server) createServicePrincipal(g *graphReq) (*graphResp, *graphError) {
	if err := g.authorize(permSPWrite); err != nil {
		return nil, err
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	return s.insertServicePrincipal(g, body)
}

// insertServicePrincipal creates a service principal from a POST (or
// upsert) body, with the replication behaviour of POST /servicePrincipals.
func (s *Server) insertServicePrincipal(g *graphReq, body map[string]any) (*graphResp, *graphError) {
	if e := validateWrite("servicePrincipal", body); e != nil {
		return nil, e
	}
	if pc, _ := body["passwordCredentials"].([]any); len(pc) > 0 {
		return nil, errBadRequest("Property 'passwordCredentials' is read-only and cannot be set. Use the addPassword and removePassword actions to manage client secrets.")
	}
	appID := str(body, "appId")
	t := s.t
	noBacking := func() *graphError { return noBackingApplication(appID) }
	if appID == "" {
		return nil, noBacking()
	}
	if existing := t.spByAppID(appID); existing != nil {
		return nil, spNameInUse(str(existing.Props, "appId"))
	}
	now := time.Now()
	var sp *servicePrincipal
	if app := t.appByAppID(appID); app != nil {
		if !s.replicated(app.Created) {
			g.fault = "replication"
			return nil, noBacking()
		}
		if !g.canManageApp(t, app.Owners) && !g.hasRole("Application.ReadWrite.All") {
			return nil, errForbidden()
		}
		id := newGUID()
		sp = &servicePrincipal{Props: newServicePrincipalProps(t, id, app.Props, now), Created: now, Seq: t.seq(), Owners: []string{g.callerOwnerID()}}
	} else if name, isFirstParty := publicClientName(appID); isFirstParty {
		sp = builtinSP(t, strings.ToLower(appID), name, "client", now)
		sp.Created = now
	} else if res := fixtureResource(appID); res != nil {
		sp = builtinSP(t, res.AppID, res.DisplayName, "resource", now)
		sp.Created = now
	} else if foreign := s.multiTenantAppAnywhere(appID); foreign != nil && str(foreign.Props, "signInAudience") != "AzureADMyOrg" && s.replicated(foreign.Created) {
		// A multi-tenant application of another tenant: its service
		// principal here belongs to the application's home tenant.
		id := newGUID()
		sp = &servicePrincipal{Props: newServicePrincipalProps(t, id, foreign.Props, now), Created: now, Seq: t.seq()}
		sp.Props["appOwnerOrganizationId"] = s.tenantOf(str(foreign.Props, "id")).TenantID
	} else {
		return nil, noBacking()
	}
	for k, v := range body {
		if k == "appId" || isAnnotation(k) {
			continue
		}
		sp.Props[k] = mergeValue("servicePrincipal", k, sp.Props[k], v)
	}
	if e := validateSPTags(sp.Props); e != nil {
		return nil, e
	}
	t.ServicePrincipals[str(sp.Props, "id")] = sp
	out := project("servicePrincipal", sp.Props, nil)
	out["@odata.context"] = g.contextURL("servicePrincipals/$entity")
	return s.commit(created(out))
}

// spWritable: app admins, the owners, and apps with Application.ReadWrite.All.
func (g *graphReq) spWritable(t *tenant, sp *servicePrincipal) bool {
	owners := sp.Owners
	if app := t.appByAppID(str(sp.Props, "appId")); app != nil {
		owners = append(append([]string(nil), owners...), app.Owners...)
	}
	return g.canManageApp(t, owners)
}

// spPatchable are the service principal properties a PATCH may change;
// the rest mirror the application.
var spPatchable = []string{"accountEnabled", "appRoleAssignmentRequired", "tags", "notes", "description", "notificationEmailAddresses",
	"preferredSingleSignOnMode", "loginUrl", "alternativeNames", "appDescription", "samlSingleSignOnSettings", "homepage", "logoutUrl", "replyUrls", "keyCredentials", "customSecurityAttributes"}

func (s *Server) updateServicePrincipal(g *graphReq, sp *servicePrincipal) (*graphResp, *graphError) {
	if err := g.authorize(permSPWrite); err != nil {
		return nil, err
	}
	if sp.Builtin != "" || !g.spWritable(s.t, sp) {
		return nil, errForbidden()
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := validateWrite("servicePrincipal", body); e != nil {
		return nil, e
	}
	for k := range body {
		if isAnnotation(k) {
			continue
		}
		if !contains(spPatchable, k) {
			return nil, errBadRequest("Property '%s' is read-only and cannot be set.", k)
		}
	}
	// Work on a copy so a rejected PATCH changes nothing.
	props := deepCopy(sp.Props).(map[string]any)
	for k, v := range body {
		if isAnnotation(k) {
			continue
		}
		if k == "keyCredentials" {
			creds, _, e := normalizeKeyCredentials(props["keyCredentials"], v)
			if e != nil {
				return nil, e
			}
			props[k] = creds
			continue
		}
		props[k] = mergeValue("servicePrincipal", k, props[k], v)
	}
	if e := validateSPTags(props); e != nil {
		return nil, e
	}
	sp.Props = props
	return s.commit(noContent())
}

// validateSPTags: a service principal's own tags (endpoints.md §12), each at
// most 256 characters like an application's.
func validateSPTags(props map[string]any) *graphError {
	for _, tag := range strList(props["tags"]) {
		if len([]rune(tag)) > 256 {
			return errInvalidValue("tags", "ServicePrincipal")
		}
	}
	return nil
}

func (s *Server) deleteServicePrincipal(g *graphReq, sp *servicePrincipal) (*graphResp, *graphError) {
	if err := g.authorize(permSPWrite); err != nil {
		return nil, err
	}
	if !g.spWritable(s.t, sp) {
		return nil, errForbidden()
	}
	if sp.Builtin == "resource" {
		return nil, errBadRequest("The service principal of a Microsoft first-party resource application cannot be deleted in the entra-link sandbox.")
	}
	if strings.EqualFold(str(sp.Props, "appId"), s.t.BootstrapAppID) {
		return nil, errBadRequest("The entra-link sandbox's bootstrap admin service principal cannot be deleted.")
	}
	s.t.softDeleteServicePrincipal(str(sp.Props, "id"), time.Now())
	return s.commit(noContent())
}

func (s *Server) appRoleAssignmentProps(a *appRoleAssignment) map[string]any {
	return map[string]any{
		"id":                   a.ID,
		"deletedDateTime":      nil,
		"appRoleId":            a.AppRoleID,
		"createdDateTime":      graphTime(a.Created),
		"principalDisplayName": s.t.principalName(a.PrincipalID),
		"principalId":          a.PrincipalID,
		"principalType":        a.PrincipalType,
		"resourceDisplayName":  s.t.principalName(a.ResourceID),
		"resourceId":           a.ResourceID,
	}
}

func (s *Server) listAppRoleAssignments(g *graphReq, sp *servicePrincipal, resourceSide bool) (*graphResp, *graphError) {
	if err := g.authorize(permAppRoleRead); err != nil {
		return nil, err
	}
	spID := str(sp.Props, "id")
	var items []map[string]any
	for _, a := range sortedBySeq(s.t.AppRoleAssignments, func(a *appRoleAssignment) int64 { return a.Seq }) {
		if resourceSide && a.ResourceID == spID || !resourceSide && a.PrincipalID == spID {
			items = append(items, s.appRoleAssignmentProps(a))
		}
	}
	nav := "appRoleAssignments"
	if resourceSide {
		nav = "appRoleAssignedTo"
	}
	return g.listResponse(items, listOptions{typ: "appRoleAssignment", setName: "servicePrincipals('" + spID + "')/" + nav, filter: appRoleAssignmentFilter})
}

func (s *Server) appRoleAssignmentItem(g *graphReq, sp *servicePrincipal, resourceSide bool, id string) (*graphResp, *graphError) {
	spID := str(sp.Props, "id")
	a := s.t.AppRoleAssignments[id]
	if a != nil && (resourceSide && a.ResourceID != spID || !resourceSide && a.PrincipalID != spID) {
		a = nil
	}
	nav := "appRoleAssignments"
	if resourceSide {
		nav = "appRoleAssignedTo"
	}
	switch g.method {
	case http.MethodGet:
		if err := g.authorize(permAppRoleRead); err != nil {
			return nil, err
		}
		if a == nil {
			return nil, errNotFound(id)
		}
		return g.entityResponse("appRoleAssignment", "servicePrincipals('"+spID+"')/"+nav, s.appRoleAssignmentProps(a))
	case http.MethodDelete:
		if err := g.authorize(permAppRoleDelete); err != nil {
			return nil, err
		}
		if a == nil {
			return nil, errNotFound(id)
		}
		if e := s.checkAssignRole(g, s.t.ServicePrincipals[a.ResourceID]); e != nil {
			return nil, e
		}
		delete(s.t.AppRoleAssignments, id)
		return s.commit(noContent())
	}
	return nil, errMethodNotAllowed()
}

// checkAssignRole applies the directory-role rule for granting app roles
// with a delegated token: Microsoft Graph's (and Azure AD Graph's) app roles
// need Global Administrator or Privileged Role Administrator; other
// resources also accept the application admin roles or the resource's owner.
func (s *Server) checkAssignRole(g *graphReq, resource *servicePrincipal) *graphError {
	if g.id.appOnly || resource == nil {
		return nil
	}
	t := s.t
	if g.userHasRole(t, globalAdminRoleID, privRoleAdminID) {
		return nil
	}
	appID := str(resource.Props, "appId")
	if appID == graphAppID || appID == legacyAADGraphAppID {
		return errForbidden()
	}
	if g.userHasRole(t, appAdminRoleID, cloudAppAdminID) || g.spWritable(t, resource) {
		return nil
	}
	return errForbidden()
}

func (s *Server) createAppRoleAssignment(g *graphReq, sp *servicePrincipal, resourceSide bool) (*graphResp, *graphError) {
	if err := g.authorize(permAssignAppRole); err != nil {
		return nil, err
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := validateObject("appRoleAssignment", body); e != nil {
		return nil, e
	}
	if _, set := body["id"]; set {
		return nil, errBadRequest("Property 'id' is read-only and cannot be set.")
	}
	t := s.t
	spID := str(sp.Props, "id")
	principalID, resourceID, appRoleID := strings.ToLower(str(body, "principalId")), strings.ToLower(str(body, "resourceId")), strings.ToLower(str(body, "appRoleId"))
	if principalID == "" {
		return nil, errInvalidValue("principalId", "AppRoleAssignment")
	}
	if resourceID == "" {
		return nil, errInvalidValue("resourceId", "AppRoleAssignment")
	}
	if appRoleID == "" {
		return nil, errInvalidValue("appRoleId", "AppRoleAssignment")
	}
	if resourceSide && resourceID != spID {
		return nil, errInvalidValue("resourceId", "AppRoleAssignment")
	}
	if !resourceSide && principalID != spID {
		return nil, errInvalidValue("principalId", "AppRoleAssignment")
	}
	resource := t.ServicePrincipals[resourceID]
	if resource == nil || !s.replicated(resource.Created) {
		if resource != nil {
			g.fault = "replication"
		}
		return nil, errNotFound(resourceID)
	}
	kind := t.principalKind(principalID)
	if kind == "" || !s.replicated(t.principalCreated(principalID)) {
		if kind != "" {
			g.fault = "replication"
		}
		return nil, errNotFound(principalID)
	}
	if e := s.checkAssignRole(g, resource); e != nil {
		return nil, e
	}
	memberType := "Application"
	if kind == "User" {
		memberType = "User"
	}
	found := false
	for _, r := range objList(resource.Props["appRoles"]) {
		if strings.EqualFold(str(r, "id"), appRoleID) && contains(strList(r["allowedMemberTypes"]), memberType) {
			if enabled, _ := r["isEnabled"].(bool); enabled {
				found = true
			}
		}
	}
	// The default access role (all zeros) may be assigned to users.
	if appRoleID == "00000000-0000-0000-0000-000000000000" && kind == "User" {
		found = true
	}
	if !found {
		// endpoints.md §8.5 quotes this wording [observed] for the transient
		// error right after a service principal is created; public scripts
		// show it [observed] for an id the resource does not publish, which
		// is what it means here (the sandbox's replication of a principal
		// answers 404, §8.2).
		return nil, errBadRequest("Permission being assigned was not found on application")
	}
	for _, a := range t.AppRoleAssignments {
		if a.PrincipalID == principalID && a.ResourceID == resourceID && strings.EqualFold(a.AppRoleID, appRoleID) {
			// Observed body (endpoints.md §8.5).
			return nil, errBadRequest("Permission being assigned already exists on the object")
		}
	}
	now := time.Now()
	a := &appRoleAssignment{ID: opaqueID(principalID, newGUID()), PrincipalID: principalID, PrincipalType: kind,
		ResourceID: resourceID, AppRoleID: appRoleID, Created: now, Seq: t.seq()}
	t.AppRoleAssignments[a.ID] = a
	nav := "appRoleAssignments"
	if resourceSide {
		nav = "appRoleAssignedTo"
	}
	out := s.appRoleAssignmentProps(a)
	out["@odata.context"] = g.contextURL("servicePrincipals('" + spID + "')/" + nav + "/$entity")
	return s.commit(created(out))
}
