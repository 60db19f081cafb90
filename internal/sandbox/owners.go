package sandbox

import (
	"net/http"
	"strings"
)

// Application owners (application-list-owners, application-post-owners,
// application-delete-owners). Owners manage their applications: a user who
// owns an application may change it and add credentials with a delegated
// Application.ReadWrite.All token, whatever their directory roles, and an
// application with Application.ReadWrite.OwnedBy may manage the ones it
// owns (canManageApp).

func (s *Server) routeAppOwners(g *graphReq, app *application, rest []string) (*graphResp, *graphError) {
	t := s.t
	switch {
	case len(rest) == 0:
		if g.method != http.MethodGet {
			return nil, errMethodNotAllowed()
		}
		if err := g.authorize(permAppRead); err != nil {
			return nil, err
		}
		if !g.canReadApp(app.Owners) {
			return nil, errForbidden()
		}
		var items []map[string]any
		for _, id := range app.Owners {
			if u := t.Users[id]; u != nil {
				p := project("user", u.Props, userDefaultProps)
				p["@odata.type"] = "#microsoft.graph.user"
				items = append(items, p)
			} else if sp := t.ServicePrincipals[id]; sp != nil {
				p := deepCopy(sp.Props).(map[string]any)
				p["@odata.type"] = "#microsoft.graph.servicePrincipal"
				items = append(items, p)
			}
		}
		return g.listResponse(items, listOptions{typ: "directoryObject", setName: "directoryObjects",
			filter: filterSpec{resource: "directoryObject", props: map[string]string{"id": "guid"}}})
	case len(rest) == 1 && rest[0] == "$ref":
		if g.method != http.MethodPost {
			return nil, errMethodNotAllowed()
		}
		body, e := s.appWriteBody(g, app, false)
		if e != nil {
			return nil, e
		}
		id, e := refTarget(body, "")
		if e != nil {
			return nil, e
		}
		kind := t.principalKind(id)
		if kind != "User" && kind != "ServicePrincipal" || !s.replicated(t.principalCreated(id)) {
			if kind != "" {
				g.fault = "replication"
			}
			return nil, errNotFound(id)
		}
		if contains(app.Owners, id) {
			// Observed for every owners/members $ref duplicate.
			return nil, errBadRequest("One or more added object references already exist for the following modified properties: 'owners'.")
		}
		app.Owners = append(app.Owners, id)
		return s.commit(noContent())
	case len(rest) == 2 && rest[1] == "$ref":
		if g.method != http.MethodDelete {
			return nil, errMethodNotAllowed()
		}
		if _, e := s.appWriteBody(g, app, true); e != nil {
			return nil, e
		}
		id := strings.ToLower(rest[0])
		if !contains(app.Owners, id) {
			return nil, errNotFound(rest[0])
		}
		app.Owners = removeString(app.Owners, id)
		return s.commit(noContent())
	}
	return nil, errSegment(rest[len(rest)-1])
}
