package sandbox

import (
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

var applicationFilter = filterSpec{resource: "application", props: map[string]string{
	"appId": "string", "displayName": "string", "id": "guid", "identifierUris": "collection", "tags": "collection",
	"signInAudience": "string", "publisherDomain": "string", "uniqueName": "string",
}}

// readOnlyProps may not be set in POST or PATCH bodies.
var readOnlyProps = map[string][]string{
	"application":      {"id", "appId", "createdDateTime", "deletedDateTime", "publisherDomain", "createdByAppId", "disabledByMicrosoftStatus", "applicationTemplateId"},
	"servicePrincipal": {"id", "deletedDateTime", "appOwnerOrganizationId", "appDisplayName", "createdByAppId", "disabledByMicrosoftStatus", "applicationTemplateId", "servicePrincipalType"},
}

// validateWrite checks a create or update body: known properties of the
// right types (types.json), and no read-only ones.
func validateWrite(typ string, body map[string]any) *graphError {
	if e := validateObject(typ, body); e != nil {
		return e
	}
	return checkReadOnly(typ, body)
}

func checkReadOnly(typ string, body map[string]any) *graphError {
	for _, p := range readOnlyProps[typ] {
		if _, set := body[p]; set {
			return errBadRequest("Property '%s' is read-only and cannot be set.", p)
		}
	}
	return nil
}

// commit persists the tenant after a successful change.
func (s *Server) commit(r *graphResp) (*graphResp, *graphError) {
	if err := s.save(); err != nil {
		s.logf("sandbox: %v", err)
		return nil, gerr(http.StatusInternalServerError, "UnknownError", "The sandbox could not save its state.")
	}
	return r, nil
}

func (g *graphReq) callerOwnerID() string { return g.id.oid }

func (s *Server) routeApplications(g *graphReq, key string, hasKey bool) (*graphResp, *graphError) {
	t := s.t
	var app *application
	var rest []string
	switch {
	case hasKey:
		if un, isUnique := parseAlternateKey(key, "uniqueName"); isUnique {
			// PATCH by uniqueName is Graph's upsert (endpoints.md §10.1).
			if len(g.segs) == 1 && g.method == http.MethodPatch {
				return s.upsertApplication(g, un)
			}
			if app = t.appByUniqueName(un); app == nil {
				return nil, s.authorizedNotFound(g, un)
			}
		} else {
			appID, ok := parseAlternateKey(key, "appId")
			if !ok {
				return nil, errSegment(g.segs[0])
			}
			if app = t.appByAppID(appID); app == nil {
				return nil, s.authorizedNotFound(g, appID)
			}
		}
		rest = g.segs[1:]
	case len(g.segs) == 1:
		switch g.method {
		case http.MethodGet:
			return s.listApplications(g)
		case http.MethodPost:
			return s.createApplication(g)
		}
		return nil, errMethodNotAllowed()
	case g.segs[1] == "$count":
		return s.countObjects(g, permAppRead, len(s.visibleApps(g)))
	default:
		if app = t.Applications[strings.ToLower(g.segs[1])]; app == nil {
			return nil, s.authorizedNotFound(g, g.segs[1])
		}
		rest = g.segs[2:]
	}
	if len(rest) == 0 {
		switch g.method {
		case http.MethodGet:
			if err := g.authorize(permAppRead); err != nil {
				return nil, err
			}
			if !g.canReadApp(app.Owners) {
				return nil, errForbidden()
			}
			return g.entityResponse("application", "applications", app.Props)
		case http.MethodPatch:
			return s.updateApplication(g, app)
		case http.MethodDelete:
			return s.deleteApplication(g, app)
		}
		return nil, errMethodNotAllowed()
	}
	switch strings.ToLower(rest[0]) {
	case "owners":
		return s.routeAppOwners(g, app, rest[1:])
	case "appmanagementpolicies":
		return s.routeAppPolicies(g, app, rest[1:])
	}
	if len(rest) > 1 {
		return nil, errSegment(rest[1])
	}
	action := strings.ToLower(strings.TrimPrefix(rest[0], "microsoft.graph."))
	switch action {
	case "addpassword", "removepassword", "addkey", "removekey":
	default:
		return nil, errSegment(rest[0])
	}
	if g.method != http.MethodPost {
		return nil, errMethodNotAllowed()
	}
	switch action {
	case "addpassword":
		return s.addPassword(g, app)
	case "removepassword":
		return s.removePassword(g, app)
	case "addkey":
		return s.addKey(g, app)
	default:
		return s.removeKey(g, app)
	}
}

// authorizedNotFound answers a lookup miss: a caller without read access
// gets 403 (Graph checks permissions before existence).
func (s *Server) authorizedNotFound(g *graphReq, id string) *graphError {
	if err := g.authorize(permAppRead); err != nil {
		return err
	}
	return errNotFound(id)
}

func (s *Server) countObjects(g *graphReq, p perm, n int) (*graphResp, *graphError) {
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(p); err != nil {
		return nil, err
	}
	if !strings.EqualFold(g.header.Get("ConsistencyLevel"), "eventual") {
		return nil, errBadRequest("$count is not currently supported.")
	}
	return &graphResp{status: http.StatusOK, text: itoa(n)}, nil
}

func (s *Server) visibleApps(g *graphReq) []map[string]any {
	var items []map[string]any
	for _, a := range sortedBySeq(s.t.Applications, func(a *application) int64 { return a.Seq }) {
		if g.canReadApp(a.Owners) {
			items = append(items, a.Props)
		}
	}
	return items
}

func (s *Server) listApplications(g *graphReq) (*graphResp, *graphError) {
	if err := g.authorize(permAppRead); err != nil {
		return nil, err
	}
	return g.listResponse(s.visibleApps(g), listOptions{typ: "application", setName: "applications", filter: applicationFilter, advanced: true, search: true})
}

func (s *Server) createApplication(g *graphReq) (*graphResp, *graphError) {
	if err := g.authorize(permAppCreate); err != nil {
		return nil, err
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	return s.insertApplication(g, body, "")
}

// insertApplication creates an application from a POST (or upsert) body;
// uniqueName is the upsert key ("" for POST, where the body may set it).
func (s *Server) insertApplication(g *graphReq, body map[string]any, uniqueName string) (*graphResp, *graphError) {
	if e := validateWrite("application", body); e != nil {
		return nil, e
	}
	if e := rejectPasswordCredentials(body); e != nil {
		return nil, e
	}
	if _, ok := body["displayName"].(string); !ok {
		return nil, errInvalidValue("displayName", "Application")
	}
	t := s.t
	now := time.Now()
	id, appID := newGUID(), newGUID()
	props := newApplicationProps(t, id, appID, "", g.id.appID, now)
	app := &application{Props: props, Created: now, Owners: []string{g.callerOwnerID()}}
	newKeys, e := s.applyApplicationPatch(app, body, now)
	if e != nil {
		return nil, e
	}
	if uniqueName != "" {
		app.Props["uniqueName"] = uniqueName
	}
	if un := str(app.Props, "uniqueName"); un != "" {
		if e := t.uniqueNameFree(un); e != nil {
			return nil, e
		}
	}
	defaultTokenVersion(app.Props, body)
	if e := s.validateApplication(app.Props, id); e != nil {
		return nil, e
	}
	if e := s.checkNewApplication(app, body, newKeys); e != nil {
		return nil, e
	}
	app.Seq = t.seq()
	for _, k := range newKeys {
		if app.CredAdded == nil {
			app.CredAdded = map[string]time.Time{}
		}
		app.CredAdded[k] = now
	}
	t.Applications[id] = app
	out := project("application", app.Props, nil)
	out["@odata.context"] = g.contextURL("applications/$entity")
	return s.commit(created(out))
}

func rejectPasswordCredentials(body map[string]any) *graphError {
	if pc, set := body["passwordCredentials"]; set {
		if arr, _ := pc.([]any); len(arr) > 0 {
			return errBadRequest("Property 'passwordCredentials' is read-only and cannot be set. Use the addPassword and removePassword actions to manage client secrets.")
		}
	}
	return nil
}

func (s *Server) updateApplication(g *graphReq, app *application) (*graphResp, *graphError) {
	body, e := s.appWriteBody(g, app, false)
	if e != nil {
		return nil, e
	}
	return s.applyApplicationUpdate(g, app, body)
}

// applyApplicationUpdate applies a PATCH body to app (the caller has been
// authorised): all or nothing.
func (s *Server) applyApplicationUpdate(g *graphReq, app *application, body map[string]any) (*graphResp, *graphError) {
	if e := validateWrite("application", body); e != nil {
		return nil, e
	}
	if e := rejectPasswordCredentials(body); e != nil {
		return nil, e
	}
	if un, set := body["uniqueName"]; set && app.Props["uniqueName"] != nil && un != app.Props["uniqueName"] {
		return nil, errBadRequest("Property 'uniqueName' can only be set when it is null.")
	}
	if un, _ := body["uniqueName"].(string); un != "" && app.Props["uniqueName"] == nil {
		if e := s.t.uniqueNameFree(un); e != nil {
			return nil, e
		}
	}
	// Work on a copy so a rejected PATCH changes nothing.
	trial := &application{Props: deepCopy(app.Props).(map[string]any)}
	now := time.Now()
	newKeys, e := s.applyApplicationPatch(trial, body, now)
	if e != nil {
		return nil, e
	}
	if e := s.validateApplication(trial.Props, str(app.Props, "id")); e != nil {
		return nil, e
	}
	if e := s.checkApplicationUpdate(app, trial, newKeys); e != nil {
		return nil, e
	}
	app.Props = trial.Props
	for _, k := range newKeys {
		if app.CredAdded == nil {
			app.CredAdded = map[string]time.Time{}
		}
		app.CredAdded[k] = now
	}
	if sp := s.t.spByAppID(str(app.Props, "appId")); sp != nil && sp.Builtin == "" {
		syncSPFromApp(sp.Props, app.Props)
	}
	return s.commit(noContent())
}

// applyApplicationPatch merges body into app.Props the way Graph updates an
// application: scalar and collection properties are replaced wholesale,
// complex properties (web, api, info, …) merge property by property. It
// returns the keyIds of certificates the body added.
func (s *Server) applyApplicationPatch(app *application, body map[string]any, now time.Time) ([]string, *graphError) {
	var newKeys []string
	for k, v := range body {
		if isAnnotation(k) {
			continue
		}
		if k == "keyCredentials" {
			creds, added, e := normalizeKeyCredentials(app.Props["keyCredentials"], v)
			if e != nil {
				return nil, e
			}
			app.Props[k] = creds
			newKeys = added
			continue
		}
		app.Props[k] = mergeValue("application", k, app.Props[k], v)
	}
	return newKeys, nil
}

// mergeValue merges a PATCH value into the current one for property p of typ.
func mergeValue(typ, p string, cur, v any) any {
	d, ok := lookupProp(typ, p)
	newObj, isObj := v.(map[string]any)
	curObj, curIsObj := cur.(map[string]any)
	if !ok || !isObj || !curIsObj {
		return normalizeJSON(v)
	}
	if _, isColl := collectionElem(d.Type); isColl || strings.HasPrefix(d.Type, "Edm.") {
		return normalizeJSON(v)
	}
	out := deepCopy(curObj).(map[string]any)
	for k, nv := range newObj {
		if isAnnotation(k) {
			continue
		}
		out[k] = mergeValue(d.Type, k, out[k], nv)
	}
	return out
}

// normalizeJSON turns json.Number values into plain numbers so that stored
// state marshals the same way it was received.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = normalizeJSON(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = normalizeJSON(e)
		}
		return a
	case interface{ Int64() (int64, error) }:
		if i, err := x.Int64(); err == nil {
			return i
		}
		return v
	default:
		return v
	}
}

