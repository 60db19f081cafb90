package sandbox

import (
	"net/http"
	"strings"
	"time"
)

// The recycle bin: /directory/deletedItems (directory-deleteditems-list,
// -get, -restore, -delete). A deleted application keeps everything,
// uniqueName included (it stays reserved, endpoints.md §10.1), until it is
// restored or permanently deleted. Deleting an application deletes its
// service principal in the home tenant too (§1.9); the service principal
// goes to the bin with the assignments and grants that referred to it, and
// restoring the application does not restore it.

// deletedPrincipal is a service principal in the recycle bin with the
// links that come back when it is restored.
type deletedPrincipal struct {
	SP                 *servicePrincipal    `json:"servicePrincipal"`
	AppRoleAssignments []*appRoleAssignment `json:"appRoleAssignments,omitempty"`
	Grants             []*permissionGrant   `json:"oauth2PermissionGrants,omitempty"`
	RoleAssignments    []*roleAssignment    `json:"roleAssignments,omitempty"`
}

// softDeleteApplication moves an application (and its service principal)
// to the recycle bin.
func (t *tenant) softDeleteApplication(id string, now time.Time) {
	app := t.Applications[id]
	if app == nil {
		return
	}
	delete(t.Applications, id)
	app.Props["deletedDateTime"] = graphTime(now)
	t.DeletedApplications[id] = app
	if sp := t.spByAppID(str(app.Props, "appId")); sp != nil && sp.Builtin == "" {
		t.softDeleteServicePrincipal(str(sp.Props, "id"), now)
	}
}

// softDeleteServicePrincipal moves a service principal to the recycle bin,
// taking the assignments and grants that refer to it out of the directory.
func (t *tenant) softDeleteServicePrincipal(id string, now time.Time) {
	sp := t.ServicePrincipals[id]
	if sp == nil {
		return
	}
	d := &deletedPrincipal{SP: sp}
	for k, a := range t.AppRoleAssignments {
		if a.PrincipalID == id || a.ResourceID == id {
			d.AppRoleAssignments = append(d.AppRoleAssignments, a)
			delete(t.AppRoleAssignments, k)
		}
	}
	for k, g := range t.Grants {
		if g.ClientID == id || g.ResourceID == id {
			d.Grants = append(d.Grants, g)
			delete(t.Grants, k)
		}
	}
	for k, r := range t.RoleAssignments {
		if r.PrincipalID == id {
			d.RoleAssignments = append(d.RoleAssignments, r)
			delete(t.RoleAssignments, k)
		}
	}
	delete(t.ServicePrincipals, id)
	sp.Props["deletedDateTime"] = graphTime(now)
	t.DeletedServicePrincipals[id] = d
}

// deleteServicePrincipal removes an SP for good and everything that refers
// to it (assignments either way, grants, role assignments, memberships).
func (t *tenant) deleteServicePrincipal(id string) {
	delete(t.ServicePrincipals, id)
	t.deletePrincipalLinks(id)
}

func (t *tenant) deletePrincipalLinks(id string) {
	for k, a := range t.AppRoleAssignments {
		if a.PrincipalID == id || a.ResourceID == id {
			delete(t.AppRoleAssignments, k)
		}
	}
	for k, g := range t.Grants {
		if g.ClientID == id || g.ResourceID == id || g.PrincipalID == id {
			delete(t.Grants, k)
		}
	}
	for k, r := range t.RoleAssignments {
		if r.PrincipalID == id {
			delete(t.RoleAssignments, k)
		}
	}
	for k, e := range t.Eligibilities {
		if e.PrincipalID == id {
			delete(t.Eligibilities, k)
		}
	}
	for _, g := range t.Groups {
		g.Members = removeString(g.Members, id)
	}
	for _, a := range t.Applications {
		a.Owners = removeString(a.Owners, id)
	}
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if !strings.EqualFold(x, s) {
			out = append(out, x)
		}
	}
	return out
}

// deletedRestoreRoles may restore and purge applications and service
// principals with a delegated token (directory-deleteditems-restore):
// Global, Application, Cloud Application and Hybrid Identity Administrator.
var deletedRestoreRoles = []string{globalAdminRoleID, appAdminRoleID, cloudAppAdminID, hybridIdentityAdminID}

