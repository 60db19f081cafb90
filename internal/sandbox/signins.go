package sandbox

import (
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Sign-in logs (auditLogs/signIns). The token endpoint records every client
// credentials sign-in of an application it could identify, successful or
// not, with the key id of the secret or certificate used; device-code
// sign-ins are recorded as interactive user sign-ins. The log is saved with
// the tenant's next change, not on every token request.
//
// Version matters: v1.0 lists interactive user sign-ins only, and its
// signIn type has no signInEventTypes or servicePrincipalCredentialKeyId
// (msgraph-sdk-go v1 models; "The v1.0 /auditLogs/signIns collection
// returns INTERACTIVE sign-ins only"). Service principal sign-ins, with
// servicePrincipalCredentialKeyId, are beta:
//
//	GET /beta/auditLogs/signIns?$filter=signInEventTypes/any(t: t eq 'servicePrincipal') and appId eq '…'
//
// ("This API returns only interactive sign-ins unless you set an explicit
// filter", signIn resource, beta). Both need AuditLog.Read.All and
// Directory.Read.All (signin-list, with its "known issue"), and a delegated
// caller one of the roles that may read sign-in reports.

// maxSignIns bounds the log kept per tenant.
const maxSignIns = 1000

type signInRecord struct {
	ID                   string    `json:"id"`
	Created              time.Time `json:"createdDateTime"`
	EventType            string    `json:"signInEventType"` // servicePrincipal | interactiveUser
	AppID                string    `json:"appId"`
	AppDisplayName       string    `json:"appDisplayName"`
	ServicePrincipalID   string    `json:"servicePrincipalId,omitempty"`
	ServicePrincipalName string    `json:"servicePrincipalName,omitempty"`
	CredentialKeyID      string    `json:"servicePrincipalCredentialKeyId,omitempty"`
	CredentialThumbprint string    `json:"servicePrincipalCredentialThumbprint,omitempty"`
	CredentialType       string    `json:"clientCredentialType,omitempty"` // clientSecret | certificate
	ResourceAppID        string    `json:"resourceId,omitempty"`
	ResourceDisplayName  string    `json:"resourceDisplayName,omitempty"`
	ResourceSPID         string    `json:"resourceServicePrincipalId,omitempty"`
	UserID               string    `json:"userId,omitempty"`
	UserPrincipalName    string    `json:"userPrincipalName,omitempty"`
	UserDisplayName      string    `json:"userDisplayName,omitempty"`
	CorrelationID        string    `json:"correlationId"`
	IPAddress            string    `json:"ipAddress"`
	ErrorCode            int       `json:"errorCode"`
	FailureReason        string    `json:"failureReason,omitempty"`
}

// signInReaderRoles may read sign-in logs with a delegated token
// (signin-list: Global Administrator, Global Reader, Reports Reader,
// Security Administrator, Security Operator, Security Reader).
var signInReaderRoles = []string{globalAdminRoleID, globalReaderID, reportsReaderID, securityAdminID, securityOperator, securityReaderID}

var permSignInRead = perm{
	app: [][]string{{"AuditLog.Read.All"}, {"Directory.Read.All", "Directory.ReadWrite.All"}},
	del: [][]string{{"AuditLog.Read.All"}, {"Directory.Read.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"}},
}

func (t *tenant) addSignIn(r *signInRecord) {
	t.SignIns = append(t.SignIns, r)
	if len(t.SignIns) > maxSignIns {
		t.SignIns = append([]*signInRecord(nil), t.SignIns[len(t.SignIns)-maxSignIns:]...)
	}
}

// recordServicePrincipalSignIn logs a client credentials sign-in of app to
// resource (nil on failure) in the current tenant. Callers hold s.mu.
func (lr *loginReq) recordServicePrincipalSignIn(app *application, resource *servicePrincipal, failure *stsError) {
	t := lr.s.t
	r := &signInRecord{
		ID: newGUID(), Created: time.Now().UTC(), EventType: "servicePrincipal",
		AppID: str(app.Props, "appId"), AppDisplayName: str(app.Props, "displayName"),
		CorrelationID: lr.corrID, IPAddress: clientIP(lr.r),
	}
	if sp := t.spByAppID(r.AppID); sp != nil {
		r.ServicePrincipalID, r.ServicePrincipalName = str(sp.Props, "id"), str(sp.Props, "displayName")
	}
	r.CredentialType, r.CredentialKeyID, r.CredentialThumbprint = lr.credentialUsed(app)
	if resource != nil {
		r.ResourceAppID, r.ResourceDisplayName, r.ResourceSPID = str(resource.Props, "appId"), str(resource.Props, "displayName"), str(resource.Props, "id")
	}
	if failure != nil {
		r.ErrorCode, r.FailureReason = failure.Code, failure.Desc
	}
	t.addSignIn(r)
}

// recordUserSignIn logs an interactive user sign-in (device code today,
// the browser flow too) in the current tenant. Callers hold s.mu.
func (lr *loginReq) recordUserSignIn(clientID, userID string) {
	t := lr.s.t
	u := t.Users[userID]
	if u == nil {
		return
	}
	r := &signInRecord{
		ID: newGUID(), Created: time.Now().UTC(), EventType: "interactiveUser", AppID: clientID,
		UserID: userID, UserPrincipalName: str(u.Props, "userPrincipalName"), UserDisplayName: str(u.Props, "displayName"),
		CorrelationID: lr.corrID, IPAddress: clientIP(lr.r),
	}
	if name, ok := publicClientName(clientID); ok {
		r.AppDisplayName = name
	} else if app := t.appByAppID(clientID); app != nil {
		r.AppDisplayName = str(app.Props, "displayName")
	}
	t.addSignIn(r)
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndex(host, ":"); i > 0 {
		host = strings.Trim(host[:i], "[]")
	}
	return host
}

// credentialUsed names the credential a token request presented: the
// secret's keyId (matched against the salted hashes), or the certificate
// whose thumbprint the assertion's x5t/x5t#S256 header names.
func (lr *loginReq) credentialUsed(app *application) (credType, keyID, thumbprint string) {
	form := lr.r.PostForm
	secret, hasSecret := form.Get("client_secret"), form.Has("client_secret")
	if !hasSecret {
		if u, p, ok := lr.r.BasicAuth(); ok && strings.EqualFold(u, str(app.Props, "appId")) {
			secret, hasSecret = p, true
		}
	}
	if hasSecret {
		for _, rec := range app.Secrets {
			if rec.matches(secret) {
				return "clientSecret", rec.KeyID, ""
			}
		}
		return "clientSecret", "", ""
	}
	tok, err := parseJWT(form.Get("client_assertion"))
	if err != nil {
		return "", "", ""
	}
	want, sha256Mode := decodeThumbprint(tok.headerStr("x5t")), false
	if h := tok.headerStr("x5t#S256"); h != "" {
		want, sha256Mode = decodeThumbprint(h), true
	}
	for _, kc := range objList(app.Props["keyCredentials"]) {
		der, err := decodeBinary(str(kc, "key"))
		if err != nil {
			continue
		}
		s1, s256 := certThumbprints(der)
		if len(want) > 0 && (sha256Mode && string(s256) == string(want) || !sha256Mode && string(s1) == string(want)) {
			return "certificate", str(kc, "keyId"), strings.ToUpper(hex.EncodeToString(s1))
		}
	}
	return "certificate", "", ""
}

// signInProps renders a record as a signIn; beta adds what only beta has.
func (t *tenant) signInProps(r *signInRecord, beta bool) map[string]any {
	nullable := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	status := map[string]any{"errorCode": r.ErrorCode, "failureReason": nil, "additionalDetails": nil}
	if r.ErrorCode != 0 {
		status["failureReason"] = r.FailureReason
	}
	p := map[string]any{
		"id":                               r.ID,
		"createdDateTime":                  graphDate(r.Created),
		"appDisplayName":                   r.AppDisplayName,
		"appId":                            r.AppID,
		"appliedConditionalAccessPolicies": []any{},
		"clientAppUsed":                    nil,
		"conditionalAccessStatus":          "notApplied",
		"correlationId":                    r.CorrelationID,
		"deviceDetail":                     map[string]any{"browser": nil, "deviceId": "", "displayName": nil, "isCompliant": false, "isManaged": false, "operatingSystem": nil, "trustType": nil},
		"homeTenantId":                     t.TenantID,
		"ipAddress":                        r.IPAddress,
		"isInteractive":                    r.EventType == "interactiveUser",
		"location":                         map[string]any{"city": nil, "countryOrRegion": nil, "state": nil, "geoCoordinates": nil},
		"resourceDisplayName":              nullable(r.ResourceDisplayName),
		"resourceId":                       nullable(r.ResourceAppID),
		"resourceTenantId":                 t.TenantID,
		"riskDetail":                       "none",
		"riskEventTypes":                   []any{},
		"riskEventTypes_v2":                []any{},
		"riskLevelAggregated":              "none",
		"riskLevelDuringSignIn":            "none",
		"riskState":                        "none",
		"servicePrincipalId":               nullable(r.ServicePrincipalID),
		"servicePrincipalName":             nullable(r.ServicePrincipalName),
		"status":                           status,
		"userAgent":                        nil,
		"userDisplayName":                  nullable(r.UserDisplayName),
		"userId":                           r.UserID, // "" for service principals, as Entra writes it
		"userPrincipalName":                nullable(r.UserPrincipalName),
	}
	if r.EventType == "interactiveUser" {
		p["clientAppUsed"] = "Mobile Apps and Desktop clients"
	}
	if beta {
		p["signInEventTypes"] = []any{r.EventType}
		p["servicePrincipalCredentialKeyId"] = nullable(r.CredentialKeyID)
		p["servicePrincipalCredentialThumbprint"] = nullable(r.CredentialThumbprint)
		ct := "none"
		if r.CredentialType != "" {
			ct = r.CredentialType
		}
		p["clientCredentialType"] = ct
		p["resourceServicePrincipalId"] = nullable(r.ResourceSPID)
		p["userType"] = "member"
		if r.EventType == "servicePrincipal" {
			p["userType"] = nil
		}
	}
	return p
}

var signInFilterV1 = map[string]string{
	"id": "string", "appId": "string", "appDisplayName": "string", "userId": "string", "userPrincipalName": "string",
	"userDisplayName": "string", "createdDateTime": "datetime", "correlationId": "string", "ipAddress": "string",
	"resourceId": "string", "resourceDisplayName": "string", "servicePrincipalId": "string", "servicePrincipalName": "string",
	"conditionalAccessStatus": "string", "clientAppUsed": "string",
}

func signInFilter(beta bool) filterSpec {
	props := map[string]string{}
	for k, v := range signInFilterV1 {
		props[k] = v
	}
	if beta {
		props["signInEventTypes"] = "collection"
		props["servicePrincipalCredentialKeyId"] = "string"
		props["clientCredentialType"] = "string"
	}
	return filterSpec{resource: "signIn", props: props}
}

func (s *Server) routeAuditLogs(g *graphReq) (*graphResp, *graphError) {
	if len(g.segs) < 2 || !segIs(g.segs[1], "signIns") {
		if len(g.segs) < 2 {
			return nil, errSegment(g.segs[0])
		}
		return nil, errSegment(g.segs[1])
	}
	if g.method != http.MethodGet {
		return nil, errMethodNotAllowed()
	}
	if err := g.authorize(permSignInRead); err != nil {
		return nil, err
	}
	t := s.t
	if !g.id.appOnly && !g.userHasRole(t, signInReaderRoles...) {
		return nil, errForbidden()
	}
	switch len(g.segs) {
	case 2:
		// Without a filter on signInEventTypes (beta only) the list holds
		// interactive sign-ins.
		explicit := g.beta && strings.Contains(strings.ToLower(g.query.Get("$filter")), "signineventtypes")
		// Newest first; the log's own order breaks ties of createdDateTime
		// (whole seconds), for $orderby too.
		ascending := strings.EqualFold(strings.Join(strings.Fields(g.query.Get("$orderby")), " "), "createdDateTime asc")
		var items []map[string]any
		for i := range t.SignIns {
			r := t.SignIns[len(t.SignIns)-1-i]
			if ascending {
				r = t.SignIns[i]
			}
			if r.EventType != "interactiveUser" && !explicit {
				continue
			}
			items = append(items, t.signInProps(r, g.beta))
		}
		return g.listResponse(items, listOptions{typ: "signIn", setName: "auditLogs/signIns", filter: signInFilter(g.beta),
			pageSize: 1000, orderable: []string{"createdDateTime"}})
	case 3:
		for _, r := range t.SignIns {
			if r.ID == g.segs[2] && (g.beta || r.EventType == "interactiveUser") {
				return g.entityResponse("signIn", "auditLogs/signIns", t.signInProps(r, g.beta))
			}
		}
		return nil, errNotFound(g.segs[2])
	}
	return nil, errSegment(g.segs[3])
}

// routeBeta serves the only beta resource the sandbox has.
func (s *Server) routeBeta(g *graphReq) (*graphResp, *graphError) {
	if len(g.segs) > 0 && segIs(g.segs[0], "auditLogs") {
		return s.routeAuditLogs(g)
	}
	return nil, gerr(http.StatusBadRequest, "BadRequest", "The entra-link sandbox serves Microsoft Graph v1.0 only (and beta auditLogs/signIns).")
}