var signInAudiences = []string{"AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"}

// validateApplication applies Entra's business rules to the merged
// application (after the type checks).
func (s *Server) validateApplication(p map[string]any, id string) *graphError {
	name := str(p, "displayName")
	if strings.TrimSpace(name) == "" || len([]rune(name)) > 256 {
		return errInvalidValue("displayName", "Application")
	}
	if d, _ := p["description"].(string); len([]rune(d)) > 1024 {
		return errInvalidValue("description", "Application")
	}
	if n, _ := p["notes"].(string); len([]rune(n)) > 1024 {
		return errInvalidValue("notes", "Application")
	}
	aud := str(p, "signInAudience")
	if !contains(signInAudiences, aud) {
		return errInvalidValue("signInAudience", "Application")
	}
	for _, tag := range strList(p["tags"]) {
		if len([]rune(tag)) > 256 {
			return errInvalidValue("tags", "Application")
		}
	}
	if e := s.validateIdentifierURIs(strList(p["identifierUris"]), id); e != nil {
		return e
	}
	if web, ok := p["web"].(map[string]any); ok {
		for _, u := range strList(web["redirectUris"]) {
			if !validWebRedirect(u) {
				return errInvalidValue("redirectUris", "WebApplication")
			}
		}
	}
	if spa, ok := p["spa"].(map[string]any); ok {
		for _, u := range strList(spa["redirectUris"]) {
			if !validWebRedirect(u) {
				return errInvalidValue("redirectUris", "SpaApplication")
			}
		}
	}
	if pc, ok := p["publicClient"].(map[string]any); ok {
		for _, u := range strList(pc["redirectUris"]) {
			if pu, err := url.Parse(u); err != nil || pu.Scheme == "" || len(u) > 256 {
				return errInvalidValue("redirectUris", "PublicClientApplication")
			}
		}
	}
	rra := objList(p["requiredResourceAccess"])
	if len(rra) > 50 {
		return errInvalidValue("requiredResourceAccess", "Application")
	}
	total := 0
	for _, r := range rra {
		if strings.TrimSpace(str(r, "resourceAppId")) == "" {
			return errInvalidValue("resourceAppId", "RequiredResourceAccess")
		}
		for _, ra := range objList(r["resourceAccess"]) {
			total++
			if typ := str(ra, "type"); typ != "Scope" && typ != "Role" {
				return errInvalidValue("type", "ResourceAccess")
			}
		}
	}
	if total > 400 {
		return errBadRequest("The number of permissions in requiredResourceAccess (%d) exceeds the limit of 400.", total)
	}
	if api, ok := p["api"].(map[string]any); ok {
		values := map[string]bool{}
		for _, sc := range objList(api["oauth2PermissionScopes"]) {
			if typ := str(sc, "type"); typ != "Admin" && typ != "User" {
				return errInvalidValue("type", "PermissionScope")
			}
			v := strings.ToLower(str(sc, "value"))
			if v == "" || values[v] {
				return errInvalidValue("value", "PermissionScope")
			}
			values[v] = true
		}
		if aud == "AzureADandPersonalMicrosoftAccount" || aud == "PersonalMicrosoftAccount" {
			if !numEquals(api["requestedAccessTokenVersion"], 2) {
				return errBadRequest("Property api.requestedAccessTokenVersion is invalid.")
			}
		}
	}
	roleValues := map[string]bool{}
	for _, r := range objList(p["appRoles"]) {
		types := strList(r["allowedMemberTypes"])
		if len(types) == 0 {
			return errInvalidValue("allowedMemberTypes", "AppRole")
		}
		for _, mt := range types {
			if mt != "User" && mt != "Application" {
				return errInvalidValue("allowedMemberTypes", "AppRole")
			}
		}
		if v := strings.ToLower(str(r, "value")); v != "" {
			if roleValues[v] {
				return errInvalidValue("value", "AppRole")
			}
			roleValues[v] = true
		}
	}
	return nil
}

