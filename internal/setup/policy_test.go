package setup

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/profile"
)

// withPolicy is tenantFor with this tenant default policy (enabled).
func withPolicy(app *graph.Application, st AppState, pw []graph.CredentialRestriction, keys []graph.CredentialRestriction) *Tenant {
	tn := tenantFor(app, st)
	tn.Policy = PolicyRead{Default: &graph.AppManagementPolicy{Default: true, Enabled: true, Passwords: pw, Keys: keys}, AppRead: true}
	return tn
}

func lifetime(max string) []graph.CredentialRestriction {
	return []graph.CredentialRestriction{{Type: "passwordLifetime", MaxLifetime: max}}
}

// TestPolicyClampsSecret: a passwordLifetime of P90D shortens the
// profile's default one-year secret to 90 days, and the plan says so, in
// the credential step and in the policy check.
func TestPolicyClampsSecret(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	p := mustPlan(t, s, withPolicy(nil, AppState{}, lifetime("P90D"), nil), PlanOptions{})
	cred := p.Step("credential")
	end := cred.payload.(*secretCreate).end
	if want := now.AddDate(0, 0, 90); end.After(want) || end.Before(want.Add(-2*time.Hour)) {
		t.Errorf("secret ends %s, want just before %s", end, want)
	}
	if !strings.Contains(cred.Detail, "shortened from 1 year") || !strings.Contains(cred.Detail, "90 days") {
		t.Errorf("credential detail %q", cred.Detail)
	}
	chk := p.Step("check/credential-policy")
	if chk == nil || chk.Problem != "" || !strings.Contains(chk.Detail, "at most 90 days (passwordLifetime P90D)") {
		t.Fatalf("policy check %+v", chk)
	}
	// Known and allowed: nothing waits for the secret (three rounds).
	if sp := p.Step("sp"); strings.Contains(strings.Join(sp.After, ","), "credential") || p.Rounds() != 3 {
		t.Errorf("sp waits for %v; %d rounds", sp.After, p.Rounds())
	}
	// A policy that allows the secret changes nothing.
	p = mustPlan(t, s, withPolicy(nil, AppState{}, lifetime("P2Y"), nil), PlanOptions{})
	if d := p.Step("credential").Detail; strings.Contains(d, "shortened") {
		t.Errorf("two-year limit shortened the one-year secret: %q", d)
	}
}

// TestPolicyRefusesExplicitLifetime: --secret-expiry longer than the
// policy allows is a failed check naming the limit: exit 2, nothing written.
func TestPolicyRefusesExplicitLifetime(t *testing.T) {
	s := spec(t, "entitle", profile.Request{SecretExpiry: "1y"})
	p := mustPlan(t, s, withPolicy(nil, AppState{}, lifetime("P90D"), nil), PlanOptions{})
	probs := p.Problems()
	if len(probs) != 1 || !strings.Contains(probs[0], "--secret-expiry 1y") || !strings.Contains(probs[0], "at most 90 days") || !strings.Contains(probs[0], "--secret-expiry 90d") {
		t.Fatalf("problems %q", probs)
	}
	g := newFake()
	if _, err := Apply(context.Background(), testEnv(g), p); err == nil || len(g.calls) != 0 {
		t.Errorf("applied: %v, calls %v", err, g.calls)
	}
	s = spec(t, "entitle", profile.Request{SecretExpiry: "60d"})
	if p := mustPlan(t, s, withPolicy(nil, AppState{}, lifetime("P90D"), nil), PlanOptions{}); len(p.Problems()) != 0 {
		t.Errorf("60 days within 90: %v", p.Problems())
	}
}

