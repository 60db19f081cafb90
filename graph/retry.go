package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
)

// ErrStoppedWaiting is the cause a caller cancels a request's context with
// when it stops waiting for the answer and takes care of the outcome
// itself (a journal that removes a secret nobody got): the request is
// neither repeated nor undone, and MayHaveTakenEffect reports it.
var ErrStoppedWaiting = errors.New("stopped waiting for the answer")

// Retry policy — the one place entra-link retries Graph calls (kiota's own
// RetryHandler is not installed, so nothing retries twice). Every request is
// made safe to repeat; none is left unretried because a repeat could
// duplicate something:
//
//   - 429 Too Many Requests is always retried: Graph rejected the request
//     before doing anything.
//   - 503 Service Unavailable, 504 Gateway Timeout and transport errors
//     (connection reset, timeout) are ambiguous: the request may have been
//     carried out before the failure. They are retried for requests that
//     are idempotent as they are: reads, PATCH (the upserts by uniqueName
//     and appId included: a repeat finds the object and answers 204),
//     DELETE, removePassword, and creates whose duplicate Graph rejects
//     (service principal per appId, app role assignment, permission grant,
//     directory role assignment) — such a retry may get "already exists",
//     which is returned as is (IsConflict) so the caller re-reads the object.
//   - addPassword is not idempotent: each call mints a secret. It is made
//     safe by its undo: after an ambiguous failure the app's credentials are
//     read back and the one carrying this call's display name (unique to
//     the run) is removed before the request is repeated; when the read-back
//     itself fails the error says so (MayHaveTakenEffect) and nothing is
//     repeated. The same undo settles an ambiguous failure that is not
//     retried any more (deadline, attempts).
//   - Replication errors are retried only for operations where they mean
//     "an object created a moment ago is not visible here yet": creating the
//     service principal right after the app; app role assignments, grants
//     and directory roles right after the service principal; PATCH and
//     addPassword right after the app; the read of an object an upsert has
//     just answered 204 for. A plain GET's 404 means "absent" and is never
//     retried. The exact codes and messages per operation are in the
//     replication predicates below.
//
// Waits honour Retry-After (seconds, fractional seconds, or an HTTP date);
// otherwise they back off exponentially from RetryBaseDelay, doubling up to
// RetryMaxDelay, with jitter (each wait is 50–100 % of its step). A retry is
// only started if its wait ends within RetryDeadline of the operation's
// start (and before ctx's deadline); an in-flight request is never cut off
// by RetryDeadline, only by ctx. At most defaultMaxAttempts attempts. Every
// retry is reported to Options.OnRetry.

type retryPolicy struct {
	// repeatable: repeating the request after an ambiguous failure (503,
	// 504, transport error) cannot create a duplicate.
	repeatable bool
	// replicated reports whether an error means "not replicated yet" for
	// this operation; nil means replication errors are final.
	replicated func(*Error) bool
	// undo makes a request that is not repeatable safe to repeat after an
	// ambiguous failure: it finds what the failed attempt may have done and
	// reverses it, returning what it did in words ("" when the attempt had
	// done nothing). An error means it could not tell.
	undo func(ctx context.Context) (string, error)
}

const defaultMaxAttempts = 12

type retryConfig struct {
	deadline    time.Duration
	base, max   time.Duration
	maxAttempts int
}

var (
	readPolicy       = retryPolicy{repeatable: true}
	idempotentPolicy = retryPolicy{repeatable: true}
)