// validateIdentifierURIs applies Entra's rule for identifier URIs the
// application does not have yet (existing ones are left alone, as Entra
// does): the default api:// scheme, or an http/https URI whose host is a
// verified domain of the tenant or a subdomain. Any other scheme (urn:,
// ms-appx:, …) is refused like an unverified host: 400
// HostNameNotOnVerifiedDomain (endpoints.md §1.4 and §8.2 — code [doc],
// message [observed]; Entra's breaking-change notice of October 2021: it
// "validates that the domain in the HTTPS scheme URI is listed in the
// verified domain list … or that the value uses the default scheme"). A
// URI may belong to one application only.
func (s *Server) validateIdentifierURIs(uris []string, selfID string) *graphError {
	var existing []string
	if self := s.t.Applications[selfID]; self != nil {
		existing = strList(self.Props["identifierUris"])
	}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" || len(raw) > 255 {
			return errInvalidValue("identifierUris", "Application")
		}
		if !contains(existing, raw) {
			unverified := gerr(http.StatusBadRequest, "HostNameNotOnVerifiedDomain",
				"Values of identifierUris property must use a verified domain of the organization or its subdomain: '%s'", raw)
			switch strings.ToLower(u.Scheme) {
			case "https", "http":
				if !s.t.isVerifiedHost(u.Hostname()) {
					return unverified
				}
			case "api":
				if strings.TrimPrefix(raw, u.Scheme+"://") == "" {
					return errInvalidValue("identifierUris", "Application")
				}
			default:
				return unverified
			}
		}
		for id, other := range s.t.Applications {
			if id != selfID && contains(strList(other.Props["identifierUris"]), raw) {
				return errBadRequest("Another object with the same value for property identifierUris already exists.")
			}
		}
	}
	return nil
}

