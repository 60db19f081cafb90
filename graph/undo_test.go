package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretStore is a fake app's client secrets behind addPassword,
// removePassword and GET /applications/{id}: enough Graph for the undo of
// an ambiguous addPassword. fail decides, per addPassword call (1-based),
// how the call fails: "drop" commits the secret and hangs up, "hang"
// commits it and never answers, "503" fails before committing, "" succeeds.
type secretStore struct {
	t        *testing.T
	mu       sync.Mutex
	creds    []PasswordCredential
	adds     int
	removed  []string
	fail     func(n int) string
	readFail bool
}

func (s *secretStore) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/addPassword"):
		s.adds++
		how := s.fail(s.adds)
		if how == "503" {
			reply(w, 503, docUnavailable)
			return
		}
		var in struct {
			PasswordCredential struct {
				DisplayName string `json:"displayName"`
			} `json:"passwordCredential"`
		}
		_ = json.Unmarshal(body, &in)
		keyID := fmt.Sprintf("f0b0b335-1d71-4883-8f98-%012d", s.adds)
		s.creds = append(s.creds, PasswordCredential{KeyID: keyID, DisplayName: in.PasswordCredential.DisplayName})
		if how == "hang" {
			// Committed; the answer never comes (the lock is let go so
			// that a read-back could be served).
			s.mu.Unlock()
			<-r.Context().Done()
			s.mu.Lock()
			return
		}
		if how == "drop" {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			_ = conn.Close()
			return
		}
		reply(w, 200, `{"keyId":"`+keyID+`","displayName":"`+in.PasswordCredential.DisplayName+`","secretText":"s3cret-`+keyID+`","hint":"s3c"}`)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/removePassword"):
		var in struct {
			KeyID string `json:"keyId"`
		}
		_ = json.Unmarshal(body, &in)
		s.removed = append(s.removed, in.KeyID)
		for i, c := range s.creds {
			if c.KeyID == in.KeyID {
				s.creds = append(s.creds[:i], s.creds[i+1:]...)
				w.WriteHeader(204)
				return
			}
		}
		reply(w, 404, docNotFound)
	case r.Method == http.MethodGet:
		if s.readFail {
			reply(w, 403, docForbidden)
			return
		}
		b, _ := json.Marshal(map[string]any{"id": appObjID, "passwordCredentials": s.creds})
		reply(w, 200, string(b))
	default:
		s.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		reply(w, 400, docBadRequest)
	}
}

func (s *secretStore) snapshot() (creds []PasswordCredential, adds int, removed []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PasswordCredential(nil), s.creds...), s.adds, append([]string(nil), s.removed...)
}

// An addPassword whose connection drops after Graph made the secret is
// repeated only after that secret has been found and removed: the app ends
// with exactly the secret that was returned.
func TestAddPasswordUndoesAnAmbiguousAttemptBeforeRepeating(t *testing.T) {
	const mine, theirs = "entra-link entitle 2026-11-21 #aaaaaaaaaaaa", "entra-link entitle 2026-11-21 #bbbbbbbbbbbb"
	for _, tc := range []struct {
		name        string
		fail        func(int) string
		wantAdds    int
		wantRemoved int
	}{
		{"dropped after commit", func(n int) string { return map[int]string{1: "drop"}[n] }, 2, 1},
		{"dropped twice", func(n int) string { return map[int]string{1: "drop", 2: "drop"}[n] }, 3, 2},
		{"503 before commit", func(n int) string { return map[int]string{1: "503"}[n] }, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &secretStore{t: t, fail: tc.fail}
			// Another run's secret on the same app is never touched.
			st.creds = []PasswordCredential{{KeyID: "c0ffee00-0000-4000-8000-000000000001", DisplayName: theirs}}
			f := newFakeGraph(t, st.handle)
			var events []RetryEvent
			var mu sync.Mutex
			c, _ := f.client(t, func(o *Options) {
				o.OnRetry = func(e RetryEvent) { mu.Lock(); events = append(events, e); mu.Unlock() }
			})
			pc, err := c.AddPassword(context.Background(), appObjID, mine, time.Time{})
			if err != nil {
				t.Fatalf("AddPassword: %v", err)
			}
			creds, adds, removed := st.snapshot()
			if adds != tc.wantAdds || len(removed) != tc.wantRemoved {
				t.Errorf("%d adds, %d removals; want %d, %d", adds, len(removed), tc.wantAdds, tc.wantRemoved)
			}
			if len(creds) != 2 || creds[0].DisplayName != theirs || creds[1].KeyID != pc.KeyID {
				t.Errorf("the app holds %+v; want the other run's secret and %s only", creds, pc.KeyID)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(events) != tc.wantAdds-1 {
				t.Fatalf("retry events %+v", events)
			}
			if tc.wantRemoved > 0 && !strings.Contains(events[0].Undone, "removed the secret") {
				t.Errorf("the retry does not say what was undone: %+v", events[0])
			}
		})
	}
}

