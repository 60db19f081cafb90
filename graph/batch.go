package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/oauth2permissiongrants"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/serviceprincipals"

	"github.com/entra-link/entra-link/internal/crash"
)

// JSON batching (endpoints.md §7): up to batchLimit requests travel in one
// POST /$batch, so reads about many apps cost one round trip instead of one
// per app. The body is written and read with encoding/json, like every
// other response here (the SDK's batch helper parses through kiota, which
// would link every model type; see the package doc).
//
// Graph evaluates each request of a batch on its own: a throttled item
// comes back 429 with its own Retry-After while the others succeed, and
// SDKs do not retry items. Here the items that failed with 429/503/504 are
// sent again, in a new batch, under the same retry policy as single
// requests (retry.go's decide).
const (
	// batchLimit is Graph's maximum number of requests in one $batch.
	batchLimit = 20
	// inLimit is the most values one `in (…)` filter may carry without
	// advanced query parameters: "Too many child clauses … Max allowed: 15".
	inLimit = 15
	// batchesInFlight bounds the $batch requests one operation has open at
	// once (batchesInFlight × batchLimit requests): enough for the per-app
	// reads of several hundred apps in one round trip, few enough not to
	// be a burst Graph throttles.
	batchesInFlight = 32
)

// batchItem is one request of a $batch and, once sent, its response.
type batchItem struct {
	id        string
	method    string
	url       string // relative to /v1.0, with its query
	dependsOn []string

	status int
	body   json.RawMessage
	err    *Error // a non-2xx response, or nil
}

