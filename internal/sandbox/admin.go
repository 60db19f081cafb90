package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The tenant administration API: what tests and `entra-link sandbox` users
// set up that Graph itself would need an administrator (or several
// tenants) for. The Go methods are the API; /_sandbox/… serves them over
// HTTP for a separately running sandbox (loopback clients only, like the
// inspection API; no token). A tenantId of "" (or none) is the home tenant.
//
//	GET  /_sandbox/tenants                        → [TenantInfo]
//	POST /_sandbox/tenants          TenantSpec    → TenantInfo
//	POST /_sandbox/principals       {tenantId, name, graphAppRoles, directoryRoles} → {clientId, clientSecret}
//	POST /_sandbox/users            UserSpec      → {id, userPrincipalName}
//	POST /_sandbox/groups           GroupSpec     → {id}
//	POST /_sandbox/group-members    {groupId, memberId}
//	POST /_sandbox/eligible-roles   {principalId, role}
//	POST /_sandbox/activate-role    {principalId, role}
//	POST /_sandbox/sign-in-as       {userPrincipalName}
//	POST /_sandbox/app-management-policy          {tenantId, policy: <tenantAppManagementPolicy PATCH body>}
//	POST /_sandbox/app-management-policy/assign   {applicationId, policy: <appManagementPolicy>} → {id}
//	POST /_sandbox/settings         {tenantId, requireServiceManagementReference}

// SetDefaultAppManagementPolicy changes a tenant's default app management
// policy as PATCH /policies/defaultAppManagementPolicy does (the body is
// that request's JSON, validated the same way).
func (s *Server) SetDefaultAppManagementPolicy(ctx context.Context, tenantID string, patch []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, err := decodeAdminObject(patch)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("sandbox: no tenant %q", tenantID)
	}
	merged, e := patchTenantPolicy(t.DefaultAppPolicy, body)
	if e != nil {
		return fmt.Errorf("sandbox: app management policy: %s", e.Message)
	}
	t.DefaultAppPolicy = merged
	return s.save()
}

// AssignAppManagementPolicy creates a per-app policy (the JSON of POST
// /policies/appManagementPolicies) and assigns it to the application with
// this object id; it replaces the tenant default for that application.
func (s *Server) AssignAppManagementPolicy(ctx context.Context, appObjectID string, policy []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	body, err := decodeAdminObject(policy)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := strings.ToLower(appObjectID)
	t := s.tenantOf(id)
	if t == nil || t.Applications[id] == nil {
		return "", fmt.Errorf("sandbox: no application with object id %s", appObjectID)
	}
	if t.appPolicy(id) != nil {
		return "", fmt.Errorf("sandbox: %s", errPolicyOnlyOne)
	}
	p, e := newCustomPolicy(body)
	if e != nil {
		return "", fmt.Errorf("sandbox: app management policy: %s", e.Message)
	}
	p.Seq = t.seq()
	p.AppliesTo = []string{id}
	t.AppPolicies[str(p.Props, "id")] = p
	return str(p.Props, "id"), s.save()
}

// SetRequireServiceManagementReference makes a tenant refuse new
// applications without serviceManagementReference (400
// ServiceTreeValueMissing, as tenants configured so answer).
func (s *Server) SetRequireServiceManagementReference(ctx context.Context, tenantID string, required bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("sandbox: no tenant %q", tenantID)
	}
	t.RequireServiceManagementReference = required
	return s.save()
}

func decodeAdminObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("sandbox: want a JSON object: %w", err)
	}
	if v == nil {
		return nil, errors.New("sandbox: want a JSON object, not null")
	}
	return v, nil
}

