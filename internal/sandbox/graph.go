package sandbox

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// graphReq is one Graph request (top level or a $batch item).
type graphReq struct {
	s         *Server
	method    string
	path      string   // after /v1.0, e.g. /applications/{id}
	segs      []string // path segments
	rawQuery  string
	query     url.Values
	header    http.Header
	host      string
	body      []byte
	id        *identity
	requestID string
	clientReq string
	batchItem bool
	fault     string // set when a replication error is returned
	beta      bool   // a /beta request (served for auditLogs/signIns only)
}

// graphResp is a successful Graph response.
type graphResp struct {
	status  int
	body    map[string]any // nil for 204
	text    string         // text/plain body ($count)
	headers map[string]string
}

func ok(body map[string]any) *graphResp { return &graphResp{status: http.StatusOK, body: body} }
func created(body map[string]any) *graphResp {
	return &graphResp{status: http.StatusCreated, body: body}
}
func noContent() *graphResp { return &graphResp{status: http.StatusNoContent} }

const graphJSONContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// serveGraph answers a request under /v1.0 (or, for the sign-in logs only,
// /beta).
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	beta := r.URL.Path == "/beta" || strings.HasPrefix(r.URL.Path, "/beta/")
	version := "/v1.0"
	if beta {
		version = "/beta"
	}
	g := &graphReq{
		s:         s,
		beta:      beta,
		method:    r.Method,
		path:      tenantAlias(strings.TrimPrefix(r.URL.Path, version)),
		rawQuery:  r.URL.RawQuery,
		header:    r.Header,
		host:      r.Host,
		requestID: newGUID(),
	}
	g.clientReq = r.Header.Get("client-request-id")
	if g.clientReq == "" {
		g.clientReq = g.requestID
	}
	body, gErr := readBody(r)
	g.body = body
	var resp *graphResp
	if gErr == nil {
		resp, gErr = s.handleGraph(g)
	}
	if gErr != nil && gErr.Fault != "" {
		info.fault = gErr.Fault
	} else if g.fault != "" {
		info.fault = g.fault
	}
	status, hdr, out := g.render(resp, gErr)
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(out) // the client is gone if this fails
}

// tenantAlias drops Graph's "myorganization" tenant alias
// (/v1.0/myorganization/applications is /v1.0/applications), which the CLI
// for Microsoft 365 sends.
func tenantAlias(path string) string {
	const alias = "/myorganization"
	if len(path) >= len(alias) && strings.EqualFold(path[:len(alias)], alias) {
		if rest := path[len(alias):]; rest == "" || rest[0] == '/' {
			return rest
		}
	}
	return path
}

// readBody reads a request body, gunzipping it when Content-Encoding says
// gzip (kiota's compression handler sends every POST/PATCH that way).
func readBody(r *http.Request) ([]byte, *graphError) {
	if r.Body == nil {
		return nil, nil
	}
	rd := io.LimitReader(r.Body, 4<<20)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		}
		defer func() { _ = zr.Close() }()
		rd = io.LimitReader(zr, 4<<20)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	return b, nil
}

