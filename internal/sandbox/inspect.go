package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The inspection API lives outside the Graph and login paths and needs no
// token; it answers loopback clients only.
func (s *Server) serveInspect(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "the sandbox inspection API answers loopback clients only"})
		return
	}
	switch strings.TrimPrefix(r.URL.Path, "/_sandbox/") {
	case "state":
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use GET"})
			return
		}
		s.mu.Lock()
		v := s.fullStateView()
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, v)
	case "requests":
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use GET"})
			return
		}
		recs := s.Requests()
		out := make([]any, 0, len(recs))
		for _, rec := range recs {
			out = append(out, recordJSON(rec))
		}
		writeJSON(w, http.StatusOK, map[string]any{"requests": out})
	case "faults":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, faultsJSON(s.CurrentFaults()))
		case http.MethodPost:
			f, err := decodeFaults(r.Body, s.CurrentFaults())
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
				return
			}
			s.SetFaults(f)
			writeJSON(w, http.StatusOK, faultsJSON(f))
		default:
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use GET or POST"})
		}
	case "inject":
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use POST"})
			return
		}
		var rule Rule
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&rule); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid rule: " + err.Error()})
			return
		}
		if _, err := newActiveRule(rule); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
			return
		}
		s.Inject(rule)
		writeJSON(w, http.StatusOK, map[string]any{"injected": rule})
	case "held":
		s.serveHeld(w, r)
	case "release":
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use POST"})
			return
		}
		var req struct {
			ID int64 `json:"id"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid release request: want {\"id\": N}, or no body to release all: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"released": s.Release(req.ID)})
	default:
		if s.serveAdmin(w, r, strings.TrimPrefix(r.URL.Path, "/_sandbox/")) {
			return
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "unknown inspection endpoint; try /_sandbox/state, /_sandbox/requests, /_sandbox/faults, /_sandbox/inject, /_sandbox/held, /_sandbox/release (administration: see admin.go)"})
	}
}

// serveHeld lists the held responses. With ?wait=DURATION it first waits
// until at least ?count=N (default 1) are held, answering 408 with the
// current list if that does not happen in time.
func (s *Server) serveHeld(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use GET"})
		return
	}
	q := r.URL.Query()
	if q.Get("wait") == "" {
		writeJSON(w, http.StatusOK, map[string]any{"held": s.Held()})
		return
	}
	wait, err := time.ParseDuration(q.Get("wait"))
	if err != nil || wait < 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid wait: want a duration such as 30s"})
		return
	}
	n := 1
	if c := q.Get("count"); c != "" {
		if n, err = strconv.Atoi(c); err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid count: want a number of held responses, at least 1"})
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	held, err := s.WaitHeld(ctx, n)
	if err != nil {
		writeJSON(w, http.StatusRequestTimeout, map[string]any{"error": fmt.Sprintf("fewer than %d response(s) held after %s", n, wait), "held": s.Held()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"held": held})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func recordJSON(r RequestRecord) map[string]any {
	m := map[string]any{
		"time": r.Time.UTC().Format(time.RFC3339Nano), "method": r.Method, "host": r.Host, "path": r.Path,
		"status": r.Status, "duration": r.Duration.String(), "kind": r.Kind,
	}
	if r.Fault != "" {
		m["fault"] = r.Fault
	}
	return m
}

func faultsJSON(f Faults) map[string]any {
	return map[string]any{
		"latency": f.Latency.String(), "throttleEvery": f.ThrottleEvery, "failEvery": f.FailEvery,
		"replicationDelay": f.ReplicationDelay.String(), "retryAfter": f.RetryAfter.String(),
	}
}

// decodeFaults reads a faults document; fields left out keep their current
// values. Durations are Go duration strings ("250ms") or milliseconds.
func decodeFaults(r io.Reader, cur Faults) (Faults, error) {
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&raw); err != nil {
		return Faults{}, fmt.Errorf("invalid faults document: %w", err)
	}
	f := cur
	for k, v := range raw {
		var err error
		switch k {
		case "latency":
			f.Latency, err = decodeDuration(v)
		case "replicationDelay":
			f.ReplicationDelay, err = decodeDuration(v)
		case "retryAfter":
			f.RetryAfter, err = decodeDuration(v)
		case "throttleEvery":
			err = json.Unmarshal(v, &f.ThrottleEvery)
		case "failEvery":
			err = json.Unmarshal(v, &f.FailEvery)
		default:
			err = fmt.Errorf("unknown field")
		}
		if err != nil {
			return Faults{}, fmt.Errorf("invalid value for %q: %w", k, err)
		}
	}
	if f.Latency < 0 || f.ReplicationDelay < 0 || f.RetryAfter < 0 || f.ThrottleEvery < 0 || f.FailEvery < 0 {
		return Faults{}, fmt.Errorf("fault settings must not be negative")
	}
	return f, nil
}

func decodeDuration(v json.RawMessage) (time.Duration, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return time.ParseDuration(s)
	}
	var ms float64
	if err := json.Unmarshal(v, &ms); err != nil {
		return 0, fmt.Errorf("want a duration string or milliseconds")
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

// stateView summarises the directory for inspection: never secret values or
// hashes; credentials appear as keyId, hint and validity only.
func (s *Server) stateView() map[string]any {
	t := s.t
	apps := []any{}
	for _, a := range sortedBySeq(t.Applications, func(a *application) int64 { return a.Seq }) {
		var secrets, certs []any
		for _, c := range objList(a.Props["passwordCredentials"]) {
			secrets = append(secrets, map[string]any{"keyId": c["keyId"], "displayName": c["displayName"], "hint": c["hint"], "startDateTime": c["startDateTime"], "endDateTime": c["endDateTime"]})
		}
		for _, c := range objList(a.Props["keyCredentials"]) {
			certs = append(certs, map[string]any{"keyId": c["keyId"], "displayName": c["displayName"], "customKeyIdentifier": c["customKeyIdentifier"], "type": c["type"], "usage": c["usage"], "startDateTime": c["startDateTime"], "endDateTime": c["endDateTime"]})
		}
		web, _ := a.Props["web"].(map[string]any)
		apps = append(apps, map[string]any{
			"id": a.Props["id"], "appId": a.Props["appId"], "displayName": a.Props["displayName"],
			"signInAudience": a.Props["signInAudience"], "tags": a.Props["tags"], "identifierUris": a.Props["identifierUris"],
			"webRedirectUris": web["redirectUris"], "requiredResourceAccess": a.Props["requiredResourceAccess"],
			"passwordCredentials": orEmpty(secrets), "keyCredentials": orEmpty(certs), "owners": orEmpty(anyList(a.Owners)),
			"createdDateTime": a.Props["createdDateTime"],
		})
	}
	sps := []any{}
	for _, sp := range sortedBySeq(t.ServicePrincipals, func(sp *servicePrincipal) int64 { return sp.Seq }) {
		sps = append(sps, map[string]any{"id": sp.Props["id"], "appId": sp.Props["appId"], "displayName": sp.Props["displayName"],
			"tags": sp.Props["tags"], "appOwnerOrganizationId": sp.Props["appOwnerOrganizationId"], "directoryRoles": s.roleNames(str(sp.Props, "id"))})
	}
	users := []any{}
	for _, u := range sortedBySeq(t.Users, func(u *user) int64 { return u.Seq }) {
		users = append(users, map[string]any{"id": u.Props["id"], "userPrincipalName": u.Props["userPrincipalName"], "displayName": u.Props["displayName"], "directoryRoles": s.roleNames(str(u.Props, "id"))})
	}
	assignments := []any{}
	for _, a := range sortedBySeq(t.AppRoleAssignments, func(a *appRoleAssignment) int64 { return a.Seq }) {
		assignments = append(assignments, map[string]any{"id": a.ID, "principalId": a.PrincipalID, "principalDisplayName": t.principalName(a.PrincipalID),
			"resourceId": a.ResourceID, "resourceDisplayName": t.principalName(a.ResourceID), "appRoleId": a.AppRoleID, "appRole": s.appRoleValue(a.ResourceID, a.AppRoleID)})
	}
	grants := []any{}
	for _, g := range sortedBySeq(t.Grants, func(g *permissionGrant) int64 { return g.Seq }) {
		grants = append(grants, grantProps(g))
	}
	roles := []any{}
	for _, r := range sortedBySeq(t.RoleAssignments, func(r *roleAssignment) int64 { return r.Seq }) {
		roles = append(roles, map[string]any{"id": r.ID, "principalId": r.PrincipalID, "principalDisplayName": t.principalName(r.PrincipalID),
			"roleDefinitionId": r.RoleDefinitionID, "roleName": roleName(r.RoleDefinitionID), "directoryScopeId": r.DirectoryScopeID})
	}
	return map[string]any{
		"tenant": map[string]any{"id": t.TenantID, "initialDomain": t.InitialDomain, "displayName": t.DisplayName,
			"verifiedDomains": anyList(t.verifiedDomains()), "bootstrapClientId": t.BootstrapAppID},
		"applications": apps, "servicePrincipals": sps, "users": users,
		"appRoleAssignments": assignments, "oauth2PermissionGrants": grants, "roleAssignments": roles,
	}
}

func orEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func (s *Server) roleNames(principalID string) []any {
	out := []any{}
	for _, tmpl := range s.t.directoryRoleTemplates(principalID) {
		out = append(out, roleName(tmpl))
	}
	return out
}

func (s *Server) appRoleValue(resourceID, roleID string) string {
	if sp := s.t.ServicePrincipals[resourceID]; sp != nil {
		for _, r := range objList(sp.Props["appRoles"]) {
			if strings.EqualFold(str(r, "id"), roleID) {
				return str(r, "value")
			}
		}
	}
	return ""
}