type batchRequestJSON struct {
	ID        string   `json:"id"`
	Method    string   `json:"method"`
	URL       string   `json:"url"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

type batchResponseJSON struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// relativeURL turns a request built by the SDK's request builders into the
// relative URL a batch item carries ("/servicePrincipals?$filter=…"),
// decoding the query parameter names as kiota's ParametersNameDecodingHandler
// does on the wire.
func (c *Client) relativeURL(ri *abs.RequestInformation) (string, error) {
	ri.PathParameters["baseurl"] = c.baseURL
	u, err := ri.GetUri()
	if err != nil {
		return "", err
	}
	full := u.String()
	if !strings.HasPrefix(strings.ToLower(full), strings.ToLower(c.baseURL)) {
		return "", fmt.Errorf("request URL %s is not under %s", u.Redacted(), c.baseURL)
	}
	rel := full[len(c.baseURL):]
	for enc, dec := range map[string]string{"%24": "$", "%2E": ".", "%2e": ".", "%2D": "-", "%2d": "-", "%7E": "~", "%7e": "~"} {
		rel = strings.ReplaceAll(rel, enc, dec)
	}
	return rel, nil
}

// postBatch sends items (at most batchLimit) as one POST /$batch and
// records each item's response. The batch request itself is retried like
// any request under p; an error means no item got a response.
func (c *Client) postBatch(ctx context.Context, op string, p retryPolicy, items []*batchItem) error {
	reqs := make([]batchRequestJSON, len(items))
	byID := make(map[string]*batchItem, len(items))
	for i, it := range items {
		reqs[i] = batchRequestJSON{ID: it.id, Method: it.method, URL: it.url, DependsOn: it.dependsOn}
		byID[strings.ToLower(it.id)] = it
	}
	body, err := json.Marshal(map[string]any{"requests": reqs})
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	endpoint, err := url.Parse(c.baseURL + "/$batch")
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	var out struct {
		Responses []batchResponseJSON `json:"responses"`
	}
	err = c.send(ctx, op, p, func(context.Context) (*abs.RequestInformation, error) {
		ri := abs.NewRequestInformation()
		ri.Method = abs.POST
		ri.SetUri(*endpoint)
		ri.Headers.TryAdd("Accept", "application/json")
		ri.SetStreamContentAndContentType(body, "application/json")
		return ri, nil
	}, &out)
	if err != nil {
		return err
	}
	for _, r := range out.Responses {
		it := byID[strings.ToLower(r.ID)]
		if it == nil {
			continue
		}
		it.status, it.body, it.err = r.Status, r.Body, nil
		if r.Status < 200 || r.Status > 299 {
			it.err = itemError(op, it, r)
		}
		c.tracer.item(it.method, it.url, r.Status)
	}
	for _, it := range items {
		if it.status == 0 {
			it.err = &Error{Op: op, Method: it.method, URL: it.url, Message: "Graph's $batch response has no answer for request " + it.id}
		}
	}
	return nil
}

// itemError is the *Error of one batch item's non-2xx response.
func itemError(op string, it *batchItem, r batchResponseJSON) *Error {
	code, msg, reqID, details := parseErrorBody(r.Body)
	e := &Error{Op: op, Method: it.method, URL: it.url, Status: r.Status, Code: code, Message: msg, RequestID: reqID, details: details}
	for k, v := range r.Headers {
		switch strings.ToLower(k) {
		case "retry-after":
			if ra, ok := parseRetryAfter(v, time.Now()); ok {
				e.RetryAfter, e.hasRetryAfter = ra, true
			}
		case "request-id":
			if e.RequestID == "" {
				e.RequestID = v
			}
		}
	}
	return e
}

// sendBatch sends items (at most batchLimit) and then sends again, as
// their own batch, the ones Graph throttled or could not serve (and those
// that failed only because such a dependency did), until they succeed or
// the retry policy gives up. Items keep their last response.
func (c *Client) sendBatch(ctx context.Context, op string, p retryPolicy, items []*batchItem) error {
	deadline := time.Now().Add(c.retry.deadline)
	pending := items
	for attempt := 1; ; attempt++ {
		if err := c.postBatch(withAttempt(ctx, attempt), op, p, pending); err != nil {
			return err
		}
		var again []*batchItem
		var wait time.Duration
		retrying := map[string]bool{}
		for _, it := range pending {
			if it.err == nil {
				continue
			}
			if w, ok := c.decide(it.err, p, attempt); ok {
				again = append(again, it)
				retrying[strings.ToLower(it.id)] = true
				wait = max(wait, w)
			}
		}
		if len(again) == 0 {
			return nil
		}
		// An item that failed only because its dependency did (424) goes
		// along with that dependency.
		for _, it := range pending {
			if it.status == http.StatusFailedDependency && dependsOnAny(it, retrying) {
				again = append(again, it)
			}
		}
		if time.Now().Add(wait).After(deadline) {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return nil
		}
		if c.onRetry != nil {
			c.onRetry(RetryEvent{Op: op, Attempt: attempt, Wait: wait, Reason: retryReason(again[0].err)})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &Error{Op: op, Err: ctx.Err()}
		case <-t.C:
		}
		// Dependencies that succeeded stay done: drop them from dependsOn.
		inBatch := map[string]bool{}
		for _, it := range again {
			inBatch[strings.ToLower(it.id)] = true
		}
		for _, it := range again {
			var deps []string
			for _, d := range it.dependsOn {
				if inBatch[strings.ToLower(d)] {
					deps = append(deps, d)
				}
			}
			it.dependsOn, it.status, it.body, it.err = deps, 0, nil, nil
		}
		pending = again
	}
}

func dependsOnAny(it *batchItem, ids map[string]bool) bool {
	for _, d := range it.dependsOn {
		if ids[strings.ToLower(d)] {
			return true
		}
	}
	return false
}

// sendBatches sends any number of independent items: batchLimit to a
// $batch, the batches at once (at most batchesInFlight open), so that N
// items cost one round trip whatever N is (up to batchesInFlight ×
// batchLimit items). The goroutines are a crash.Group: a panic is raised
// on the caller's goroutine, where the command can recover it.
func (c *Client) sendBatches(ctx context.Context, op string, items []*batchItem) error {
	for i, it := range items {
		it.id = strconv.Itoa(i%batchLimit + 1)
	}
	sem := make(chan struct{}, batchesInFlight)
	var (
		g    crash.Group
		mu   sync.Mutex
		errs []error
	)
	for start := 0; start < len(items); start += batchLimit {
		chunk := items[start:min(start+batchLimit, len(items))]
		g.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				errs = append(errs, &Error{Op: op, Err: ctx.Err()})
				mu.Unlock()
				return
			}
			defer func() { <-sem }()
			if err := c.sendBatch(ctx, op, readPolicy, chunk); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	g.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// itemList decodes a collection item and follows its @odata.nextLink, if
// any, with ordinary paged reads.
func itemList[T any](ctx context.Context, c *Client, op string, it *batchItem) ([]T, error) {
	if it.err != nil {
		return nil, it.err
	}
	var pg page[T]
	if err := json.Unmarshal(it.body, &pg); err != nil {
		return nil, &Error{Op: op, Method: it.method, URL: it.url, Err: fmt.Errorf("decode %d response: %w", it.status, err)}
	}
	if pg.NextLink == "" {
		return pg.Value, nil
	}
	next, err := url.Parse(pg.NextLink)
	if err != nil || !next.IsAbs() {
		return nil, &Error{Op: op, Message: fmt.Sprintf("Graph returned an invalid @odata.nextLink %q", pg.NextLink)}
	}
	rest, err := listAll[T](ctx, c, op, func(context.Context) (*abs.RequestInformation, error) {
		ri := abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(*next)
		ri.Headers.TryAdd("Accept", "application/json")
		return ri, nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return append(pg.Value, rest...), nil
}

func (c *Client) getItem(ri *abs.RequestInformation, err error) (*batchItem, error) {
	if err != nil {
		return nil, err
	}
	rel, err := c.relativeURL(ri)
	if err != nil {
		return nil, err
	}
	return &batchItem{method: http.MethodGet, url: rel}, nil
}

// inFilter is "prop in ('a','b',…)".
func inFilter(prop string, values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = odataQuote(v)
	}
	return prop + " in (" + strings.Join(quoted, ",") + ")"
}

// chunks splits values into groups of at most n.
func chunks(values []string, n int) [][]string {
	var out [][]string
	for len(values) > n {
		out = append(out, values[:n])
		values = values[n:]
	}
	if len(values) > 0 {
		out = append(out, values)
	}
	return out
}

// uniqueGUIDs validates and de-duplicates (case-insensitively) ids.
func uniqueGUIDs(what string, ids []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if _, err := parseUUID(what, id); err != nil {
			return nil, err
		}
		k := strings.ToLower(strings.TrimSpace(id))
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out, nil
}

// ServicePrincipalsByAppIDs looks up the service principals of many apps in
// one round trip: GET /servicePrincipals?$filter=appId in (…) with at most
// inLimit values each, batchLimit of those to a $batch, the batches sent at
// once. The result is keyed by lower-case appId; an app without a service
// principal is absent.
func (c *Client) ServicePrincipalsByAppIDs(ctx context.Context, appIDs []string) (map[string]ServicePrincipal, error) {
	const op = "list service principals by appId"
	ids, err := uniqueGUIDs("appId", appIDs)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	var items []*batchItem
	for _, group := range chunks(ids, inLimit) {
		filter := inFilter("appId", group)
		it, err := c.getItem(c.servicePrincipals().ToGetRequestInformation(ctx, &serviceprincipals.ServicePrincipalsRequestBuilderGetRequestConfiguration{
			QueryParameters: &serviceprincipals.ServicePrincipalsRequestBuilderGetQueryParameters{Filter: &filter, Select: servicePrincipalSelect},
		}))
		if err != nil {
			return nil, &Error{Op: op, Err: err}
		}
		items = append(items, it)
	}
	if err := c.sendBatches(ctx, op, items); err != nil {
		return nil, err
	}
	out := map[string]ServicePrincipal{}
	for _, it := range items {
		sps, err := itemList[ServicePrincipal](ctx, c, op, it)
		if err != nil {
			return nil, err
		}
		for _, sp := range sps {
			out[strings.ToLower(sp.AppID)] = sp
		}
	}
	return out, nil
}

// Holdings is what one service principal holds: the app roles granted to
// it (admin consent for application permissions), its delegated permission
// grants and its directory role assignments. A read Graph refused (403:
// the identity may not read it) leaves its list nil and its error set.
type Holdings struct {
	AppRoleAssignments []AppRoleAssignment
	PermissionGrants   []PermissionGrant
	RoleAssignments    []RoleAssignment

	AppRoleAssignmentsErr error
	PermissionGrantsErr   error
	RoleAssignmentsErr    error
}

// HoldingsOf reads what many service principals hold in one round trip:
// per principal GET /servicePrincipals/{id}/appRoleAssignments and GET
// /oauth2PermissionGrants?$filter=clientId eq '…' (clientId supports eq
// only), and GET /roleManagement/directory/roleAssignments?$filter=
// principalId in (…) for up to inLimit principals — all in $batches sent at
// once. Errors of single reads are in each Holdings; the error returned is
// for a batch that got no answer at all.
func (c *Client) HoldingsOf(ctx context.Context, principalIDs []string) (map[string]*Holdings, error) {
	const op = "read what service principals hold"
	ids, err := uniqueGUIDs("service principal object id", principalIDs)
	if err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	type read struct {
		item  *batchItem
		kind  int // 0 assignments, 1 grants, 2 role assignments
		owner string
	}
	var reads []read
	var items []*batchItem
	add := func(kind int, owner string, it *batchItem, err error) error {
		if err != nil {
			return err
		}
		reads = append(reads, read{item: it, kind: kind, owner: owner})
		items = append(items, it)
		return nil
	}
	for _, id := range ids {
		it, err := c.getItem(c.servicePrincipals().ByServicePrincipalId(id).AppRoleAssignments().ToGetRequestInformation(ctx, nil))
		if err := add(0, id, it, err); err != nil {
			return nil, &Error{Op: op, Err: err}
		}
		filter := "clientId eq " + odataQuote(id)
		it, err = c.getItem(c.grants().ToGetRequestInformation(ctx, &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetRequestConfiguration{
			QueryParameters: &oauth2permissiongrants.Oauth2PermissionGrantsRequestBuilderGetQueryParameters{Filter: &filter},
		}))
		if err := add(1, id, it, err); err != nil {
			return nil, &Error{Op: op, Err: err}
		}
	}
	for _, group := range chunks(ids, inLimit) {
		filter := inFilter("principalId", group)
		it, err := c.getItem(c.roleAssignments().ToGetRequestInformation(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
			QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter},
		}))
		if err := add(2, strings.Join(group, ","), it, err); err != nil {
			return nil, &Error{Op: op, Err: err}
		}
	}
	if err := c.sendBatches(ctx, op, items); err != nil {
		return nil, err
	}
	out := make(map[string]*Holdings, len(ids))
	for _, id := range ids {
		out[id] = &Holdings{}
	}
	for _, r := range reads {
		switch r.kind {
		case 0:
			h := out[r.owner]
			h.AppRoleAssignments, h.AppRoleAssignmentsErr = itemList[AppRoleAssignment](ctx, c, "list app role assignments", r.item)
		case 1:
			h := out[r.owner]
			h.PermissionGrants, h.PermissionGrantsErr = itemList[PermissionGrant](ctx, c, "list permission grants", r.item)
		case 2:
			ras, err := itemList[RoleAssignment](ctx, c, "list directory role assignments", r.item)
			for _, id := range strings.Split(r.owner, ",") {
				out[id].RoleAssignmentsErr = err
			}
			for _, ra := range ras {
				if h := out[strings.ToLower(ra.PrincipalID)]; h != nil {
					h.RoleAssignments = append(h.RoleAssignments, ra)
				}
			}
		}
	}
	return out, nil
}

// DeleteServicePrincipalAndApplication deletes an app's service principal
// and then the app registration in one round trip: one $batch whose second
// request dependsOn the first, so Graph runs them in that order and does
// not delete the app when the service principal could not be deleted
// (424). Deleting the service principal takes the app role assignments,
// delegated grants and directory role assignments it holds with it (to the
// recycle bin, where restoring it brings them back). Each error is nil on
// success; a 404 (already gone) is returned as is (IsNotFound). spID ""
// deletes the app alone.
func (c *Client) DeleteServicePrincipalAndApplication(ctx context.Context, spID, appObjectID string) (spErr, appErr error) {
	const op = "delete service principal and application"
	if _, err := parseUUID("application object id", appObjectID); err != nil {
		return nil, &Error{Op: op, Err: err}
	}
	if spID == "" {
		return nil, c.DeleteApplication(ctx, appObjectID)
	}
	if _, err := parseUUID("service principal object id", spID); err != nil {
		return &Error{Op: op, Err: err}, &Error{Op: op, Err: err}
	}
	spReq, err := c.servicePrincipals().ByServicePrincipalId(spID).ToDeleteRequestInformation(ctx, nil)
	if err != nil {
		return &Error{Op: op, Err: err}, &Error{Op: op, Err: err}
	}
	appReq, err := c.applications().ByApplicationId(appObjectID).ToDeleteRequestInformation(ctx, nil)
	if err != nil {
		return &Error{Op: op, Err: err}, &Error{Op: op, Err: err}
	}
	spURL, err1 := c.relativeURL(spReq)
	appURL, err2 := c.relativeURL(appReq)
	if err := errors.Join(err1, err2); err != nil {
		return &Error{Op: op, Err: err}, &Error{Op: op, Err: err}
	}
	sp := &batchItem{id: "sp", method: http.MethodDelete, url: spURL}
	app := &batchItem{id: "app", method: http.MethodDelete, url: appURL, dependsOn: []string{"sp"}}
	if err := c.sendBatch(ctx, op, idempotentPolicy, []*batchItem{sp, app}); err != nil {
		return err, err
	}
	return itemErr(sp), itemErr(app)
}

// itemErr is an item's error as an error interface (nil stays untyped nil).
func itemErr(it *batchItem) error {
	if it.err == nil {
		return nil
	}
	return it.err
}