// validWebRedirect: web and SPA redirect URIs must be https, or http on
// localhost / 127.0.0.1, absolute, without a fragment, at most 256 chars.
func validWebRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Fragment != "" || len(raw) > 256 {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		h := strings.ToLower(u.Hostname())
		return h == "localhost" || h == "127.0.0.1"
	}
	return false
}

// normalizeKeyCredentials validates a keyCredentials collection sent in a
// PATCH (it replaces the current one) and fills Graph's defaults: keyId,
// customKeyIdentifier (the SHA-1 thumbprint), start and end from the
// certificate, displayName "CN=…". An entry that names an existing keyId
// without key keeps the stored key.
func normalizeKeyCredentials(current, v any) ([]any, []string, *graphError) {
	existing := map[string]map[string]any{}
	for _, c := range objList(current) {
		existing[strings.ToLower(str(c, "keyId"))] = c
	}
	arr, _ := v.([]any)
	out := make([]any, 0, len(arr))
	var added []string
	seen := map[string]bool{}
	for _, item := range arr {
		in, _ := item.(map[string]any)
		kc, isNew, e := normalizeKeyCredential(in, existing)
		if e != nil {
			return nil, nil, e
		}
		id := strings.ToLower(str(kc, "keyId"))
		if seen[id] {
			return nil, nil, errInvalidValue("keyId", "KeyCredential")
		}
		seen[id] = true
		if isNew {
			added = append(added, str(kc, "keyId"))
		}
		out = append(out, kc)
	}
	return out, added, nil
}