func (s *Server) routeDirectory(g *graphReq) (*graphResp, *graphError) {
	if len(g.segs) < 2 || !segIs(g.segs[1], "deletedItems") {
		if len(g.segs) < 2 {
			return nil, errSegment(g.segs[0])
		}
		return nil, errSegment(g.segs[1])
	}
	t := s.t
	switch len(g.segs) {
	case 2:
		// "The OData cast type is a required part of the URI and calling GET
		// /directory/deleteditems without a type is not supported."
		if g.method != http.MethodGet {
			return nil, errMethodNotAllowed()
		}
		return nil, errBadRequest("The OData cast type is a required part of the URI: use /directory/deletedItems/microsoft.graph.application or microsoft.graph.servicePrincipal.")
	case 3:
		switch strings.ToLower(g.segs[2]) {
		case "microsoft.graph.application":
			if g.method != http.MethodGet {
				return nil, errMethodNotAllowed()
			}
			if err := g.authorize(permAppRead); err != nil {
				return nil, err
			}
			var items []map[string]any
			for _, a := range sortedBySeq(t.DeletedApplications, func(a *application) int64 { return a.Seq }) {
				if g.canReadApp(a.Owners) {
					items = append(items, a.Props)
				}
			}
			return g.listResponse(items, listOptions{typ: "application", setName: "applications", filter: applicationFilter, advanced: true, search: true})
		case "microsoft.graph.serviceprincipal":
			if g.method != http.MethodGet {
				return nil, errMethodNotAllowed()
			}
			if err := g.authorize(permSPList); err != nil {
				return nil, err
			}
			var items []map[string]any
			for _, d := range sortedBySeq(t.DeletedServicePrincipals, func(d *deletedPrincipal) int64 { return d.SP.Seq }) {
				items = append(items, d.SP.Props)
			}
			return g.listResponse(items, listOptions{typ: "servicePrincipal", setName: "servicePrincipals", filter: servicePrincipalFilter, advanced: true, search: true})
		}
		return s.deletedItem(g, g.segs[2])
	case 4:
		if !segIs(g.segs[3], "restore") && !segIs(g.segs[3], "microsoft.graph.restore") {
			return nil, errSegment(g.segs[3])
		}
		if g.method != http.MethodPost {
			return nil, errMethodNotAllowed()
		}
		return s.restoreDeletedItem(g, strings.ToLower(g.segs[2]))
	}
	return nil, errSegment(g.segs[4])
}

// deletedItem is GET or DELETE /directory/deletedItems/{id}.
func (s *Server) deletedItem(g *graphReq, rawID string) (*graphResp, *graphError) {
	t := s.t
	id := strings.ToLower(rawID)
	app, d := t.DeletedApplications[id], t.DeletedServicePrincipals[id]
	switch g.method {
	case http.MethodGet:
		if err := g.authorize(permAppRead); err != nil {
			return nil, err
		}
		switch {
		case app != nil:
			return g.directoryObjectResponse("application", app.Props)
		case d != nil:
			return g.directoryObjectResponse("servicePrincipal", d.SP.Props)
		}
		return nil, errNotFound(rawID)
	case http.MethodDelete:
		if e := s.authorizeBin(g, app, d); e != nil {
			return nil, e
		}
		switch {
		case app != nil:
			delete(t.DeletedApplications, id)
		case d != nil:
			delete(t.DeletedServicePrincipals, id)
		default:
			return nil, errNotFound(rawID)
		}
		return s.commit(noContent())
	}
	return nil, errMethodNotAllowed()
}

// authorizeBin applies the restore/permanent-delete permissions: app-only
// callers need Application.ReadWrite.All, or OwnedBy and ownership;
// delegated ones Application.ReadWrite.All and an application admin role.
func (s *Server) authorizeBin(g *graphReq, app *application, d *deletedPrincipal) *graphError {
	if err := g.authorize(permAppWrite); err != nil {
		return err
	}
	if g.id.appOnly {
		if g.hasRole("Application.ReadWrite.All") {
			return nil
		}
		var owners []string
		switch {
		case app != nil:
			owners = app.Owners
		case d != nil:
			owners = d.SP.Owners
		}
		if !contains(owners, g.id.oid) {
			return errForbidden()
		}
		return nil
	}
	if !g.userHasRole(s.t, deletedRestoreRoles...) {
		return errForbidden()
	}
	return nil
}