// serveAdmin answers the administration endpoints; false if path is none.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request, path string) bool {
	ctx := r.Context()
	decode := func(v any) bool {
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid request body: " + err.Error()})
			return false
		}
		return true
	}
	fail := func(err error) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": err.Error()})
	}
	post := func() bool {
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use POST"})
			return false
		}
		return true
	}
	switch path {
	case "tenants":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, map[string]any{"tenants": s.publicTenants()})
		case http.MethodPost:
			var spec TenantSpec
			if !decode(&spec) {
				return true
			}
			info, err := s.AddTenant(ctx, spec)
			if err != nil {
				fail(err)
				return true
			}
			writeJSON(w, http.StatusCreated, withoutSecret(info))
		default:
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use GET or POST"})
		}
	case "principals":
		var req struct {
			TenantID       string   `json:"tenantId"`
			Name           string   `json:"name"`
			GraphAppRoles  []string `json:"graphAppRoles"`
			DirectoryRoles []string `json:"directoryRoles"`
		}
		if !post() || !decode(&req) {
			return true
		}
		id, secret, err := s.CreatePrincipalIn(ctx, req.TenantID, req.Name, req.GraphAppRoles, req.DirectoryRoles)
		if err != nil {
			fail(err)
			return true
		}
		// The one place the secret is handed out, like addPassword's answer.
		writeJSON(w, http.StatusCreated, map[string]any{"clientId": id, "clientSecret": secret})
	case "users":
		var spec UserSpec
		if !post() || !decode(&spec) {
			return true
		}
		id, upn, err := s.CreateUserIn(ctx, spec)
		if err != nil {
			fail(err)
			return true
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "userPrincipalName": upn})
	case "groups":
		var spec GroupSpec
		if !post() || !decode(&spec) {
			return true
		}
		id, err := s.CreateGroup(ctx, spec)
		if err != nil {
			fail(err)
			return true
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": id})
	case "group-members", "eligible-roles", "activate-role":
		var req struct {
			GroupID     string `json:"groupId"`
			MemberID    string `json:"memberId"`
			PrincipalID string `json:"principalId"`
			Role        string `json:"role"`
		}
		if !post() || !decode(&req) {
			return true
		}
		var err error
		switch path {
		case "group-members":
			err = s.AddGroupMember(ctx, req.GroupID, req.MemberID)
		case "eligible-roles":
			err = s.AddEligibleRole(ctx, req.PrincipalID, req.Role)
		default:
			err = s.ActivateEligibleRole(ctx, req.PrincipalID, req.Role)
		}
		if err != nil {
			fail(err)
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	case "sign-in-as":
		var req struct {
			UPN string `json:"userPrincipalName"`
		}
		if !post() || !decode(&req) {
			return true
		}
		if err := s.SignInAs(req.UPN); err != nil {
			fail(err)
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	case "app-management-policy", "app-management-policy/assign":
		var req struct {
			TenantID      string          `json:"tenantId"`
			ApplicationID string          `json:"applicationId"`
			Policy        json.RawMessage `json:"policy"`
		}
		if !post() || !decode(&req) {
			return true
		}
		if path == "app-management-policy" {
			if err := s.SetDefaultAppManagementPolicy(ctx, req.TenantID, req.Policy); err != nil {
				fail(err)
				return true
			}
			writeJSON(w, http.StatusOK, map[string]any{"ok": true})
			return true
		}
		id, err := s.AssignAppManagementPolicy(ctx, req.ApplicationID, req.Policy)
		if err != nil {
			fail(err)
			return true
		}
		writeJSON(w, http.StatusCreated, map[string]any{"id": id})
	case "settings":
		var req struct {
			TenantID                          string `json:"tenantId"`
			RequireServiceManagementReference *bool  `json:"requireServiceManagementReference"`
		}
		if !post() || !decode(&req) {
			return true
		}
		if req.RequireServiceManagementReference == nil {
			fail(fmt.Errorf("sandbox: settings: nothing to change (requireServiceManagementReference)"))
			return true
		}
		if err := s.SetRequireServiceManagementReference(ctx, req.TenantID, *req.RequireServiceManagementReference); err != nil {
			fail(err)
			return true
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true})
	default:
		return false
	}
	return true
}

// publicTenants lists the tenants without the bootstrap secret.
func (s *Server) publicTenants() []any {
	var out []any
	for _, info := range s.Tenants() {
		out = append(out, withoutSecret(info))
	}
	return out
}

// withoutSecret renders a TenantInfo for the administration API: the
// bootstrap secret stays in tenant.json.
func withoutSecret(info TenantInfo) map[string]any {
	return map[string]any{"tenantId": info.TenantID, "tenantDomain": info.TenantDomain, "displayName": info.DisplayName,
		"authorityHost": info.AuthorityHost, "graphEndpoint": info.GraphEndpoint, "clientId": info.ClientID}
}

