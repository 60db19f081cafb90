package setup

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

func withSecrets(app *graph.Application, keys ...string) {
	app.PasswordCredentials = nil
	for i, k := range keys {
		app.PasswordCredentials = append(app.PasswordCredentials, graph.PasswordCredential{KeyID: k, Hint: "h" + k, EndDateTime: now.AddDate(0, i+1, 0)})
	}
}

func TestPrepareRotationRefuses(t *testing.T) {
	prove := func(context.Context, string, string) error { return nil }
	tests := []struct {
		name    string
		profile string
		mutate  func(g *fakeGraph, app *graph.Application)
		req     RotateRequest
		want    []string
	}{
		{"remove-old without other secrets", "entitle", func(_ *fakeGraph, app *graph.Application) { app.PasswordCredentials = nil },
			RotateRequest{RemoveOld: true, Prove: prove}, []string{"--remove-old", "has no other client secret", "nothing was changed"}},
		{"remove-old without a service principal", "entitle", func(g *fakeGraph, _ *graph.Application) { delete(g.sps, "a1") },
			RotateRequest{RemoveOld: true, Prove: prove}, []string{"no service principal", "cannot be proven"}},
		{"remove-old of the app signed in as itself", "entitle", func(g *fakeGraph, _ *graph.Application) { g.id.ClientAppID = "a1" },
			RotateRequest{RemoveOld: true, Prove: prove}, []string{"--remove-old", "signed in as", "the one it signed in with", "entra-link retire --app-id a1", "nothing was changed"}},
		{"certificate profile", "hire2retire", nil, RotateRequest{}, []string{"authenticates with a certificate", "rotate-certificate --app-id a1 --certificate-file"}},
		{"longer than the profile allows", "entitle", nil, RotateRequest{Lifetime: profile.Lifetime{N: 25, Unit: 'm'}}, []string{"--secret-expiry 25m", "profile entitle allows", "2 years"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake()
			app := healthyApp(t, g, tc.profile, nil, nil)
			if tc.mutate != nil {
				tc.mutate(g, app)
			}
			tc.req.Selector = Selector{AppID: "a1"}
			_, err := PrepareRotation(context.Background(), testEnv(g), tc.req)
			var ue *UsageError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *UsageError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if c := g.changes(); len(c) != 0 {
				t.Errorf("changed the tenant: %v", c)
			}
		})
	}
}

