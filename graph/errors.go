package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/entra-link/entra-link/internal/networds"
)

// Error is the only error type the graph package returns (wrapped or not):
// either a Graph error response (Status > 0) or a failure to get one
// (Status 0: transport error, cancelled context, undecodable response, bad
// input), in which case Err holds the cause and errors.Is/As see through it.
//
// Messages come from Graph's error body, never from a request or response
// body of ours, so an Error never carries a secret.
type Error struct {
	// Op names the operation, e.g. "create service principal".
	Op string
	// Method and URL of the last attempt (query kept).
	Method, URL string
	// Status is the HTTP status of the last response; 0 if there was none.
	Status int
	// Code is Graph's error.code, e.g. Request_ResourceNotFound ("" if absent).
	Code string
	// Message is Graph's error.message ("" if absent).
	Message string
	// RequestID is Graph's request-id (header or innerError), for support cases.
	RequestID string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
	// Attempts is how many HTTP attempts the client made before giving up.
	Attempts int
	// Err is the underlying cause when there was no usable HTTP response.
	Err error
	// Undone lists, in words, what was reversed after ambiguous failures
	// of a request that is not idempotent (a secret an attempt had created).
	Undone []string

	// details are the error.details[].code values (e.g. NoBackingApplicationObject).
	details []string
	// hasRetryAfter distinguishes "Retry-After: 0" from no header.
	hasRetryAfter bool
	// transport marks a failure to get any response (worth a retry when
	// the request is repeatable).
	transport bool
	// unsettled: the last attempt failed ambiguously and what it may have
	// done could not be checked (undoErr says why).
	unsettled bool
	undoErr   error
}

// Error says what failed in words, for the admin reading it: "Microsoft
// Graph refused to add client secret: 403 Authorization_RequestDenied:
// Insufficient privileges to complete the operation. (request-id …)", "no
// answer from graph.microsoft.com to add client secret: the connection
// broke off before the answer came (after 12 attempts)", "sign-in failed:
// …". Never Go's own chains (`Post "https://…": …`, "dial tcp: lookup …").
func (e *Error) Error() string {
	var se *signInError
	if e.Status == 0 && errors.As(e.Err, &se) {
		// The sign-in explains itself; the request it was for is no news.
		return se.Error()
	}
	var b strings.Builder
	b.WriteString(e.reason())
	if e.unsettled && errors.Is(e.undoErr, ErrStoppedWaiting) {
		b.WriteString("; stopped waiting for the answer")
	} else if e.unsettled && e.undoErr != nil {
		b.WriteString("; reading the app back to check failed too (")
		var ue *Error
		if errors.As(e.undoErr, &ue) {
			b.WriteString(ue.reason())
		} else {
			b.WriteString(networds.Cause(e.undoErr))
		}
		b.WriteString(")")
	}
	return b.String()
}

// op is the operation for a sentence ("add client secret").
func (e *Error) op() string {
	if e.Op == "" {
		return "carry out the request"
	}
	return e.Op
}