func normalizeKeyCredential(in map[string]any, existing map[string]map[string]any) (map[string]any, bool, *graphError) {
	typ, usage := str(in, "type"), str(in, "usage")
	switch typ {
	case "AsymmetricX509Cert", "X509CertAndPassword":
	default:
		return nil, false, errInvalidValue("type", "KeyCredential")
	}
	if usage != "Verify" && usage != "Sign" || typ == "AsymmetricX509Cert" && usage != "Verify" {
		return nil, false, errInvalidValue("usage", "KeyCredential")
	}
	keyID := strings.ToLower(str(in, "keyId"))
	prev := existing[keyID]
	keyB64 := str(in, "key")
	if keyB64 == "" && prev != nil {
		keyB64 = str(prev, "key")
	}
	if keyB64 == "" {
		return nil, false, errInvalidValue("key", "KeyCredential")
	}
	der, err := decodeBinary(keyB64)
	if err != nil {
		return nil, false, errInvalidValue("key", "KeyCredential")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, false, errBadRequest("Key credential has invalid key: the value of 'key' must be a base64-encoded DER X.509 certificate.")
	}
	isNew := prev == nil
	if keyID == "" {
		keyID = newGUID()
	}
	start, end := cert.NotBefore.UTC(), cert.NotAfter.UTC()
	if s := str(in, "startDateTime"); s != "" {
		st, _ := parseGraphTime(s)
		if st.Before(cert.NotBefore.Add(-time.Second)) {
			return nil, false, errInvalidValue("startDateTime", "KeyCredential")
		}
		start = st
	}
	if s := str(in, "endDateTime"); s != "" {
		en, _ := parseGraphTime(s)
		if en.After(cert.NotAfter.Add(time.Second)) || !en.After(start) {
			return nil, false, errInvalidValue("endDateTime", "KeyCredential")
		}
		end = en
	}
	thumb, _ := certThumbprints(der)
	cki := any(base64.StdEncoding.EncodeToString(thumb))
	if v, set := in["customKeyIdentifier"]; set && v != nil {
		cki = v
	}
	dn := any("CN=" + cert.Subject.CommonName)
	if v, set := in["displayName"]; set {
		dn = v
	}
	return map[string]any{
		"customKeyIdentifier": cki,
		"displayName":         dn,
		"endDateTime":         graphDate(end),
		"key":                 base64.StdEncoding.EncodeToString(der),
		"keyId":               keyID,
		"startDateTime":       graphDate(start),
		"type":                typ,
		"usage":               usage,
	}, isNew, nil
}