func TestRotationLifetime(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "roger365", nil, nil)
	ro, err := PrepareRotation(context.Background(), testEnv(g), RotateRequest{Selector: Selector{AppID: "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Lifetime.String() != "1y" || !ro.Expiry.Equal(now.AddDate(1, 0, 0)) {
		t.Errorf("default lifetime %s expiry %s, want the profile's 1y", ro.Lifetime, ro.Expiry)
	}
	ro, err = PrepareRotation(context.Background(), testEnv(g), RotateRequest{Selector: Selector{AppID: "a1"}, Lifetime: profile.Lifetime{N: 90, Unit: 'd'}})
	if err != nil || !ro.Expiry.Equal(now.AddDate(0, 0, 90)) {
		t.Errorf("90d: %v %v", ro, err)
	}
}

func TestRotateKeepsOldSecrets(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	withSecrets(app, "old1", "old2")
	var early []*output.Result
	env := testEnv(g)
	env.OnSecret = func(r *output.Result) { early = append(early, r) }
	ro, err := PrepareRotation(context.Background(), env, RotateRequest{Selector: Selector{Name: "Entitle"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ro.Apply(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if c := g.changes(); len(c) != 1 || !regexp.MustCompile(`^AddPassword o1 "entra-link rotate-secret 2026-11-21 #[0-9a-f]{12}"$`).MatchString(c[0]) {
		t.Errorf("changes = %v, want only the addPassword", c)
	}
	if res.ClientSecret != "s3cret-value" || res.ClientSecretKeyID != "new-1" || res.ClientSecretExpiresAt == nil || res.Profile != "entitle" || res.ServicePrincipalID != "sp1" {
		t.Errorf("result %+v", res)
	}
	// Entitle's hand-over is its Connection JSON with the new secret.
	var labels []string
	for _, f := range res.Handover.Fields {
		labels = append(labels, f.Label+"="+f.Value)
	}
	if !slices.Equal(labels, []string{"client_id=a1", "secret=s3cret-value", "tenant=tenant-1"}) || res.HandoverFormat != "json" {
		t.Errorf("handover %v (%s)", labels, res.HandoverFormat)
	}
	if len(early) != 1 || early[0].ClientSecret != "s3cret-value" || early[0].Handover == nil {
		t.Errorf("OnSecret got %d results: %+v", len(early), early)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "2 other secret(s) were kept") {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func TestRotateRemoveOld(t *testing.T) {
	tests := []struct {
		name        string
		proofErr    error
		removeFails bool
		wantErr     string // error type: "", "proof", "steps"
		wantRemoved []string
	}{
		{"proven: the others are removed", nil, false, "", []string{"RemovePassword old1", "RemovePassword old2"}},
		{"not proven: nothing is removed", errors.New("AADSTS7000215 for 2m"), false, "proof", nil},
		{"a removal fails", nil, true, "steps", []string{"RemovePassword old1", "RemovePassword old2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newFake()
			app := healthyApp(t, g, "relution", nil, relutionURL)
			withSecrets(app, "old1", "old2")
			if tc.removeFails {
				g.fail["RemovePassword old2"] = &graph.Error{Status: 403, Code: "Authorization_RequestDenied"}
			}
			var proved []string
			var mu sync.Mutex
			req := RotateRequest{Selector: Selector{AppID: "a1"}, RemoveOld: true, Prove: func(_ context.Context, clientID, secret string) error {
				mu.Lock()
				proved = append(proved, clientID+"/"+secret)
				mu.Unlock()
				return tc.proofErr
			}}
			env := testEnv(g)
			delivered := false
			env.OnSecret = func(*output.Result) {
				// The secret is delivered before the proof and any removal.
				delivered = len(proved) == 0
			}
			ro, err := PrepareRotation(context.Background(), env, req)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ro.Apply(context.Background(), env)
			if res == nil || res.ClientSecret != "s3cret-value" || !delivered {
				t.Fatalf("secret not delivered first: %+v", res)
			}
			if !slices.Equal(proved, []string{"a1/s3cret-value"}) {
				t.Errorf("proved %v", proved)
			}
			var removed []string
			for _, c := range g.changes() {
				if strings.HasPrefix(c, "RemovePassword") {
					removed = append(removed, c)
				}
			}
			slices.Sort(removed)
			if !slices.Equal(removed, tc.wantRemoved) {
				t.Errorf("removed %v, want %v", removed, tc.wantRemoved)
			}
			var pe *ProofError
			var se *StepsError
			switch tc.wantErr {
			case "":
				if err != nil || res.Error != "" {
					t.Errorf("err %v / %q", err, res.Error)
				}
			case "proof":
				if !errors.As(err, &pe) || pe.Kept != 2 || !strings.Contains(res.Error, "old secret(s) were kept: nothing was removed") {
					t.Errorf("err %v, result error %q", err, res.Error)
				}
			case "steps":
				if !errors.As(err, &se) || !strings.Contains(res.Error, "1 old secret(s) could not be removed") {
					t.Errorf("err %v, result error %q", err, res.Error)
				}
			}
		})
	}
}

func TestRotateUntaggedApp(t *testing.T) {
	g := newFake()
	app := healthyApp(t, g, "entitle", nil, nil)
	app.Tags = nil
	app.DisplayName = "Legacy sync"
	ro, err := PrepareRotation(context.Background(), testEnv(g), RotateRequest{Selector: Selector{AppID: "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ro.Apply(context.Background(), testEnv(g))
	if err != nil {
		t.Fatal(err)
	}
	if res.Profile != "" || res.Handover == nil || len(res.Handover.Fields) != 3 || res.Handover.Fields[2].Value != "s3cret-value" {
		t.Errorf("generic hand-over: %+v", res.Handover)
	}
	if !ro.Expiry.Equal(now.AddDate(1, 0, 0)) || !strings.Contains(strings.Join(res.Warnings, " "), "was not made by entra-link") {
		t.Errorf("expiry %s warnings %v", ro.Expiry, res.Warnings)
	}
}

func TestRotateAddPasswordFails(t *testing.T) {
	g := newFake()
	healthyApp(t, g, "entitle", nil, nil)
	g.fail["AddPassword"] = &graph.Error{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges"}
	ro, err := PrepareRotation(context.Background(), testEnv(g), RotateRequest{Selector: Selector{AppID: "a1"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ro.Apply(context.Background(), testEnv(g))
	if res != nil || err == nil || !strings.Contains(err.Error(), "Graph added no secret; nothing was changed") ||
		!strings.Contains(err.Error(), "the signed-in identity may not add a client secret to") || strings.Contains(err.Error(), "403") {
		t.Errorf("res %v err %v", res, err)
	}
}