// reason is the failure in words: Graph's status, code and message, or
// why there was no answer.
func (e *Error) reason() string {
	var b strings.Builder
	if e.Status == 0 {
		var ue *url.Error
		var se *signInError
		switch {
		case errors.As(e.Err, &se):
			return se.Error()
		case errors.Is(e.Err, context.Canceled):
			return "stopped before Microsoft Graph answered (" + e.op() + ")"
		}
		if msg, ok := untrusted(e.Err); ok {
			b.WriteString("cannot " + e.op() + ": " + msg)
			return b.String()
		}
		if e.transport && errors.As(e.Err, &ue) {
			host := "Microsoft Graph"
			if u, err := url.Parse(ue.URL); err == nil && u.Host != "" {
				host = u.Host
			}
			b.WriteString("no answer from " + host + " to " + e.op() + ": " + networds.Cause(e.Err))
			if e.Attempts > 1 {
				fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
			}
			return b.String()
		}
		var de *decodeError
		var be *buildError
		switch {
		case errors.As(e.Err, &de):
			b.WriteString("Microsoft Graph's answer to " + e.op() + " could not be read")
		case errors.As(e.Err, &be):
			b.WriteString("cannot " + e.op() + ": the request could not be made (" + be.err.Error() + ")")
		case errors.As(e.Err, &ue):
			b.WriteString("no answer from Microsoft Graph to " + e.op() + ": " + networds.Cause(e.Err))
		case e.Err != nil:
			b.WriteString("cannot " + e.op() + ": " + e.Err.Error())
		case e.Message != "":
			b.WriteString("cannot " + e.op() + ": " + e.Message)
		default:
			b.WriteString("cannot " + e.op())
		}
		return b.String()
	}
	if e.Status >= 400 && e.Status < 500 && e.Status != http.StatusNotFound {
		b.WriteString("Microsoft Graph refused to " + e.op() + ": ")
	} else {
		b.WriteString("Microsoft Graph could not " + e.op() + ": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" ")
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id ")
		b.WriteString(e.RequestID)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying cause (nil for Graph error responses).
func (e *Error) Unwrap() error { return e.Err }

func asError(err error) (*Error, bool) {
	var ge *Error
	if errors.As(err, &ge) {
		return ge, true
	}
	return nil, false
}

// StatusOf returns the HTTP status of a Graph error, or 0.
func StatusOf(err error) int {
	if ge, ok := asError(err); ok {
		return ge.Status
	}
	return 0
}

// IsNotFound reports a 404 (the object does not exist, or not yet everywhere).
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsForbidden reports a 403: the signed-in identity lacks a permission or role.
func IsForbidden(err error) bool { return StatusOf(err) == http.StatusForbidden }

// IsThrottled reports a 429 that outlasted the client's retries.
func IsThrottled(err error) bool { return StatusOf(err) == http.StatusTooManyRequests }

// MayHaveTakenEffect reports that a request which is not idempotent
// (addPassword) failed in a way that leaves open whether Graph carried it
// out, and that reading back what it may have created failed too. Any
// other error from such a request means it took no effect: Graph refused
// it, or what an ambiguous attempt created was found and removed.
func MayHaveTakenEffect(err error) bool {
	ge, ok := asError(err)
	return ok && ge.unsettled
}

// IsKeyTaken reports Graph's answer to an upsert or PATCH whose uniqueName
// is held by another application — one in the recycle bin included (a live
// one holding it is simply updated by the upsert): 400 "Another object with
// the same value for property uniqueName already exists." (endpoints.md §10.1).
func IsKeyTaken(err error) bool {
	ge, ok := asError(err)
	if !ok || ge.Status != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(ge.Message)
	return strings.Contains(m, "uniquename") && strings.Contains(m, "already exists")
}

// IsConflict reports that the object being created already exists: a 409
// (service principal for the appId, oauth2PermissionGrant for the pair), or
// the 400s Graph answers instead for a duplicate app role assignment
// ("Permission being assigned already exists on the object"), directory
// role assignment ("A conflicting object with one or more of the specified
// property values is present in the directory") and owner ("One or more
// added object references already exist …"). Callers re-read the
// existing object; after a retried POST this is how "my first attempt
// landed after all" shows up.
func IsConflict(err error) bool {
	ge, ok := asError(err)
	if !ok || IsKeyTaken(err) {
		return false
	}
	switch ge.Status {
	case http.StatusConflict:
		return true
	case http.StatusBadRequest:
		m := strings.ToLower(ge.Message)
		return strings.Contains(m, "already exists") || strings.Contains(m, "conflicting object") ||
			strings.Contains(m, "added object references already exist")
	}
	return false
}

// Codes Graph answers when an app management policy refuses a credential
// (endpoints.md §11.2, [observed]).
const (
	CodeCredentialLifetime = "CredentialInvalidLifetimeAsPerAppPolicy"
	CodeCredentialType     = "CredentialTypeNotAllowedAsPerAppPolicy"
	// CodeServiceManagementReference: the tenant requires
	// serviceManagementReference on new apps ([observed] Azure/azure-cli#30717).
	CodeServiceManagementReference = "ServiceTreeValueMissing"
)

// CodeOf returns Graph's error code, or "".
func CodeOf(err error) string {
	if ge, ok := asError(err); ok {
		return ge.Code
	}
	return ""
}

// IsCredentialPolicy reports that an app management policy refused a
// credential: too long a lifetime, or a credential type it does not allow.
func IsCredentialPolicy(err error) bool {
	switch CodeOf(err) {
	case CodeCredentialLifetime, CodeCredentialType:
		return true
	}
	return false
}

// odataError is Graph's error body. Older directory endpoints used
// "odata.error" with message {"lang","value"}; both are accepted.
type odataError struct {
	Code       string          `json:"code"`
	Message    json.RawMessage `json:"message"`
	InnerError *struct {
		RequestID string `json:"request-id"`
	} `json:"innerError"`
	Details []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"details"`
}

// parseErrorBody decodes what it can of an error body; it never fails.
func parseErrorBody(body []byte) (code, message, requestID string, detailCodes []string) {
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) != nil {
		return "", "", "", nil
	}
	raw, ok := env["error"]
	if !ok {
		raw, ok = env["odata.error"]
	}
	if !ok {
		return "", "", "", nil
	}
	var oe odataError
	if json.Unmarshal(raw, &oe) != nil {
		return "", "", "", nil
	}
	code = oe.Code
	if len(oe.Message) > 0 {
		var s string
		if json.Unmarshal(oe.Message, &s) == nil {
			message = s
		} else {
			var lv struct {
				Value string `json:"value"`
			}
			if json.Unmarshal(oe.Message, &lv) == nil {
				message = lv.Value
			}
		}
	}
	if oe.InnerError != nil {
		requestID = oe.InnerError.RequestID
	}
	for _, d := range oe.Details {
		if d.Code != "" {
			detailCodes = append(detailCodes, d.Code)
		}
	}
	return code, message, requestID, detailCodes
}

// maxRetryAfter bounds absurd Retry-After values; the retry deadline
// decides whether the client waits at all.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads Retry-After as (fractional) seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs != secs { // negative or NaN
			return 0, false
		}
		if secs > maxRetryAfter.Seconds() { // also keeps the conversion from overflowing
			return maxRetryAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// untrusted describes a failed TLS certificate verification: the host and
// why its certificate is not trusted (a CA missing from SSL_CERT_FILE, a
// TLS-inspecting proxy), instead of Go's "Get <url>: tls: failed to verify
// certificate: …" chain.
func untrusted(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var cv *tls.CertificateVerificationError
	var cause string
	switch {
	case errors.As(err, &ua):
		cause = ua.Error()
	case errors.As(err, &he):
		cause = he.Error()
	case errors.As(err, &ci):
		cause = ci.Error()
	case errors.As(err, &cv):
		cause = cv.Error()
	default:
		return "", false
	}
	host := "the server"
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
	}
	return fmt.Sprintf("the TLS certificate of %s is not trusted (%s)", host, cause), true
}
