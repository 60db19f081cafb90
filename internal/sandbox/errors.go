package sandbox

import (
	"fmt"
	"net/http"
)

// graphError is a Graph error response: status, error.code, error.message
// and optional details. Handlers return it; the dispatcher renders it with
// innerError (date, request-id, client-request-id) and the request-id headers.
type graphError struct {
	Status  int
	Code    string
	Message string
	Details []map[string]any
	// Headers are extra response headers (Retry-After on throttling).
	Headers map[string]string
	// Inner replaces the default innerError fields (throttling adds code/status).
	Inner map[string]any
	// Fault names the sandbox fault that produced this error, for Requests().
	Fault string
}

func (e *graphError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func gerr(status int, code, format string, a ...any) *graphError {
	return &graphError{Status: status, Code: code, Message: fmt.Sprintf(format, a...)}
}

// Messages below are Graph's own wording where it is documented or observed
// in captured responses (see /work/shared/reference/graph/endpoints.md §8 and
// the provenance notes next to each use).

func errBadRequest(format string, a ...any) *graphError {
	return gerr(http.StatusBadRequest, "Request_BadRequest", format, a...)
}

// errInvalidValue is Entra's generic validation message, e.g. "Invalid value
// specified for property 'type' of resource 'PermissionScope'." (observed).
func errInvalidValue(prop, resource string) *graphError {
	return errBadRequest("Invalid value specified for property '%s' of resource '%s'.", prop, resource)
}

// errNotFound is the 404 Graph returns for an unknown object id or alternate
// key (observed in captured fixtures, endpoints.md §8.2).
func errNotFound(id string) *graphError {
	return gerr(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func errForbidden() *graphError {
	return gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func errMethodNotAllowed() *graphError {
	return gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func errSegment(seg string) *graphError {
	return gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", seg)
}

func errUnauthorized(msg string) *graphError {
	return &graphError{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: msg}
}

func errUnsupportedQuery(format string, a ...any) *graphError {
	return gerr(http.StatusBadRequest, "Request_UnsupportedQuery", format, a...)
}

// stsError is an Entra token endpoint error (AADSTS…).
type stsError struct {
	Status int
	Err    string // OAuth error: invalid_client, unauthorized_client, …
	Code   int    // AADSTS number
	Desc   string // text after "AADSTSnnnn: "
	Fault  string
}

func (e *stsError) Error() string {
	return fmt.Sprintf("%d %s AADSTS%d: %s", e.Status, e.Err, e.Code, e.Desc)
}

func serr(status int, oauthErr string, code int, format string, a ...any) *stsError {
	return &stsError{Status: status, Err: oauthErr, Code: code, Desc: fmt.Sprintf(format, a...)}
}