// render produces status, headers and body for a response or an error,
// with Graph's request-id headers and innerError.
func (g *graphReq) render(resp *graphResp, e *graphError) (int, map[string]string, []byte) {
	hdr := map[string]string{
		"request-id":        g.requestID,
		"client-request-id": g.clientReq,
		"Cache-Control":     "no-cache",
	}
	if e != nil {
		inner := map[string]any{
			"date":              errorDate(time.Now()),
			"request-id":        g.requestID,
			"client-request-id": g.clientReq,
		}
		for k, v := range e.Inner {
			inner[k] = v
		}
		errObj := map[string]any{"code": e.Code, "message": e.Message, "innerError": inner}
		if len(e.Details) > 0 {
			d := make([]any, len(e.Details))
			for i, x := range e.Details {
				d[i] = x
			}
			errObj["details"] = d
		}
		for k, v := range e.Headers {
			hdr[k] = v
		}
		if e.Status == http.StatusUnauthorized {
			hdr["WWW-Authenticate"] = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`
		}
		hdr["Content-Type"] = "application/json"
		b, _ := json.Marshal(map[string]any{"error": errObj})
		return e.Status, hdr, b
	}
	for k, v := range resp.headers {
		hdr[k] = v
	}
	switch {
	case resp.text != "":
		hdr["Content-Type"] = "text/plain"
		return resp.status, hdr, []byte(resp.text)
	case resp.body == nil:
		return resp.status, hdr, nil
	default:
		hdr["Content-Type"] = graphJSONContentType
		hdr["OData-Version"] = "4.0"
		b, _ := json.Marshal(resp.body)
		return resp.status, hdr, b
	}
}

// handleGraph runs faults, authentication and the route for one request.
func (s *Server) handleGraph(g *graphReq) (*graphResp, *graphError) {
	q, qerr := parseQuery(g.rawQuery)
	if qerr != nil {
		return nil, qerr
	}
	g.query = q
	g.segs = splitPath(g.path)

	if len(g.segs) == 1 && g.segs[0] == "$batch" && !g.batchItem && !g.beta {
		s.mu.Lock()
		e := s.preflight(g)
		s.mu.Unlock()
		if e == nil {
			e = g.checkContentType()
		}
		if e != nil {
			return nil, e
		}
		return s.handleBatch(g)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.preflight(g); e != nil {
		return nil, e
	}
	if e := g.checkContentType(); e != nil {
		return nil, e
	}
	defer s.enter(g.id.tenant)()
	if g.beta {
		return s.routeBeta(g)
	}
	return s.route(g)
}

// preflight applies injected rules, throttling/failure faults and
// authentication. Callers hold s.mu.
func (s *Server) preflight(g *graphReq) *graphError {
	if r := s.takeRule(g.method, g.path, ""); r != nil {
		return ruleGraphError(r)
	}
	if e := s.graphFault(); e != nil {
		return e
	}
	id, e := s.authenticate(g)
	if e != nil {
		return e
	}
	g.id = id
	return nil
}

// checkContentType refuses a top-level write whose body is not declared as
// JSON. The reference lists "Content-Type: application/json (required on
// bodies)" among Graph's request headers (endpoints.md, introduction), so
// only a request with a body needs it. The answer is [observed] for
// directory entities (POST /users with a form body: 400 BadRequest "Entity
// only allows writes with a JSON Content-Type header."). $batch items
// carry their own header and are checked by handleBatch.
func (g *graphReq) checkContentType() *graphError {
	if g.batchItem || len(bytes.TrimSpace(g.body)) == 0 {
		// Without a body there is nothing to read (actions whose
		// parameters are all optional, such as addPassword).
		return nil
	}
	switch g.method {
	case http.MethodPost, http.MethodPatch, http.MethodPut:
	default:
		return nil
	}
	if mt, _, err := mime.ParseMediaType(g.header.Get("Content-Type")); err == nil && mt == "application/json" {
		return nil
	}
	return gerr(http.StatusBadRequest, "BadRequest", "Entity only allows writes with a JSON Content-Type header.")
}

func ruleGraphError(r *activeRule) *graphError {
	e := &graphError{Status: r.Status, Code: "UnknownError", Message: "An injected sandbox failure.", Headers: r.Headers, Fault: "inject"}
	switch r.Status {
	case http.StatusTooManyRequests:
		e.Code, e.Message = "TooManyRequests", "Please retry again later."
	case http.StatusServiceUnavailable:
		e.Code, e.Message = "serviceNotAvailable", "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after a delay, which may be specified in a Retry-After header."
	case http.StatusNotFound:
		e.Code = "Request_ResourceNotFound"
	case http.StatusForbidden:
		e.Code, e.Message = "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
	case http.StatusBadRequest:
		e.Code = "Request_BadRequest"
	}
	if len(r.Body) > 0 {
		var body struct {
			Error struct {
				Code    string           `json:"code"`
				Message string           `json:"message"`
				Details []map[string]any `json:"details"`
			} `json:"error"`
		}
		if json.Unmarshal(r.Body, &body) == nil && body.Error.Code != "" {
			e.Code, e.Message, e.Details = body.Error.Code, body.Error.Message, body.Error.Details
		}
	}
	return e
}

func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// knownQueryOptions are the system query options the sandbox understands.
var knownQueryOptions = map[string]bool{"$filter": true, "$select": true, "$top": true, "$count": true, "$skiptoken": true, "$orderby": true, "$search": true, "$expand": true, "$format": true}

// parseQuery parses the query string, keeping "$" names intact (url.ParseQuery
// would, but reports errors Graph does not).
func parseQuery(raw string) (url.Values, *graphError) {
	q := url.Values{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "The query specified in the URI is not valid.")
		}
		if strings.HasPrefix(k, "$") {
			k = strings.ToLower(k)
			if !knownQueryOptions[k] {
				return nil, errBadRequest("Unrecognized query argument specified: '%s'.", strings.TrimPrefix(k, "$"))
			}
			if _, dup := q[k]; dup {
				return nil, gerr(http.StatusBadRequest, "BadRequest", "Query option '%s' was specified more than once, but it must be specified at most once.", k)
			}
		}
		q.Add(k, v)
	}
	return q, nil
}

// decodeJSONBody decodes the request body as one JSON object (numbers kept
// as json.Number for type checks).
func (g *graphReq) decodeJSONBody(optional bool) (map[string]any, *graphError) {
	if len(bytes.TrimSpace(g.body)) == 0 {
		if optional {
			return map[string]any{}, nil
		}
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Write request id or body is missing.")
	}
	dec := json.NewDecoder(bytes.NewReader(g.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		return nil, unexpectedNode(v, "StartObject")
	}
	return obj, nil
}

// route dispatches on the path. Callers hold s.mu.
func (s *Server) route(g *graphReq) (*graphResp, *graphError) {
	if len(g.segs) == 0 {
		return nil, errSegment("v1.0")
	}
	name, key, hasKey := parseKeySegment(g.segs[0])
	switch strings.ToLower(name) {
	case "organization":
		return s.routeOrganization(g)
	case "me":
		return s.routeMe(g)
	case "users":
		return s.routeUsers(g)
	case "applications":
		return s.routeApplications(g, key, hasKey)
	case "serviceprincipals":
		return s.routeServicePrincipals(g, key, hasKey)
	case "oauth2permissiongrants":
		return s.routeGrants(g)
	case "rolemanagement":
		return s.routeRoleManagement(g)
	case "directoryroles":
		return s.routeDirectoryRoles(g, key, hasKey)
	case "directoryroletemplates":
		return s.routeDirectoryRoleTemplates(g)
	case "directory":
		return s.routeDirectory(g)
	case "groups":
		return s.routeGroups(g)
	case "policies":
		return s.routePolicies(g)
	case "auditlogs":
		return s.routeAuditLogs(g)
	case "$batch":
		return nil, errBadRequest("Nested batch requests are not supported.")
	}
	return nil, errSegment(g.segs[0])
}

// parseKeySegment splits "applications(appId='x')" into name, "appId=x".
func parseKeySegment(seg string) (name, key string, hasKey bool) {
	i := strings.IndexByte(seg, '(')
	if i < 0 || !strings.HasSuffix(seg, ")") {
		return seg, "", false
	}
	return seg[:i], seg[i+1 : len(seg)-1], true
}

// parseAlternateKey parses "appId='x'" (the property name is matched
// case-insensitively).
func parseAlternateKey(key, prop string) (string, bool) {
	k, v, found := strings.Cut(key, "=")
	if !found || !strings.EqualFold(strings.TrimSpace(k), prop) {
		return "", false
	}
	v = strings.TrimSpace(v)
	if len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), true
}

func segIs(seg, want string) bool { return strings.EqualFold(seg, want) }

// contextURL builds an @odata.context value.
func (g *graphReq) contextURL(fragment string) string {
	return "https://" + g.hostName() + g.versionPath() + "/$metadata#" + fragment
}

func (g *graphReq) versionPath() string {
	if g.beta {
		return "/beta"
	}
	return "/v1.0"
}

func (g *graphReq) hostName() string {
	return strings.TrimSuffix(g.host, ":443")
}

// selectList returns the $select properties, validated against typ.
func (g *graphReq) selectList(typ string) ([]string, *graphError) {
	raw := g.query.Get("$select")
	if raw == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		canonical := ""
		for _, n := range propNames(typ) {
			if strings.EqualFold(n, p) {
				canonical = n
			}
		}
		if canonical == "" {
			return nil, errUnsupportedQuery("Property '%s' does not exist as a declared property or extension property.", p)
		}
		if !contains(out, canonical) {
			out = append(out, canonical)
		}
	}
	return out, nil
}

// project renders an object for output: the default property set (or the
// $select list), with keyCredentials' keys only when selected.
func project(typ string, props map[string]any, sel []string) map[string]any {
	out := map[string]any{}
	if len(sel) == 0 {
		for k, v := range props {
			if selectOnlyProps[typ][k] {
				continue
			}
			out[k] = deepCopy(v)
		}
	} else {
		for _, k := range sel {
			if v, ok := props[k]; ok {
				out[k] = deepCopy(v)
			} else {
				out[k] = emptyValue(typ, k)
			}
		}
	}
	if kc, ok := out["keyCredentials"].([]any); ok && !contains(sel, "keyCredentials") {
		for _, c := range kc {
			if m, ok := c.(map[string]any); ok {
				m["key"] = nil
			}
		}
	}
	return out
}

// emptyValue is what Graph returns for a selected property that has no
// value: [] for collections, null otherwise.
func emptyValue(typ, p string) any {
	if d, ok := lookupProp(typ, p); ok {
		if _, isColl := collectionElem(d.Type); isColl {
			return []any{}
		}
	}
	return nil
}

func selectSuffix(sel []string) string {
	if len(sel) == 0 {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}

// entityResponse renders a single entity with its @odata.context.
func (g *graphReq) entityResponse(typ, setName string, props map[string]any) (*graphResp, *graphError) {
	sel, e := g.selectList(typ)
	if e != nil {
		return nil, e
	}
	if g.query.Get("$expand") != "" {
		return nil, expandError(typ, g.query.Get("$expand"))
	}
	out := project(typ, props, sel)
	out["@odata.context"] = g.contextURL(setName + selectSuffix(sel) + "/$entity")
	return ok(out), nil
}

func expandError(typ, expand string) *graphError {
	return gerr(http.StatusBadRequest, "BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.%s'.", strings.Split(expand, ",")[0], typ)
}

// listOptions describes a collection endpoint.
type listOptions struct {
	typ     string // Graph type of the items
	setName string // @odata.context fragment, e.g. "applications"
	filter  filterSpec
	// advanced is true for directory objects, where $count, $search, ne,
	// not and endswith need ConsistencyLevel: eventual.
	advanced bool
	// search enables $search on displayName.
	search bool
	// castType sets @odata.type on each item (directoryObjects collections).
	castType string
	// pageSize is the default and maximum $top (0: Graph's directory
	// default of 100, at most 999).
	pageSize int
	// orderable lists the $orderby properties (nil: displayName).
	orderable []string
}

// listResponse filters, orders, pages and projects items.
func (g *graphReq) listResponse(items []map[string]any, o listOptions) (*graphResp, *graphError) {
	sel, e := g.selectList(o.typ)
	if e != nil {
		return nil, e
	}
	if g.query.Get("$expand") != "" {
		return nil, expandError(o.typ, g.query.Get("$expand"))
	}
	eventual := strings.EqualFold(g.header.Get("ConsistencyLevel"), "eventual")
	countRequested := strings.EqualFold(g.query.Get("$count"), "true")
	if c := g.query.Get("$count"); c != "" && !strings.EqualFold(c, "true") && !strings.EqualFold(c, "false") {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid value '%s' for $count query option found. Valid values are 'true' and 'false'.", c)
	}
	if countRequested && o.advanced && !eventual {
		return nil, errBadRequest("$count is not currently supported.")
	}
	if f := g.query.Get("$filter"); f != "" {
		expr, fe := parseFilter(f, o.filter, o.advanced && eventual && countRequested)
		if fe != nil {
			return nil, fe
		}
		var kept []map[string]any
		for _, it := range items {
			if expr.eval(it) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if sq := g.query.Get("$search"); sq != "" {
		if !o.search {
			return nil, errUnsupportedQuery("Search is not supported for this resource.")
		}
		if !eventual {
			return nil, errUnsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'")
		}
		term, se := parseSearch(sq)
		if se != nil {
			return nil, se
		}
		var kept []map[string]any
		for _, it := range items {
			if strings.Contains(strings.ToLower(str(it, "displayName")), strings.ToLower(term)) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	if ob := g.query.Get("$orderby"); ob != "" {
		if err := orderItems(items, ob, o, eventual); err != nil {
			return nil, err
		}
	}
	top, maxTop := 100, 999
	if o.pageSize > 0 {
		top, maxTop = o.pageSize, o.pageSize
	}
	if t := g.query.Get("$top"); t != "" {
		n, err := atoiStrict(t)
		if err != nil {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid value '%s' for $top query option found. The $top query option requires a non-negative integer value.", t)
		}
		if n < 1 || n > maxTop {
			return nil, errBadRequest("Invalid page size specified: '%d'. Must be between 1 and %d inclusive.", n, maxTop)
		}
		top = n
	}
	offset := 0
	if tok := g.query.Get("$skiptoken"); tok != "" {
		n, ok := decodeSkipToken(tok)
		if !ok {
			return nil, errBadRequest("Invalid paging token specified.")
		}
		offset = n
	}
	total := len(items)
	if offset > total {
		offset = total
	}
	end := offset + top
	if end > total {
		end = total
	}
	page := items[offset:end]
	value := make([]any, 0, len(page))
	for _, it := range page {
		p := project(o.typ, it, sel)
		if ot, typed := it["@odata.type"]; typed {
			p["@odata.type"] = ot
		} else if o.castType != "" {
			p["@odata.type"] = "#microsoft.graph." + o.castType
		}
		value = append(value, p)
	}
	body := map[string]any{"@odata.context": g.contextURL(o.setName + selectSuffix(sel)), "value": value}
	if countRequested {
		body["@odata.count"] = total
	}
	if end < total {
		body["@odata.nextLink"] = g.nextLink(end)
	}
	return ok(body), nil
}

// atoiStrict parses a non-negative decimal integer with digits only (no
// sign or spaces, which strconv.Atoi would accept or Graph would not).
func atoiStrict(s string) (int, error) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("not a non-negative integer")
	}
	return strconv.Atoi(s)
}

func itoa(n int) string { return strconv.Itoa(n) }

// nextLink is the request URL with $skiptoken set to the next offset.
func (g *graphReq) nextLink(offset int) string {
	var parts []string
	for _, p := range strings.Split(g.rawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); p == "" || (err == nil && strings.EqualFold(uk, "$skiptoken")) {
			continue
		}
		parts = append(parts, p)
	}
	parts = append(parts, "$skiptoken="+encodeSkipToken(offset))
	return "https://" + g.hostName() + g.versionPath() + g.path + "?" + strings.Join(parts, "&")
}

const skipTokenPrefix = "RFNwdAIAAQAAA"

func encodeSkipToken(offset int) string {
	b, _ := json.Marshal(map[string]int{"o": offset})
	return skipTokenPrefix + strings.TrimRight(encodeB64URL(b), "=")
}

func decodeSkipToken(tok string) (int, bool) {
	if !strings.HasPrefix(tok, skipTokenPrefix) {
		return 0, false
	}
	b, err := decodeB64URL(strings.TrimPrefix(tok, skipTokenPrefix))
	if err != nil {
		return 0, false
	}
	var v map[string]int
	if json.Unmarshal(b, &v) != nil {
		return 0, false
	}
	o, found := v["o"]
	return o, found && o >= 0
}

// orderItems supports $orderby on displayName (asc|desc), which is what
// directory collections support for the resources served here, or on the
// properties a collection names in orderable.
func orderItems(items []map[string]any, ob string, o listOptions, eventual bool) *graphError {
	fields := strings.Fields(ob)
	orderable := o.orderable
	if orderable == nil {
		orderable = []string{"displayName"}
	}
	if len(fields) == 0 || len(fields) > 2 || !contains(orderable, fields[0]) {
		return errUnsupportedQuery("Sorting not supported for current query.")
	}
	key := orderable[0]
	for _, f := range orderable {
		if strings.EqualFold(f, fields[0]) {
			key = f
		}
	}
	desc := len(fields) == 2 && strings.EqualFold(fields[1], "desc")
	if len(fields) == 2 && !desc && !strings.EqualFold(fields[1], "asc") {
		return gerr(http.StatusBadRequest, "BadRequest", "Invalid $orderby clause: '%s'.", ob)
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := strings.ToLower(str(items[i], key)), strings.ToLower(str(items[j], key))
		if desc {
			return a > b
		}
		return a < b
	})
	return nil
}

// parseSearch accepts `"displayName:term"` (quotes required, as Graph does).
func parseSearch(q string) (string, *graphError) {
	q = strings.TrimSpace(q)
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", errBadRequest("Syntax error: character '%s' is not valid at position 0 in '%s'.", q[:1], q)
	}
	k, v, found := strings.Cut(q[1:len(q)-1], ":")
	if !found || !strings.EqualFold(k, "displayName") {
		return "", errUnsupportedQuery("Search is supported on displayName only in the sandbox.")
	}
	return v, nil
}

// sortedBySeq orders objects by creation sequence, the stable order lists
// use (and paging relies on).
func sortedBySeq[T any](m map[string]T, seq func(T) int64) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out
}