func (s *Server) deleteApplication(g *graphReq, app *application) (*graphResp, *graphError) {
	if err := g.authorize(permAppWrite); err != nil {
		return nil, err
	}
	if !g.canManageApp(s.t, app.Owners) {
		return nil, errForbidden()
	}
	id := str(app.Props, "id")
	if strings.EqualFold(str(app.Props, "appId"), s.t.BootstrapAppID) {
		// Deleting the bootstrap admin would lock every client out.
		return nil, errBadRequest("The entra-link sandbox's bootstrap admin application cannot be deleted.")
	}
	s.t.softDeleteApplication(id, time.Now())
	return s.commit(noContent())
}

// actionParams checks an action body's parameter names, as OData does.
func actionParams(body map[string]any, action string, allowed ...string) *graphError {
	for k := range body {
		if isAnnotation(k) {
			continue
		}
		if !contains(allowed, k) {
			return gerr(http.StatusBadRequest, "BadRequest", "The parameter '%s' in the request payload is not a valid parameter for the operation '%s'.", k, action)
		}
	}
	return nil
}

func (s *Server) addPassword(g *graphReq, app *application) (*graphResp, *graphError) {
	body, e := s.appWriteBody(g, app, true)
	if e != nil {
		return nil, e
	}
	if e := actionParams(body, "addPassword", "passwordCredential"); e != nil {
		return nil, e
	}
	var pc map[string]any
	if v, set := body["passwordCredential"]; set && v != nil {
		m, isObj := v.(map[string]any)
		if !isObj {
			return nil, unexpectedNode(v, "StartObject")
		}
		if e := validateObject("passwordCredential", m); e != nil {
			return nil, e
		}
		pc = m
	}
	now := time.Now().UTC()
	start, end := now, time.Time{}
	var displayName any
	if pc != nil {
		if s, _ := pc["startDateTime"].(string); s != "" {
			start, _ = parseGraphTime(s)
		}
		if s, _ := pc["endDateTime"].(string); s != "" {
			end, _ = parseGraphTime(s)
		}
		displayName = pc["displayName"]
	}
	if end.IsZero() {
		end = start.AddDate(2, 0, 0)
	}
	if !end.After(start) {
		return nil, errInvalidValue("endDateTime", "PasswordCredential")
	}
	if e := s.checkPasswordPolicy(app, pc, start, end); e != nil {
		return nil, e
	}
	cred := s.t.addSecret(app, displayName, start, end, now)
	cred["@odata.context"] = g.contextURL("microsoft.graph.passwordCredential")
	return s.commit(ok(cred))
}