// messageHas reports whether Graph's message contains any of the phrases
// (case-insensitive).
func messageHas(e *Error, phrases ...string) bool {
	m := strings.ToLower(e.Message)
	for _, p := range phrases {
		if strings.Contains(m, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

func hasDetail(e *Error, code string) bool {
	for _, d := range e.details {
		if strings.EqualFold(d, code) {
			return true
		}
	}
	return false
}

// Phrases Graph uses while a new object has not replicated to the replica
// serving the request. Provenance, as the project's reference
// (shared/reference/graph/endpoints.md) marks it:
//   - phraseDoesNotExist: §8.2, [observed] in captured CLI test fixtures;
//     §8.2 "Replication lag" [doc + observed] names 404 and 400 "… does not
//     exist …" right after a create.
//   - phraseRoleNotFound: §8.5, [observed] "Related transient error right
//     after SP creation"; public code shows the same wording for an app
//     role id the resource does not publish (see appRoleNotReplicated).
//   - phraseNoBackingApp, phraseAppInOtherTenant, phraseNotValidRef: not in
//     the reference; [observed] in terraform-provider-azuread / hamilton
//     (ErrorServicePrincipalInvalidAppId, ErrorServicePrincipalAppInOtherTenant,
//     ErrorNotValidReferenceUpdate), azure-cli create-for-rbac,
//     msgraph-bicep-types#193 and msgraph-sdk-dotnet#3108.
const (
	phraseDoesNotExist     = "does not exist or one of its queried reference-property objects are not present"
	phraseNoBackingApp     = "does not reference a valid application object"
	phraseAppInOtherTenant = "backing application of the service principal being created must in the local tenant"
	phraseNotValidRef      = "Not a valid reference update"
	phraseRoleNotFound     = "Permission being assigned was not found on application"
)

// objectNotReplicated: the object addressed by the URL (just created) is
// not visible yet — PATCH/addPassword right after the app was created, or
// the read of an object an upsert just answered 204 for.
func objectNotReplicated(e *Error) bool { return e.Status == http.StatusNotFound }

// appNotReplicated: creating the service principal (POST or upsert) right
// after the app was created.
func appNotReplicated(e *Error) bool {
	switch e.Status {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		return hasDetail(e, "NoBackingApplicationObject") || messageHas(e, phraseNoBackingApp, phraseDoesNotExist)
	case http.StatusForbidden:
		// Graph's check for Application.ReadWrite.OwnedBy callers answers
		// this while the new app is not visible to it yet.
		return messageHas(e, phraseAppInOtherTenant)
	}
	return false
}

// principalNotReplicated: app role assignment, grant or directory role
// assignment naming a service principal created a moment ago.
func principalNotReplicated(e *Error) bool {
	switch e.Status {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		return messageHas(e, phraseDoesNotExist, phraseNotValidRef)
	}
	return false
}

// appRoleNotReplicated is principalNotReplicated for app role assignments,
// plus Graph's one wording with two causes: "Permission being assigned was
// not found on application" comes both while a role is replicating to the
// resource service principal (endpoints.md §8.5, [observed]) and, for good,
// when the resource publishes no such role (the same wording, [observed] in
// public scripts that hit a wrong role id). published reads the resource's
// appRoles: only a role the resource does publish is waited for, so a
// mistaken id fails at once instead of being retried until the deadline.
func appRoleNotReplicated(published func() bool) func(*Error) bool {
	return func(e *Error) bool {
		if e.Status == http.StatusBadRequest && messageHas(e, phraseRoleNotFound) {
			return published()
		}
		return principalNotReplicated(e)
	}
}

// undoTimeout bounds an undo, which runs even when the operation's context
// has ended: what a failed attempt may have created must not be left behind.
const undoTimeout = 30 * time.Second

// send runs one operation: it builds a fresh request per attempt (so no
// header or body state leaks between attempts), sends it, and retries per
// policy. A 2xx body is decoded into out (nil: no content expected).
func (c *Client) send(ctx context.Context, op string, p retryPolicy,
	build func(ctx context.Context) (*abs.RequestInformation, error), out any) error {
	start := time.Now()
	deadline := start.Add(c.retry.deadline)
	var undone []string
	for attempt := 1; ; attempt++ {
		err := c.attempt(withAttempt(ctx, attempt), build, out)
		if err == nil {
			return nil
		}
		ge := toError(op, err)
		ge.Attempts = attempt
		ge.Undone = undone
		wait, retry := c.decide(ge, p, attempt)
		switch {
		case ctx.Err() != nil:
			retry = false
		case retry && time.Now().Add(wait).After(deadline):
			retry = false
		}
		if dl, ok := ctx.Deadline(); retry && ok && time.Now().Add(wait).After(dl) {
			retry = false
		}
		if p.undo != nil && errors.Is(context.Cause(ctx), ErrStoppedWaiting) {
			// The caller gave up on a request that may have been carried
			// out, and covers that itself: no read-back to wait for.
			ge.unsettled, ge.undoErr = true, ErrStoppedWaiting
			return ge
		}
		if p.undo != nil && ge.ambiguous() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
			did, uerr := p.undo(uctx)
			cancel()
			if uerr != nil {
				ge.unsettled, ge.undoErr = true, uerr
				return ge
			}
			if did != "" {
				undone = append(undone, did)
				ge.Undone = undone
			}
		}
		if !retry {
			return ge
		}
		if c.onRetry != nil {
			ev := RetryEvent{Op: op, Attempt: attempt, Wait: wait, Reason: retryReason(ge)}
			if len(undone) > 0 && p.undo != nil && ge.ambiguous() {
				ev.Undone = undone[len(undone)-1]
			}
			c.onRetry(ev)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			ge.Err = errors.Join(ge.Err, ctx.Err())
			return ge
		case <-t.C:
		}
	}
}

// RetryEvent tells Options.OnRetry that an operation is about to be retried.
type RetryEvent struct {
	Op      string        // e.g. "create service principal"
	Attempt int           // the attempt that failed (1-based)
	Wait    time.Duration // how long until the next attempt
	Reason  string        // RetryThrottled, RetryUnavailable or RetryReplication
	// Undone says what was reversed before the retry (a secret the failed
	// attempt had created), in words; "" when nothing was.
	Undone string
}

// Retry reasons.
const (
	RetryThrottled   = "throttled"
	RetryUnavailable = "unavailable"
	RetryReplication = "replication"
)

func retryReason(e *Error) string {
	switch {
	case e.Status == http.StatusTooManyRequests:
		return RetryThrottled
	case e.ambiguous():
		return RetryUnavailable
	}
	return RetryReplication
}

// ambiguous reports whether a failure leaves it open whether Graph carried
// the request out: a gateway or availability error, no response at all, or
// a 2xx whose body could not be read.
func (e *Error) ambiguous() bool {
	switch e.Status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
		var de *decodeError
		return e.transport || errors.As(e.Err, &de)
	}
	return false
}

// decide returns whether and after how long to retry.
func (c *Client) decide(e *Error, p retryPolicy, attempt int) (time.Duration, bool) {
	if attempt >= c.retry.maxAttempts {
		return 0, false
	}
	retry := false
	switch {
	case e.Status == http.StatusTooManyRequests:
		retry = true
	case e.Status == http.StatusServiceUnavailable, e.Status == http.StatusGatewayTimeout:
		retry = p.repeatable || p.undo != nil
	case e.Status == 0:
		retry = (p.repeatable && e.transport) || (p.undo != nil && e.ambiguous())
	case p.replicated != nil:
		retry = p.replicated(e)
	}
	if !retry {
		return 0, false
	}
	if e.hasRetryAfter {
		return e.RetryAfter, true
	}
	return c.backoff(attempt), true
}

// backoff is the wait after failed attempt n (1-based): base·2^(n-1),
// capped, then jittered to 50–100 % so parallel callers spread out.
func (c *Client) backoff(n int) time.Duration {
	d := c.retry.base
	for i := 1; i < n && d < c.retry.max; i++ {
		d *= 2
	}
	if d > c.retry.max {
		d = c.retry.max
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// attempt sends the request once. The SDK's request builders and models
// produce the request (URL template, query, JSON body) and kiota's adapter
// authenticates it; the response is read here, with encoding/json into
// entra-link's own types. Not letting kiota parse responses is deliberate:
// its parse path reaches every model's discriminator, and linking those
// makes the binary ~37 MB larger (see the package doc). It also means error
// bodies of any shape (empty, HTML from a gateway, legacy "odata.error")
// become *Error with status and headers intact, and kiota's ODataError
// (whose Error() panics on a body without a message) never appears.
func (c *Client) attempt(ctx context.Context, build func(ctx context.Context) (*abs.RequestInformation, error), out any) error {
	ri, err := build(ctx)
	if err != nil {
		return &buildError{err: err}
	}
	ri.PathParameters["baseurl"] = c.baseURL
	native, err := c.adapter.ConvertToNativeRequest(ctx, ri)
	if err != nil {
		var se *signInError
		if errors.As(err, &se) {
			return err
		}
		return &buildError{err: err}
	}
	req, ok := native.(*http.Request)
	if !ok {
		return &buildError{err: fmt.Errorf("unexpected native request %T", native)}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	return handleResponse(resp, out)
}

// maxBody bounds what is read from one response (Graph pages are far smaller).
const maxBody = 64 << 20

// handleResponse reads resp (the caller closes its body).
func handleResponse(resp *http.Response, out any) error {
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return httpError(resp, body)
	}
	if readErr != nil {
		return &decodeError{fmt.Errorf("read %d response: %w", resp.StatusCode, readErr)}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &decodeError{fmt.Errorf("empty %d response where Graph sends a body", resp.StatusCode)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &decodeError{fmt.Errorf("decode %d response: %w", resp.StatusCode, err)}
	}
	return nil
}

func httpError(resp *http.Response, body []byte) *Error {
	code, msg, reqID, details := parseErrorBody(body)
	e := &Error{Status: resp.StatusCode, Code: code, Message: msg, RequestID: reqID, details: details}
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get("request-id")
	}
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter, e.hasRetryAfter = ra, true
	}
	if resp.Request != nil && resp.Request.URL != nil {
		e.Method, e.URL = resp.Request.Method, resp.Request.URL.String()
	}
	return e
}

// buildError and decodeError classify failures that happened before a
// request was sent or after a 2xx arrived: neither is worth a retry.
type buildError struct{ err error }

func (e *buildError) Error() string { return "build request: " + e.err.Error() }
func (e *buildError) Unwrap() error { return e.err }

type decodeError struct{ err error }

func (e *decodeError) Error() string { return e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// toError turns whatever the adapter returned into *Error.
func toError(op string, err error) *Error {
	var ge *Error
	if errors.As(err, &ge) {
		cp := *ge
		cp.Op = op
		return &cp
	}
	e := &Error{Op: op, Err: err}
	var ue *url.Error
	var be *buildError
	var de *decodeError
	var se *signInError
	switch {
	case errors.As(err, &be), errors.As(err, &de), errors.As(err, &se):
	case errors.As(err, &ue):
		e.Method, e.URL = strings.ToUpper(ue.Op), ue.URL
		// Asking again cannot make an untrusted certificate trusted.
		_, distrust := untrusted(err)
		e.transport = !errors.Is(err, context.Canceled) && !distrust
	}
	return e
}