func (s *Server) restoreDeletedItem(g *graphReq, id string) (*graphResp, *graphError) {
	t := s.t
	app, d := t.DeletedApplications[id], t.DeletedServicePrincipals[id]
	if e := s.authorizeBin(g, app, d); e != nil {
		return nil, e
	}
	switch {
	case app != nil:
		if e := s.validateIdentifierURIs(strList(app.Props["identifierUris"]), id); e != nil {
			return nil, e
		}
		delete(t.DeletedApplications, id)
		app.Props["deletedDateTime"] = nil
		t.Applications[id] = app
		return s.commitObject(g, "application", app.Props)
	case d != nil:
		appID := str(d.SP.Props, "appId")
		if existing := t.spByAppID(appID); existing != nil {
			return nil, spNameInUse(appID)
		}
		if d.SP.Builtin == "" && t.appByAppID(appID) == nil && s.multiTenantAppAnywhere(appID) == nil {
			return nil, noBackingApplication(appID)
		}
		delete(t.DeletedServicePrincipals, id)
		d.SP.Props["deletedDateTime"] = nil
		t.ServicePrincipals[id] = d.SP
		for _, a := range d.AppRoleAssignments {
			if t.ServicePrincipals[a.PrincipalID] != nil && t.ServicePrincipals[a.ResourceID] != nil || t.Users[a.PrincipalID] != nil || t.Groups[a.PrincipalID] != nil {
				t.AppRoleAssignments[a.ID] = a
			}
		}
		for _, gr := range d.Grants {
			if t.ServicePrincipals[gr.ClientID] != nil && t.ServicePrincipals[gr.ResourceID] != nil {
				t.Grants[gr.ID] = gr
			}
		}
		for _, r := range d.RoleAssignments {
			t.RoleAssignments[r.ID] = r
		}
		return s.commitObject(g, "servicePrincipal", d.SP.Props)
	}
	return nil, errNotFound(id)
}

// multiTenantAppAnywhere finds the application of appID in any tenant.
// Callers hold s.mu.
func (s *Server) multiTenantAppAnywhere(appID string) *application {
	for _, t := range s.allTenants() {
		if a := t.appByAppID(appID); a != nil {
			return a
		}
	}
	return nil
}

// commitObject persists and answers with a directoryObject entity.
func (s *Server) commitObject(g *graphReq, typ string, props map[string]any) (*graphResp, *graphError) {
	r, e := g.directoryObjectResponse(typ, props)
	if e != nil {
		return nil, e
	}
	return s.commit(r)
}

// directoryObjectResponse renders an entity read through a directoryObject
// path: its @odata.type says what it is.
func (g *graphReq) directoryObjectResponse(typ string, props map[string]any) (*graphResp, *graphError) {
	sel, e := g.selectList(typ)
	if e != nil {
		return nil, e
	}
	out := project(typ, props, sel)
	out["@odata.type"] = "#microsoft.graph." + typ
	out["@odata.context"] = g.contextURL("directoryObjects" + selectSuffix(sel) + "/$entity")
	return ok(out), nil
}

// spNameInUse is the conflict of a second service principal for an appId
// (endpoints.md §8.4); its wording covers restores too.
func spNameInUse(appID string) *graphError {
	msg := "The service principal cannot be created, updated, or restored because the service principal name " + appID + " is already in use."
	e := gerr(http.StatusConflict, "Request_MultipleObjectsWithSameKeyValue", "%s", msg)
	e.Details = []map[string]any{{"code": "ObjectConflict", "message": msg, "target": "None", "blockedWord": "", "prefix": "", "suffix": ""}}
	return e
}

// noBackingApplication is the 400 for a service principal whose appId has
// no application (observed NoBackingApplicationObject detail).
func noBackingApplication(appID string) *graphError {
	msg := "The appId '" + appID + "' of the service principal does not reference a valid application object."
	e := errBadRequest("%s", msg)
	e.Details = []map[string]any{{"code": "NoBackingApplicationObject", "message": msg, "target": "appId"}}
	return e
}