// TestPolicyBlocksSecrets: passwordAddition stops a secret-only product
// before any write, in words for the security team; a product that also
// takes a certificate is offered one; a certificate product proceeds; an
// app created before the restriction's date is not affected.
func TestPolicyBlocksSecrets(t *testing.T) {
	blocked := []graph.CredentialRestriction{{Type: "passwordAddition", Since: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}}
	p := mustPlan(t, spec(t, "entitle", profile.Request{}), withPolicy(nil, AppState{}, blocked, nil), PlanOptions{})
	probs := p.Problems()
	if len(probs) != 1 || !strings.Contains(probs[0], "does not allow new client secrets on apps created since 2021-01-01 (passwordAddition)") ||
		!strings.Contains(probs[0], "Entitle signs in only with a client secret") || !strings.Contains(probs[0], "security team") {
		t.Errorf("entitle: %q", probs)
	}

	other, err := profile.Parse([]byte(`id: other
product: Other
description: a product that takes either
displayName: Other
audience: single-tenant
credential:
  default: secret
  allowed: [secret, certificate]
permissions:
  - resource: Microsoft Graph
    application: [User.Read.All]
handover:
  format: text
  fields:
    - label: Client ID
      value: "{{clientId}}"
    - label: Secret
      value: "{{clientSecret}}"
`), "other.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ospec, err := profile.Resolve(other, profile.Request{}, now)
	if err != nil {
		t.Fatal(err)
	}
	p = mustPlan(t, ospec, withPolicy(nil, AppState{}, blocked, nil), PlanOptions{})
	if probs := p.Problems(); len(probs) != 1 || !strings.Contains(probs[0], "--credential certificate") || !strings.Contains(probs[0], "--certificate-out DIR") {
		t.Errorf("a product that takes a certificate: %q", probs)
	}

	h2r := spec(t, "hire2retire", profile.Request{CertificateFile: "../cli/testdata/hire2retire.cer"})
	if p := mustPlan(t, h2r, withPolicy(nil, AppState{}, blocked, nil), PlanOptions{}); len(p.Problems()) != 0 {
		t.Errorf("hire2retire (certificate): %v", p.Problems())
	}

	es := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(es)
	app.PasswordCredentials = nil
	app.CreatedDateTime = time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)
	if p := mustPlan(t, es, withPolicy(app, st, blocked, nil), PlanOptions{}); len(p.Problems()) != 0 || p.Step("credential").Action != ActCreate {
		t.Errorf("an app from before the restriction: %v", p.Problems())
	}
}

// TestPolicyAssignedToApp: a policy assigned to the app replaces the
// tenant default for it.
func TestPolicyAssignedToApp(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	app, st := entitleApp(s)
	tn := withPolicy(app, st, lifetime("P90D"), nil)
	tn.Policy.App = &graph.AppManagementPolicy{DisplayName: "Long secrets for Entitle", Enabled: true}
	p := mustPlan(t, s, tn, PlanOptions{NewCredential: true})
	if d := p.Step("check/credential-policy").Detail; !strings.Contains(d, `"Long secrets for Entitle" assigned to the app allows`) {
		t.Errorf("check %q", d)
	}
	if d := p.Step("credential").Detail; strings.Contains(d, "shortened") {
		t.Errorf("credential %q", d)
	}
	// Not knowing the app's own policy is not knowing.
	tn.Policy.App, tn.Policy.AppRead = nil, false
	tn.Policy.Unread = "the policy assigned to the app could not be read (Graph answered 403)"
	p = mustPlan(t, s, tn, PlanOptions{NewCredential: true})
	if u := p.Step("check/credential-policy").Unknown; !strings.Contains(u, "could not be read") {
		t.Errorf("unknown %q", u)
	}
}

