package sandbox

import (
	"net/http"
	"strings"
)

// Upsert (endpoints.md §10): PATCH /applications(uniqueName='…') and PATCH
// /servicePrincipals(appId='…') with Prefer: create-if-missing. Every Graph
// request runs under s.mu, so two upserts with the same key are serialised
// the way Entra's unique index serialises them: one creates (201), the
// other finds the object and updates it (204).

// preferCreateIfMissing reports whether the Prefer header asks for upsert.
func (g *graphReq) preferCreateIfMissing() bool {
	for _, v := range g.header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "create-if-missing") {
				return true
			}
		}
	}
	return false
}

func (t *tenant) appByUniqueName(name string) *application {
	for _, a := range t.Applications {
		if un, _ := a.Props["uniqueName"].(string); un != "" && strings.EqualFold(un, name) {
			return a
		}
	}
	return nil
}

// uniqueNameFree checks that no application holds name, deleted ones in
// the recycle bin included (endpoints.md §10.1, observed: 400, not 409).
func (t *tenant) uniqueNameFree(name string) *graphError {
	taken := t.appByUniqueName(name) != nil
	for _, a := range t.DeletedApplications {
		if un, _ := a.Props["uniqueName"].(string); strings.EqualFold(un, name) {
			taken = true
		}
	}
	if taken {
		return errBadRequest("Another object with the same value for property uniqueName already exists.")
	}
	return nil
}

// upsertApplication is PATCH /applications(uniqueName='name').
func (s *Server) upsertApplication(g *graphReq, name string) (*graphResp, *graphError) {
	// application-upsert: Application.ReadWrite.All (delegated);
	// Application.ReadWrite.OwnedBy or .All (application).
	if err := g.authorize(permAppWrite); err != nil {
		return nil, err
	}
	if strings.TrimSpace(name) == "" {
		return nil, errInvalidValue("uniqueName", "Application")
	}
	app := s.t.appByUniqueName(name)
	if app == nil && !g.preferCreateIfMissing() {
		// Without Prefer the request is an update of a missing object.
		return nil, errNotFound(name)
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	// "The request body must contain displayName" (application-upsert).
	if _, ok := body["displayName"].(string); !ok {
		return nil, errInvalidValue("displayName", "Application")
	}
	if un, set := body["uniqueName"]; set {
		if v, _ := un.(string); !strings.EqualFold(v, name) {
			return nil, errInvalidValue("uniqueName", "Application")
		}
		delete(body, "uniqueName")
	}
	if app != nil {
		if !g.canManageApp(s.t, app.Owners) {
			return nil, errForbidden()
		}
		return s.applyApplicationUpdate(g, app, body)
	}
	if e := s.t.uniqueNameFree(name); e != nil {
		return nil, e
	}
	return s.insertApplication(g, body, name)
}

// defaultTokenVersion: a new application whose audience does not include
// personal accounts gets api.requestedAccessTokenVersion null (v1 tokens)
// unless the body sets it; 2 is required, and the default, only with
// personal-account audiences (application-post-applications example).
func defaultTokenVersion(props, body map[string]any) {
	if api, ok := body["api"].(map[string]any); ok {
		if _, set := api["requestedAccessTokenVersion"]; set {
			return
		}
	}
	switch str(props, "signInAudience") {
	case "AzureADMyOrg", "AzureADMultipleOrgs":
		if api, ok := props["api"].(map[string]any); ok {
			api["requestedAccessTokenVersion"] = nil
		}
	}
}

// upsertServicePrincipal is PATCH /servicePrincipals(appId='appID').
func (s *Server) upsertServicePrincipal(g *graphReq, appID string) (*graphResp, *graphError) {
	if sp := s.t.spByAppID(appID); sp != nil {
		return s.updateServicePrincipal(g, sp)
	}
	if err := g.authorize(permSPWrite); err != nil {
		return nil, err
	}
	if !g.preferCreateIfMissing() {
		return nil, errNotFound(appID)
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if v, set := body["appId"]; set {
		if id, _ := v.(string); !strings.EqualFold(id, appID) {
			return nil, errInvalidValue("appId", "ServicePrincipal")
		}
	}
	body["appId"] = appID
	return s.insertServicePrincipal(g, body)
}

// routeSPKey resolves servicePrincipals(appId='…'): the upsert for a PATCH
// of the entity itself, the service principal otherwise.
func (s *Server) routeSPKey(g *graphReq, key string) (*servicePrincipal, *graphResp, *graphError) {
	appID, ok := parseAlternateKey(key, "appId")
	if !ok {
		return nil, nil, errSegment(g.segs[0])
	}
	if len(g.segs) == 1 && g.method == http.MethodPatch {
		r, e := s.upsertServicePrincipal(g, appID)
		return nil, r, e
	}
	sp := s.t.spByAppID(appID)
	if sp == nil {
		if err := g.authorize(permSPRead); err != nil {
			return nil, nil, err
		}
		return nil, nil, errNotFound(appID)
	}
	return sp, nil, nil
}