func (s *Server) removePassword(g *graphReq, app *application) (*graphResp, *graphError) {
	body, e := s.appWriteBody(g, app, false)
	if e != nil {
		return nil, e
	}
	if e := actionParams(body, "removePassword", "keyId"); e != nil {
		return nil, e
	}
	if e := validateValue("keyId", propDef{Type: "Edm.Guid"}, body["keyId"]); e != nil || body["keyId"] == nil {
		if e == nil {
			e = errInvalidValue("keyId", "PasswordCredential")
		}
		return nil, e
	}
	keyID := strings.ToLower(str(body, "keyId"))
	creds := objList(app.Props["passwordCredentials"])
	kept := []any{}
	found := false
	for _, c := range creds {
		if strings.EqualFold(str(c, "keyId"), keyID) {
			found = true
			continue
		}
		kept = append(kept, c)
	}
	if !found {
		return nil, errInvalidValue("keyId", "PasswordCredential")
	}
	app.Props["passwordCredentials"] = kept
	var secrets []secretRecord
	for _, r := range app.Secrets {
		if !strings.EqualFold(r.KeyID, keyID) {
			secrets = append(secrets, r)
		}
	}
	app.Secrets = secrets
	return s.commit(noContent())
}

// canRollOwnKeys: an application needs no permission to roll its own keys
// (application-addkey).
func (g *graphReq) canRollOwnKeys(app *application) bool {
	return g.id.appOnly && strings.EqualFold(g.id.appID, str(app.Props, "appId"))
}