// TestPolicyUnknownSecretFirst: a policy that could not be read is said so,
// and consents wait for the secret (the service principal comes with it:
// still three rounds); when Graph then refuses the secret, nothing is
// consented and the words are the plan's.
func TestPolicyUnknownSecretFirst(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	tn := tenantFor(nil, AppState{})
	tn.Policy = PolicyRead{Unread: "the sign-in does not carry Policy.Read.All (entra-link does not ask for it)"}
	p := mustPlan(t, s, tn, PlanOptions{})
	chk := p.Step("check/credential-policy")
	if !strings.Contains(chk.Unknown, "Policy.Read.All") || !strings.Contains(chk.Unknown, "consents, roles and owners wait for the client secret") {
		t.Errorf("check %+v", chk)
	}
	want := map[string]int{"app": 1, "credential": 2, "sp": 2, "consent/" + permKey(s.Permissions[0].ResourceAppID, s.Permissions[0].Name, s.Permissions[0].Type): 3}
	for id, round := range want {
		if r := p.Step(id).Round; r != round {
			t.Errorf("%s in round %d, want %d", id, r, round)
		}
	}

	g := newFake()
	g.fail["AddPassword"] = &graph.Error{Status: http.StatusBadRequest, Code: graph.CodeCredentialType, Message: "Credential type not allowed as per assigned policy '00000000-0000-0000-0000-000000000000'."}
	res, err := Apply(context.Background(), testEnv(g), p)
	var pe *PolicyError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "does not allow client secrets on this app") || !strings.Contains(pe.Msg, "Policy.Read.All") {
		t.Fatalf("err %v", err)
	}
	for _, c := range g.changes() {
		if !strings.HasPrefix(c, "UpsertApplication") && !strings.HasPrefix(c, "UpsertServicePrincipal") {
			t.Errorf("ran %s besides the app and its service principal", c)
		}
	}
	for _, st := range res.Steps {
		if st.Kind == string(KindConsent) && st.Status != "not-run" {
			t.Errorf("consent %s", st.Status)
		}
	}
	if strings.Contains(res.Error, "Credential type not allowed") {
		t.Errorf("raw Graph words in %q", res.Error)
	}
}

// TestPolicyCertificates: a certificate file valid longer than
// asymmetricKeyLifetime allows is refused before any write; a generated
// one is made shorter, and the plan says so.
func TestPolicyCertificates(t *testing.T) {
	keys := []graph.CredentialRestriction{{Type: "asymmetricKeyLifetime", MaxLifetime: "P30D"}}
	s := spec(t, "hire2retire", profile.Request{CertificateFile: "../cli/testdata/hire2retire.cer"})
	p := mustPlan(t, s, withPolicy(nil, AppState{}, nil, keys), PlanOptions{})
	if probs := p.Problems(); len(probs) != 1 || !strings.Contains(probs[0], "--certificate-file") || !strings.Contains(probs[0], "at most 30 days") {
		t.Errorf("file: %q", probs)
	}
	dir := t.TempDir()
	s = spec(t, "hire2retire", profile.Request{CertificateOut: dir})
	p = mustPlan(t, s, withPolicy(nil, AppState{}, nil, keys), PlanOptions{})
	kp := p.Step("key-pair")
	gen := kp.payload.(*keyPairCreate)
	if len(p.Problems()) != 0 || gen.maxValidity <= 0 || gen.maxValidity > 30*24*time.Hour || !strings.Contains(kp.Target, "shortened from 1 year") {
		t.Fatalf("generated: problems %v, max %v, %q", p.Problems(), gen.maxValidity, kp.Target)
	}
	r := newRun(testEnv(newFake()), p)
	if _, err := gen.apply(context.Background(), r, kp); err != nil {
		t.Fatal(err)
	}
	c := r.keyPair.Certificate
	if limit, _ := addISODuration(c.NotBefore, "P30D"); c.NotAfter.After(limit) {
		t.Errorf("certificate %s – %s is longer than 30 days", c.NotBefore, c.NotAfter)
	}
	if c.NotBefore.After(now.Add(-certs.Backdate).Add(time.Minute)) {
		t.Errorf("not before %s", c.NotBefore)
	}
}