// fullStateView is /_sandbox/state: the home tenant's view at the top
// level (as before) and each further tenant's under "tenants", each with
// the recycle bin, groups, PIM eligibility, app management policies,
// settings and sign-in log. Never a secret. Callers hold s.mu.
func (s *Server) fullStateView() map[string]any {
	view := s.tenantView(s.home)
	var others []any
	for _, t := range s.home.Tenants {
		others = append(others, s.tenantView(t))
	}
	view["tenants"] = orEmpty(others)
	return view
}

func (s *Server) tenantView(t *tenant) map[string]any {
	defer s.enter(t)()
	v := s.stateView()
	apps, _ := v["applications"].([]any)
	for _, a := range apps {
		m, _ := a.(map[string]any)
		if app := t.Applications[str(m, "id")]; app != nil {
			m["uniqueName"] = app.Props["uniqueName"]
			m["notes"] = app.Props["notes"]
			m["serviceManagementReference"] = app.Props["serviceManagementReference"]
			if p := t.appPolicy(str(m, "id")); p != nil {
				m["appManagementPolicy"] = p.Props["id"]
			}
		}
	}
	deletedApps := []any{}
	for _, a := range sortedBySeq(t.DeletedApplications, func(a *application) int64 { return a.Seq }) {
		deletedApps = append(deletedApps, map[string]any{"id": a.Props["id"], "appId": a.Props["appId"], "displayName": a.Props["displayName"],
			"uniqueName": a.Props["uniqueName"], "deletedDateTime": a.Props["deletedDateTime"]})
	}
	deletedSPs := []any{}
	for _, d := range sortedBySeq(t.DeletedServicePrincipals, func(d *deletedPrincipal) int64 { return d.SP.Seq }) {
		deletedSPs = append(deletedSPs, map[string]any{"id": d.SP.Props["id"], "appId": d.SP.Props["appId"], "displayName": d.SP.Props["displayName"],
			"deletedDateTime": d.SP.Props["deletedDateTime"]})
	}
	groups := []any{}
	for _, g := range sortedBySeq(t.Groups, func(g *group) int64 { return g.Seq }) {
		groups = append(groups, map[string]any{"id": g.Props["id"], "displayName": g.Props["displayName"], "isAssignableToRole": g.Props["isAssignableToRole"],
			"members": orEmpty(anyList(g.Members)), "directoryRoles": roleNamesOf(t.directRoleTemplates(str(g.Props, "id")))})
	}
	eligible := []any{}
	for _, e := range sortedBySeq(t.Eligibilities, func(e *roleEligibility) int64 { return e.Seq }) {
		eligible = append(eligible, map[string]any{"id": e.ID, "principalId": e.PrincipalID, "principalDisplayName": t.principalName(e.PrincipalID),
			"roleDefinitionId": e.RoleDefinitionID, "roleName": roleName(e.RoleDefinitionID), "directoryScopeId": e.DirectoryScopeID})
	}
	custom := []any{}
	for _, p := range sortedBySeq(t.AppPolicies, func(p *appManagementPolicy) int64 { return p.Seq }) {
		m := deepCopy(p.Props).(map[string]any)
		m["appliesTo"] = orEmpty(anyList(p.AppliesTo))
		custom = append(custom, m)
	}
	signIns := []any{}
	for _, r := range t.SignIns {
		signIns = append(signIns, map[string]any{"id": r.ID, "createdDateTime": r.Created.Format(time.RFC3339Nano), "signInEventType": r.EventType,
			"appId": r.AppID, "servicePrincipalId": r.ServicePrincipalID, "servicePrincipalCredentialKeyId": r.CredentialKeyID,
			"clientCredentialType": r.CredentialType, "resourceId": r.ResourceAppID, "userId": r.UserID, "errorCode": r.ErrorCode})
	}
	v["deletedItems"] = map[string]any{"applications": deletedApps, "servicePrincipals": deletedSPs}
	v["groups"] = groups
	v["roleEligibilities"] = eligible
	v["appManagementPolicies"] = map[string]any{"default": deepCopy(t.DefaultAppPolicy), "custom": custom}
	v["settings"] = map[string]any{"requireServiceManagementReference": t.RequireServiceManagementReference}
	v["signIns"] = signIns
	return v
}