func (s *Server) addKey(g *graphReq, app *application) (*graphResp, *graphError) {
	if !g.canRollOwnKeys(app) {
		if err := g.authorize(permAddKey); err != nil {
			return nil, err
		}
		if !g.canManageApp(s.t, app.Owners) {
			return nil, errForbidden()
		}
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := actionParams(body, "addKey", "keyCredential", "passwordCredential", "proof"); e != nil {
		return nil, e
	}
	kcRaw, isObj := body["keyCredential"].(map[string]any)
	if !isObj {
		return nil, errInvalidValue("keyCredential", "Application")
	}
	if e := validateObject("keyCredential", kcRaw); e != nil {
		return nil, e
	}
	if pc := body["passwordCredential"]; pc != nil && str(kcRaw, "type") != "X509CertAndPassword" {
		return nil, errInvalidValue("passwordCredential", "Application")
	}
	proof, _ := body["proof"].(string)
	if e := s.checkProof(app, proof); e != nil {
		return nil, e
	}
	kc, _, e := normalizeKeyCredential(kcRaw, nil)
	if e != nil {
		return nil, e
	}
	if e := s.checkKeyPolicy(app, []map[string]any{kc}); e != nil {
		return nil, e
	}
	now := time.Now()
	keyID := str(kc, "keyId")
	for _, c := range objList(app.Props["keyCredentials"]) {
		if strings.EqualFold(str(c, "keyId"), keyID) {
			return nil, errInvalidValue("keyId", "KeyCredential")
		}
	}
	app.Props["keyCredentials"] = append(app.Props["keyCredentials"].([]any), kc)
	if app.CredAdded == nil {
		app.CredAdded = map[string]time.Time{}
	}
	app.CredAdded[keyID] = now
	out := deepCopy(kc).(map[string]any)
	out["key"] = nil
	out["@odata.context"] = g.contextURL("microsoft.graph.keyCredential")
	return s.commit(ok(out))
}

func (s *Server) removeKey(g *graphReq, app *application) (*graphResp, *graphError) {
	if !g.canRollOwnKeys(app) {
		if err := g.authorize(permAddKey); err != nil {
			return nil, err
		}
		if !g.canManageApp(s.t, app.Owners) {
			return nil, errForbidden()
		}
	}
	body, e := g.decodeJSONBody(false)
	if e != nil {
		return nil, e
	}
	if e := actionParams(body, "removeKey", "keyId", "proof"); e != nil {
		return nil, e
	}
	if e := validateValue("keyId", propDef{Type: "Edm.Guid"}, body["keyId"]); e != nil || body["keyId"] == nil {
		if e == nil {
			e = errInvalidValue("keyId", "KeyCredential")
		}
		return nil, e
	}
	proof, _ := body["proof"].(string)
	if e := s.checkProof(app, proof); e != nil {
		return nil, e
	}
	keyID := str(body, "keyId")
	kept := []any{}
	found := false
	for _, c := range objList(app.Props["keyCredentials"]) {
		if strings.EqualFold(str(c, "keyId"), keyID) {
			found = true
			continue
		}
		kept = append(kept, c)
	}
	if !found {
		return nil, errInvalidValue("keyId", "KeyCredential")
	}
	app.Props["keyCredentials"] = kept
	return s.commit(noContent())
}

// checkProof validates the proof-of-possession JWT of addKey/removeKey: RS256,
// signed by one of the application's currently valid certificates, aud
// 00000002-0000-0000-c000-000000000000, iss the application's object id,
// nbf/exp present and at most ten minutes apart, and valid now. Graph does
// not document its errors; these are the observed ones: a proof that does
// not validate gets 401 Authentication_MissingOrMalformed "Access Token
// missing or malformed." (microsoft-graph-docs#14626, #22076, #10686: wrong
// aud, wrong key), a missing proof 403 "Insufficient privileges to complete
// the operation." (msgraph-sdk-powershell#779).
func (s *Server) checkProof(app *application, proof string) *graphError {
	invalid := func() *graphError {
		return gerr(http.StatusUnauthorized, "Authentication_MissingOrMalformed", "Access Token missing or malformed.")
	}
	if proof == "" {
		return errForbidden()
	}
	tok, err := parseJWT(proof)
	if err != nil || tok.alg() != "RS256" && tok.alg() != "PS256" {
		return invalid()
	}
	if tok.str("aud") != legacyAADGraphAppID || !strings.EqualFold(tok.str("iss"), str(app.Props, "id")) {
		return invalid()
	}
	nbf, hasNbf := tok.num("nbf")
	exp, hasExp := tok.num("exp")
	now := time.Now()
	if !hasNbf || !hasExp || exp-nbf > 600 || exp <= nbf ||
		now.Add(clockSkew).Before(time.Unix(nbf, 0)) || now.After(time.Unix(exp, 0).Add(clockSkew)) {
		return invalid()
	}
	for _, kc := range objList(app.Props["keyCredentials"]) {
		if str(kc, "type") != "AsymmetricX509Cert" {
			continue
		}
		if end, ok := parseGraphTime(str(kc, "endDateTime")); ok && now.After(end) {
			continue
		}
		if start, ok := parseGraphTime(str(kc, "startDateTime")); ok && now.Before(start) {
			continue
		}
		der, err := decodeBinary(str(kc, "key"))
		if err != nil {
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		if pub, isRSA := rsaPublicKey(cert); isRSA && tok.verify(pub) == nil {
			return nil
		}
	}
	return invalid()
}

// numEquals compares a stored JSON number (int from seeds, int64 from
// requests, float64 after a reload) with n.
func numEquals(v any, n int64) bool {
	switch x := v.(type) {
	case int:
		return int64(x) == n
	case int64:
		return x == n
	case float64:
		return x == float64(n)
	}
	return false
}

// appWriteBody checks that the caller may change app, then decodes the
// request body (optional: the body may be absent).
func (s *Server) appWriteBody(g *graphReq, app *application, optional bool) (map[string]any, *graphError) {
	if err := g.authorize(permAppWrite); err != nil {
		return nil, err
	}
	if !g.canManageApp(s.t, app.Owners) {
		return nil, errForbidden()
	}
	return g.decodeJSONBody(optional)
}