// When the read-back fails, nothing is repeated and the error says that the
// outcome is unknown; a refusal by Graph says it took no effect.
func TestAddPasswordSaysWhenItCannotTell(t *testing.T) {
	st := &secretStore{t: t, fail: func(int) string { return "drop" }, readFail: true}
	f := newFakeGraph(t, st.handle)
	c, _ := f.client(t)
	_, err := c.AddPassword(context.Background(), appObjID, "entra-link x #1", time.Time{})
	if err == nil || !MayHaveTakenEffect(err) {
		t.Fatalf("err = %v, want MayHaveTakenEffect", err)
	}
	if _, adds, _ := st.snapshot(); adds != 1 {
		t.Errorf("repeated %d times without knowing whether the first took effect", adds)
	}
	if e := err.Error(); !strings.Contains(e, "no answer from 127.0.0.1") || !strings.Contains(e, "reading the app back to check failed too (Microsoft Graph refused to read the app's client secrets back: 403 Authorization_RequestDenied") {
		t.Errorf("error = %v", err)
	}

	// Out of attempts on 503s: settled by a read-back that finds nothing.
	st = &secretStore{t: t, fail: func(int) string { return "503" }}
	f = newFakeGraph(t, st.handle)
	c, _ = f.client(t, func(o *Options) { o.RetryDeadline = 50 * time.Millisecond })
	_, err = c.AddPassword(context.Background(), appObjID, "entra-link x #2", time.Time{})
	if StatusOf(err) != 503 || MayHaveTakenEffect(err) {
		t.Fatalf("err = %v (may have taken effect: %v), want a settled 503", err, MayHaveTakenEffect(err))
	}
	if _, err := (&Client{}).AddPassword(context.Background(), appObjID, " ", time.Time{}); err == nil {
		t.Error("AddPassword without a display name succeeded")
	}
}

// A caller that stops waiting for an addPassword (cause ErrStoppedWaiting)
// gets its answer at once: nothing is repeated or read back, and the error
// says the secret may exist.
func TestAddPasswordCallerStopsWaiting(t *testing.T) {
	st := &secretStore{t: t, fail: func(int) string { return "hang" }}
	f := newFakeGraph(t, st.handle)
	c, _ := f.client(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		// Once the request is in (or, failing that, after ten seconds).
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, adds, _ := st.snapshot(); adds > 0 {
				break
			}
		}
		cancel(ErrStoppedWaiting)
	}()
	_, err := c.AddPassword(ctx, appObjID, "entra-link x #3", time.Time{})
	if err == nil || !MayHaveTakenEffect(err) || !strings.Contains(err.Error(), "stopped waiting for the answer") {
		t.Fatalf("err = %v, want one that may have taken effect", err)
	}
	creds, adds, removed := st.snapshot()
	if adds != 1 || len(removed) != 0 || len(creds) != 1 {
		t.Errorf("%d adds, removed %v, creds %v: want the one add, left alone", adds, removed, creds)
	}
	for _, r := range f.requests() {
		if r.Method == http.MethodGet {
			t.Errorf("read the app back after the caller stopped waiting: %s", r.Path)
		}
	}
}

// An upsert answered 204 (the object existed) reads the object back, and a
// 404 on that read is replication lag.
func TestUpsertOfExistingObjectsReadsThemBack(t *testing.T) {
	f := newFakeGraph(t, sequence(
		func(w http.ResponseWriter) { w.WriteHeader(204) },
		status(404, docNotFound),
		status(200, docCreatedApp),
		func(w http.ResponseWriter) { w.WriteHeader(204) },
		status(200, docCreatedSP),
	))
	c, _ := f.client(t)
	app, created, err := c.UpsertApplication(context.Background(), "entra-link-demo", Application{DisplayName: "demo"})
	if err != nil || created || app.ID != appObjID {
		t.Fatalf("app %+v created %v: %v", app, created, err)
	}
	sp, created, err := c.UpsertServicePrincipal(context.Background(), appID, nil)
	if err != nil || created || sp.ID == "" {
		t.Fatalf("sp %+v created %v: %v", sp, created, err)
	}
	reqs := f.requests()
	want := []string{"PATCH /v1.0/applications(uniqueName='entra-link-demo')", "GET /v1.0/applications(uniqueName='entra-link-demo')",
		"GET /v1.0/applications(uniqueName='entra-link-demo')", "PATCH /v1.0/servicePrincipals(appId='" + appID + "')",
		"GET /v1.0/servicePrincipals(appId='" + appID + "')"}
	for i, r := range reqs {
		if got := r.Method + " " + r.Path; i >= len(want) || got != want[i] {
			t.Errorf("request %d = %s, want %v", i, got, want)
		}
		if r.Method == http.MethodPatch && r.Header.Get("Prefer") != "create-if-missing" {
			t.Errorf("%s without Prefer: create-if-missing", r.Path)
		}
	}
}
