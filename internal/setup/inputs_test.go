package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/profile"
)

var (
	uriA, uriB, uriStray = "https://a.example.com/cb", "https://b.example.com/cb", "https://stray.example.com/cb"
	unifyAB              = map[string][]string{"redirect-uri": {uriA, uriB}}
)

// unifyWithTag is a Unify app as setup leaves it with redirect URIs a and
// b, its tags recording them.
func unifyWithTag(t *testing.T, g *fakeGraph) *graph.Application {
	t.Helper()
	app := healthyApp(t, g, "unify", nil, unifyAB)
	app.SignInAudience = "AzureADMultipleOrgs"
	p, _ := profile.Builtin("unify")
	app.Tags = append(app.Tags, profile.InputsTag(p, unifyAB))
	return app
}

func verifyA1(t *testing.T, g *fakeGraph, values map[string][]string) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, WarnDays: 30, Values: values})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestAppliedValues: the inputs setup applied are read back from the app's
// URIs, leaving out one added later when the app records a fingerprint
// of them; replaced URIs are "changed"; an app without the fingerprint
// (set up before setup recorded it) is read as before.
func TestAppliedValues(t *testing.T) {
	uni, _ := profile.Builtin("unify")
	rel, _ := profile.Builtin("relution")
	withTag := func(p *profile.Profile, values map[string][]string, app graph.Application) graph.Application {
		app.Tags = append(tagged(p.ID), profile.InputsTag(p, values))
		return app
	}
	relURL := map[string][]string{"server-url": {"https://r.contoso.com"}}
	tests := []struct {
		name    string
		p       *profile.Profile
		app     graph.Application
		want    map[string][]string
		changed bool
	}{
		{"unify: as applied, in the app's order", uni, withTag(uni, unifyAB, graph.Application{Web: graph.Web{RedirectURIs: []string{uriB, uriA}}}),
			map[string][]string{"redirect-uri": {uriB, uriA}}, false},
		{"unify: a stray URI is not an input", uni, withTag(uni, unifyAB, graph.Application{Web: graph.Web{RedirectURIs: []string{uriA, uriStray, uriB}}}), unifyAB, false},
		{"unify: case and a trailing slash do not count", uni, withTag(uni, unifyAB, graph.Application{Web: graph.Web{RedirectURIs: []string{strings.ToUpper(uriA), uriB + "/"}}}),
			map[string][]string{"redirect-uri": {strings.ToUpper(uriA), uriB + "/"}}, false},
		{"unify: replaced", uni, withTag(uni, unifyAB, graph.Application{Web: graph.Web{RedirectURIs: []string{uriA, uriStray}}}),
			map[string][]string{"redirect-uri": {uriA, uriStray}}, true},
		{"unify: no fingerprint, every URI", uni, graph.Application{Tags: tagged("unify"), Web: graph.Web{RedirectURIs: []string{uriA, uriStray}}},
			map[string][]string{"redirect-uri": {uriA, uriStray}}, false},
		{"relution: a stray URI in both lists, first", rel, withTag(rel, relURL, graph.Application{IdentifierURIs: []string{"https://x.contoso.com", "https://r.contoso.com"},
			Web: graph.Web{RedirectURIs: []string{"https://x.contoso.com", "https://r.contoso.com"}}}), relURL, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := appliedValues(tc.p, tc.app)
			if changed != tc.changed || len(got) != len(tc.want) {
				t.Fatalf("got %v changed %v, want %v changed %v", got, changed, tc.want, tc.changed)
			}
			for k, v := range tc.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

// TestMatchInputs: any subset of a list's URIs may be the one applied;
// none matching is nil.
func TestMatchInputs(t *testing.T) {
	uni, _ := profile.Builtin("unify")
	app := graph.Application{Web: graph.Web{RedirectURIs: []string{uriStray, uriB, "https://c.example.com/cb", uriA}}}
	if got, complete := matchInputs(uni, app, profile.InputsTag(uni, unifyAB)); !complete || !slices.Equal(got["redirect-uri"], []string{uriB, uriA}) {
		t.Errorf("subset: %v", got)
	}
	if got, complete := matchInputs(uni, app, profile.InputsTag(uni, map[string][]string{"redirect-uri": {"https://d.example.com/cb"}})); got != nil || !complete {
		t.Errorf("no subset matches, got %v (complete %v)", got, complete)
	}
	// More URIs than the search covers: it gives up, and appliedValues
	// reads them back as before the fingerprint rather than call them
	// changed.
	for i := range maxInputCandidates {
		app.Web.RedirectURIs = append(app.Web.RedirectURIs, fmt.Sprintf("https://%d.example.com/cb", i))
	}
	app.Tags = append(tagged("unify"), profile.InputsTag(uni, map[string][]string{"redirect-uri": {"https://d.example.com/cb"}}))
	if got, complete := matchInputs(uni, app, profile.InputsTagOf(app.Tags)); got != nil || complete {
		t.Errorf("too many URIs: %v (complete %v)", got, complete)
	}
	if got, changed := appliedValues(uni, app); changed || len(got["redirect-uri"]) != len(app.Web.RedirectURIs) {
		t.Errorf("too many URIs: %v changed %v", got, changed)
	}
}

// TestVerifyStrayRedirectURI: a URI added to a Unify app after setup is a
// problem whose fix prunes it and keeps the ones setup applied; before
// the fingerprint it was taken for an input ("set up").
func TestVerifyStrayRedirectURI(t *testing.T) {
	g := newFake()
	app := unifyWithTag(t, g)
	if rep := verifyA1(t, g, nil); !rep.Healthy || len(rep.Warnings) != 0 {
		t.Fatalf("as set up: problems %v warnings %v", rep.Problems, rep.Warnings)
	}
	app.Web.RedirectURIs = append(app.Web.RedirectURIs, uriStray)
	rep := verifyA1(t, g, nil)
	c := check(rep, "redirect URI "+uriStray)
	want := "entra-link setup --profile unify --app-id a1 --redirect-uri " + uriA + " --redirect-uri " + uriB + " --prune --yes"
	if c == nil || c.Status != CheckProblem || !strings.Contains(c.Detail, "not one setup applied") || c.Fix != want || rep.Healthy {
		t.Fatalf("stray: %+v (healthy %v)\nwant fix %q", c, rep.Healthy, want)
	}
	if len(rep.Problems) != 1 {
		t.Errorf("problems %v, want the stray URI alone", rep.Problems)
	}
	for _, u := range []string{uriA, uriB} {
		if c := check(rep, "redirect URI "+u); c == nil || c.Status != CheckOK {
			t.Errorf("%s: %+v", u, c)
		}
	}
	if c := check(rep, "entra-link tags"); c == nil || c.Status != CheckOK {
		t.Errorf("tags: %+v", c)
	}

	// The same app without the fingerprint: as before, every URI is taken
	// for an input.
	app.Tags = tagged("unify")
	if rep := verifyA1(t, g, nil); !rep.Healthy || len(rep.Warnings) != 0 {
		t.Errorf("no fingerprint: problems %v warnings %v", rep.Problems, rep.Warnings)
	}
}

// TestVerifyReplacedRedirectURI: URIs none of which match the fingerprint
// were changed after setup: the input is a problem, named, and the app's
// URIs are not taken for it.
func TestVerifyReplacedRedirectURI(t *testing.T) {
	g := newFake()
	app := unifyWithTag(t, g)
	app.Web.RedirectURIs = []string{uriStray}
	rep := verifyA1(t, g, nil)
	c := check(rep, "redirect URI <--redirect-uri>")
	if c == nil || c.Status != CheckProblem || c.Short != "Redirect URI changed" || !strings.Contains(c.Detail, "changed after setup") ||
		c.Fix != "entra-link setup --profile unify --app-id a1 --redirect-uri URL --prune --yes" {
		t.Fatalf("changed: %+v", c)
	}
	if c := check(rep, "redirect URI "+uriStray); c == nil || c.Status != CheckProblem || !strings.Contains(c.Detail, "not one setup applied") {
		t.Errorf("the app's URI: %+v", c)
	}
	if c := check(rep, "entra-link tags"); c == nil || c.Status != CheckOK {
		t.Errorf("tags: %+v", c)
	}
}

// TestVerifyGivenInputs: --redirect-uri checks against the given URIs:
// another is an extra, and a fingerprint that differs is worth a look;
// values setup would refuse are a usage error naming the flag.
func TestVerifyGivenInputs(t *testing.T) {
	g := newFake()
	unifyWithTag(t, g)
	rep := verifyA1(t, g, map[string][]string{"redirect-uri": {uriA}})
	c := check(rep, "redirect URI "+uriB)
	want := "entra-link setup --profile unify --app-id a1 --redirect-uri " + uriA + " --prune --yes"
	if c == nil || c.Status != CheckProblem || !strings.Contains(c.Detail, "Unify Integrations does not need it") || c.Fix != want {
		t.Errorf("extra: %+v\nwant fix %q", c, want)
	}
	if c := check(rep, "entra-link tags"); c == nil || c.Status != CheckWarning || !strings.Contains(c.Detail, "--redirect-uri recorded on the app by setup differ from the ones given") {
		t.Errorf("tags: %+v", c)
	}
	if rep := verifyA1(t, g, unifyAB); !rep.Healthy || len(rep.Warnings) != 0 {
		t.Errorf("given as applied: problems %v warnings %v", rep.Problems, rep.Warnings)
	}

	for _, tc := range []struct {
		values map[string][]string
		want   string
	}{
		{map[string][]string{"server-url": {"https://r.contoso.com"}}, "--server-url"},
		{map[string][]string{"redirect-uri": {"ftp://a.example.com"}}, "--redirect-uri"},
		{map[string][]string{"redirect-uri": {uriA, uriA}}, "given twice"},
	} {
		_, err := Verify(context.Background(), testEnv(g), VerifyRequest{Selector: Selector{AppID: "a1"}, Values: tc.values})
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a usage error naming %s", tc.values, err, tc.want)
		}
	}
}

// TestPlanInputsTag: setup records the URI inputs in a tag; a re-run with
// the same keeps it, one with others replaces it, saying so in words; the
// enterprise application does not carry it.
func TestPlanInputsTag(t *testing.T) {
	req := func(uris ...string) profile.Request {
		return profile.Request{Audience: "multi-tenant", Values: map[string][]string{"redirect-uri": uris}}
	}
	s1 := spec(t, "unify", req(uriA))
	tag1 := profile.InputsTagOf(s1.Tags)
	if tag1 == "" {
		t.Fatalf("no inputs tag in %v", s1.Tags)
	}
	fresh := mustPlan(t, s1, tenantFor(nil, AppState{}), PlanOptions{})
	if d := fresh.Step("tags").Detail; !strings.Contains(d, tag1+" (fingerprint of --redirect-uri)") {
		t.Errorf("fresh tags step: %q", d)
	}
	if sp, ok := fresh.Step("sp").payload.(*spCreate); !ok || slices.Contains(sp.tags, tag1) || !slices.Contains(sp.tags, PortalTag) {
		t.Errorf("service principal tags: %+v", fresh.Step("sp").payload)
	}
	app := &graph.Application{ID: "o1", AppID: "a1", DisplayName: s1.DisplayName, SignInAudience: "AzureADMultipleOrgs", Tags: append([]string{"team:x"}, s1.Tags...),
		UniqueName: UniqueName("unify", s1.DisplayName), Web: graph.Web{RedirectURIs: []string{uriA}}}
	st := AppState{SP: &graph.ServicePrincipal{ID: "sp1", AppID: "a1", Tags: []string{PortalTag}}, Unread: map[Kind]string{}}
	if step := mustPlan(t, s1, tenantFor(app, st), PlanOptions{}).Step("tags"); step.Action != ActKeep {
		t.Errorf("same inputs: %s %q", step.Action, step.Detail)
	}
	s2 := spec(t, "unify", req(uriA, uriB))
	tag2 := profile.InputsTagOf(s2.Tags)
	p2 := mustPlan(t, s2, tenantFor(app, st), PlanOptions{})
	step := p2.Step("tags")
	if step.Action != ActUpdate || step.Detail != "record the new --redirect-uri ("+tag2+")" {
		t.Errorf("other inputs: %s %q", step.Action, step.Detail)
	}
	u, ok := p2.Step("app").payload.(*appUpdate)
	if !ok || u.update.Tags == nil || !slices.Contains(*u.update.Tags, tag2) || slices.Contains(*u.update.Tags, tag1) || !slices.Contains(*u.update.Tags, "team:x") {
		t.Errorf("update: %+v", p2.Step("app").payload)
	}
}
