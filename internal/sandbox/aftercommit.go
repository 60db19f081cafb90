package sandbox

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// After-commit rule actions (Rule.Action). The request is served as usual:
// whatever it changes is changed and saved. Only then does the action
// decide what the client gets, which is how a test puts a client exactly
// "after the tenant changed, before the client knew": kill it, signal it,
// or see what it does with an ambiguous failure. They act on whole HTTP
// requests: a $batch is one request, matched as /$batch.
const (
	// ActionHang holds the response until it is released (Server.Release,
	// POST /_sandbox/release) or the client goes away. Server.WaitHeld and
	// GET /_sandbox/held?wait= tell a test when a response is being held.
	ActionHang = "hang"
	// ActionDrop closes the connection (HTTP/1.1) or resets the stream
	// (HTTP/2) without a response.
	ActionDrop = "drop"
)

// HeldRequest is a request whose response an ActionHang rule holds.
type HeldRequest struct {
	ID     int64     `json:"id"`
	Method string    `json:"method"`
	Host   string    `json:"host"`
	Path   string    `json:"path"` // path and query as sent
	Status int       `json:"status"`
	Since  time.Time `json:"since"`
}

// heldSet is the responses being held. Guarded by Server.mu.
type heldSet struct {
	nextID  int64
	items   map[int64]*heldItem
	changed chan struct{} // closed (and replaced) whenever items change
	closed  bool
}

type heldItem struct {
	info    HeldRequest
	release chan struct{}
}

// notify wakes the waiters. Callers hold s.mu.
func (h *heldSet) notify() {
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
}

func (h *heldSet) list() []HeldRequest {
	out := make([]HeldRequest, 0, len(h.items))
	for _, it := range h.items {
		out = append(out, it.info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Held returns the requests whose responses are being held, oldest first.
func (s *Server) Held() []HeldRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held.list()
}

// WaitHeld waits until at least n responses are being held and returns
// them; it fails with ctx's error when ctx ends first.
func (s *Server) WaitHeld(ctx context.Context, n int) ([]HeldRequest, error) {
	for {
		s.mu.Lock()
		if len(s.held.items) >= n {
			l := s.held.list()
			s.mu.Unlock()
			return l, nil
		}
		if s.held.changed == nil {
			s.held.changed = make(chan struct{})
		}
		ch := s.held.changed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-ch:
		}
	}
}

// Release lets the held response with this id go to its client (id 0: all
// of them) and returns how many were released.
func (s *Server) Release(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, it := range s.held.items {
		if id == 0 || k == id {
			close(it.release)
			delete(s.held.items, k)
			n++
		}
	}
	if n > 0 {
		s.held.notify()
	}
	return n
}

// abandonHeld ends every hold without a response (Close).
func (s *Server) abandonHeld() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held.closed = true
	for k, it := range s.held.items {
		close(it.release)
		delete(s.held.items, k)
	}
	s.held.notify()
}

// rulePath is the path rules match: Graph paths without /v1.0 (and the
// myorganization alias), any other path as it is.
func rulePath(path string) string {
	if path == "/v1.0" || strings.HasPrefix(path, "/v1.0/") {
		return tenantAlias(strings.TrimPrefix(path, "/v1.0"))
	}
	return path
}

// takeAfterRule returns the after-commit rule for a request, if any. A
// token request's client_id is read from a copy of its form body.
func (s *Server) takeAfterRule(r *http.Request) *activeRule {
	s.mu.Lock()
	any := false
	for _, ar := range s.rules {
		if ar.Action != "" && !ar.never && ar.remaining > 0 {
			any = true
			break
		}
	}
	s.mu.Unlock()
	if !any {
		return nil
	}
	clientID := ""
	if r.Method == http.MethodPost && r.Body != nil && !strings.HasPrefix(r.URL.Path, "/v1.0") &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		_ = r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		if err == nil {
			if v, err := url.ParseQuery(string(b)); err == nil {
				clientID = v.Get("client_id")
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.take(true, r.Method, rulePath(r.URL.Path), clientID)
}

// bufferedResponse keeps a served response until the rule's action decides
// what becomes of it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// sendTo writes the buffered response to w.
func (b *bufferedResponse) sendTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body.Bytes()) // the client is gone if this fails
}

// hold keeps a served response until it is released, the client goes away
// or the server closes. It reports whether the response was released.
func (s *Server) hold(r *http.Request, resp *bufferedResponse) bool {
	s.mu.Lock()
	if s.held.closed {
		s.mu.Unlock()
		return false
	}
	if s.held.items == nil {
		s.held.items = map[int64]*heldItem{}
	}
	s.held.nextID++
	it := &heldItem{
		info: HeldRequest{ID: s.held.nextID, Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(),
			Status: resp.status, Since: time.Now()},
		release: make(chan struct{}),
	}
	s.held.items[it.info.ID] = it
	s.held.notify()
	s.mu.Unlock()
	s.logf("sandbox: holding the %d response to %s %s (id %d) until released", resp.status, r.Method, r.URL.Path, it.info.ID)
	select {
	case <-it.release:
		s.mu.Lock()
		closed := s.held.closed
		s.mu.Unlock()
		return !closed
	case <-r.Context().Done():
		s.mu.Lock()
		if _, ok := s.held.items[it.info.ID]; ok {
			delete(s.held.items, it.info.ID)
			s.held.notify()
		}
		s.mu.Unlock()
		return false
	}
}