// TestPolicyIdentifierURIs: nonDefaultUriAddition refuses Relution's
// server URL as identifier URI before any write.
func TestPolicyIdentifierURIs(t *testing.T) {
	s := spec(t, "relution", profile.Request{Values: map[string][]string{"server-url": {"https://relution.contoso.com"}}})
	tn := tenantFor(nil, AppState{})
	tn.Org.VerifiedDomains = []graph.VerifiedDomain{{Name: "contoso.com"}}
	tn.Policy = PolicyRead{Default: &graph.AppManagementPolicy{Default: true, Enabled: true, NonDefaultURIs: &graph.URIRestriction{}}}
	p := mustPlan(t, s, tn, PlanOptions{})
	if probs := p.Problems(); len(probs) != 1 || !strings.Contains(probs[0], "api://{appId}") || !strings.Contains(probs[0], "https://relution.contoso.com") {
		t.Errorf("nonDefaultUriAddition: %q", probs)
	}
	tn.Policy.Default.NonDefaultURIs = nil
	tn.Policy.Default.URIsWithoutTenantID = &graph.URIRestriction{}
	if p := mustPlan(t, s, tn, PlanOptions{}); len(p.Problems()) != 0 {
		t.Errorf("a verified domain is a unique tenant identifier: %q", p.Problems())
	}
	tn.Policy.Default.NonDefaultURIs = &graph.URIRestriction{Since: now.AddDate(1, 0, 0)}
	if p := mustPlan(t, s, tn, PlanOptions{}); len(p.Problems()) != 0 {
		t.Errorf("a restriction from next year: %q", p.Problems())
	}
}

// TestGraphRefusalsInWords: the service management reference a tenant
// requires, and a lifetime refusal, come back in words.
func TestGraphRefusalsInWords(t *testing.T) {
	s := spec(t, "entitle", profile.Request{})
	p := mustPlan(t, s, tenantFor(nil, AppState{}), PlanOptions{})
	err := p.translate(p.Step("app"), &graph.Error{Status: 400, Code: graph.CodeServiceManagementReference})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, "--service-management-reference") {
		t.Errorf("ServiceTreeValueMissing: %v", err)
	}
	err = p.translate(p.Step("credential"), &graph.Error{Status: 400, Code: graph.CodeCredentialLifetime})
	if err == nil || !strings.Contains(err.Error(), "does not allow a client secret valid until") || !strings.Contains(err.Error(), "--secret-expiry") {
		t.Errorf("lifetime: %v", err)
	}
	other := errors.New("boom")
	if err := p.translate(p.Step("credential"), other); !errors.Is(err, other) || err.Error() != "boom" {
		t.Errorf("other errors changed: %v", err)
	}
}

func TestISODurations(t *testing.T) {
	base := time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in, words, short string
		end              time.Time
	}{
		{"P90D", "90 days", "90d", base.AddDate(0, 0, 90)},
		{"P1Y", "1 year", "1y", base.AddDate(1, 0, 0)},
		{"P6M", "6 months", "6m", base.AddDate(0, 6, 0)},
		{"P4DT12H30M5S", "4 days 12 hours 30 minutes 5 seconds", "4d", base.Add(4*24*time.Hour + 12*time.Hour + 30*time.Minute + 5*time.Second)},
	} {
		if w := isoWords(tc.in); w != tc.words {
			t.Errorf("%s in words: %q", tc.in, w)
		}
		if sh := shortLifetime(tc.in); sh != tc.short {
			t.Errorf("%s short: %q", tc.in, sh)
		}
		if end, ok := addISODuration(base, tc.in); !ok || !end.Equal(tc.end) {
			t.Errorf("%s from %s: %s", tc.in, base, end)
		}
	}
	for _, bad := range []string{"", "P", "PT", "90D", "P1H"} {
		if _, ok := addISODuration(base, bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func (f *fakeGraph) UpsertApplication(_ context.Context, key string, app graph.Application) (graph.Application, bool, error) {
	if err := f.failure("UpsertApplication"); err != nil {
		return graph.Application{}, false, err
	}
	f.mu.Lock()
	app.ID, app.AppID, app.UniqueName = "new-app", "new-app-id", key
	f.apps = append(f.apps, app)
	f.mu.Unlock()
	f.log("UpsertApplication %s", app.DisplayName)
	return app, true, nil
}

func (f *fakeGraph) UpsertServicePrincipal(_ context.Context, appID string, tags []string) (graph.ServicePrincipal, bool, error) {
	f.log("UpsertServicePrincipal %s %v", appID, tags)
	return graph.ServicePrincipal{ID: "new-sp", AppID: appID, Tags: tags}, true, nil
}
