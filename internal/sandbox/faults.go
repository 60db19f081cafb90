package sandbox

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// activeRule is an injected Rule with its remaining count.
type activeRule struct {
	Rule
	re        *regexp.Regexp
	remaining int
	skip      int
	never     bool
}

func newActiveRule(r Rule) (*activeRule, error) {
	ar := &activeRule{Rule: r, remaining: r.Times, skip: r.Skip}
	if ar.remaining <= 0 {
		ar.remaining = 1
	}
	switch r.Action {
	case "":
		if ar.Status == 0 {
			ar.Status = http.StatusInternalServerError
		}
	case ActionHang, ActionDrop:
		if r.Status != 0 || len(r.Body) > 0 || len(r.Headers) > 0 {
			return nil, fmt.Errorf("rule action %q serves the request itself: status, body and headers do not apply", r.Action)
		}
	default:
		return nil, fmt.Errorf("invalid rule action %q: want %q, %q or none", r.Action, ActionHang, ActionDrop)
	}
	if r.Skip < 0 || r.Times < 0 {
		return nil, fmt.Errorf("rule skip and times must not be negative")
	}
	if r.Path != "" {
		re, err := regexp.Compile(r.Path)
		if err != nil {
			return nil, fmt.Errorf("invalid rule path %q: %w", r.Path, err)
		}
		ar.re = re
	}
	return ar, nil
}

// takeRule returns the first failure rule (Action "") matching the request
// and counts it down. path is the Graph path without /v1.0 (or the full
// login path); clientID is the client_id of a token request ("" otherwise).
// Callers hold s.mu.
func (s *Server) takeRule(method, path, clientID string) *activeRule {
	return s.take(false, method, path, clientID)
}

// take is takeRule for failure rules (after false) or after-commit rules.
func (s *Server) take(after bool, method, path, clientID string) *activeRule {
	for i, r := range s.rules {
		if r.never || r.remaining <= 0 || (r.Action != "") != after {
			continue
		}
		if r.Method != "" && !strings.EqualFold(r.Method, method) {
			continue
		}
		if r.re != nil && !r.re.MatchString(path) {
			continue
		}
		if r.ClientID != "" && !strings.EqualFold(r.ClientID, clientID) {
			continue
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		r.remaining--
		if r.remaining == 0 {
			s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
		}
		return r
	}
	return nil
}

func (f Faults) retryAfter() string {
	d := f.RetryAfter
	if d <= 0 {
		d = time.Second
	}
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}

// graphFault decides whether the next Graph request is throttled or failed
// (ThrottleEvery / FailEvery). Callers hold s.mu.
func (s *Server) graphFault() *graphError {
	s.graphCount++
	n := s.graphCount
	f := s.faults
	if f.ThrottleEvery > 0 && n%f.ThrottleEvery == 0 {
		// Graph's throttling body (endpoints.md §8.3).
		return &graphError{
			Status:  http.StatusTooManyRequests,
			Code:    "TooManyRequests",
			Message: "Please retry again later.",
			Headers: map[string]string{"Retry-After": f.retryAfter(), "x-ms-throttle-information": "ResourceUnitLimitExceeded"},
			Inner:   map[string]any{"code": "429", "message": "Please retry after", "status": "429"},
			Fault:   "throttle",
		}
	}
	if f.FailEvery > 0 && n%f.FailEvery == 0 {
		return &graphError{
			Status:  http.StatusServiceUnavailable,
			Code:    "serviceNotAvailable",
			Message: "The service is temporarily unavailable for maintenance or is overloaded. You may repeat the request after a delay, which may be specified in a Retry-After header.",
			Headers: map[string]string{"Retry-After": f.retryAfter()},
			Fault:   "fail",
		}
	}
	return nil
}

// replicated reports whether an object created at t is visible to other
// collections yet. Callers hold s.mu.
func (s *Server) replicated(t time.Time) bool {
	return s.faults.ReplicationDelay <= 0 || time.Since(t) >= s.faults.ReplicationDelay
}
