package wizard

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// fakeEngine records what the wizard asked of the engine.
type fakeEngine struct {
	signedIn, reviewed, applied bool
	// keptSecret: the apply keeps the app's secret instead of adding one.
	keptSecret        bool
	reviews           int
	review            Review
	atReview, atApply SetupAnswers
	verified          []string
}

func (e *fakeEngine) hooks() SetupHooks {
	return SetupHooks{
		AuthDefault: "device-code",
		SignIn: func(_ context.Context, a *SetupAnswers) (SignedIn, error) {
			e.signedIn = true
			return SignedIn{Who: "admin@contoso.com", Tenant: "Contoso (contoso.onmicrosoft.com)"}, nil
		},
		CheckDomain: func(raw string) error {
			if !strings.Contains(raw, "contoso.com") {
				return errors.New("relution.example.org is not a verified domain of Contoso")
			}
			e.verified = append(e.verified, raw)
			return nil
		},
		CheckCertificate: func(path string) (string, error) {
			if !strings.HasSuffix(path, ".cer") {
				return "", errors.New(path + " is not a certificate")
			}
			return "thumbprint AB12, expires 2027-06-01", nil
		},
		Review: func(_ context.Context, a *SetupAnswers) (*Review, error) {
			e.reviewed = true
			e.reviews++
			e.atReview = *a
			rv := e.review
			if a.NewCredential && rv.ExistingSecret != "" {
				// The engine plans again: a new secret instead of the kept one.
				rv.ExistingSecret = ""
				rv.Steps = []string{"create  client secret — valid 1 year (until 2027-11-21)"}
			}
			if rv.Tenant == "" {
				rv.Tenant = "Contoso (contoso.onmicrosoft.com)"
				rv.Steps = []string{
					`create  app registration "` + a.Name + `" — single tenant`,
					"create  client secret — valid 1 year (until 2027-11-21)",
				}
				for _, p := range a.Profile.Permissions {
					rv.Permissions = append(rv.Permissions, Permission{Resource: p.Resource, Name: p.Name, Type: string(p.Type), DisplayName: p.DisplayName, Description: p.Description})
				}
			}
			return &rv, nil
		},
		Apply: func(_ context.Context, a *SetupAnswers, progress func(Event)) (*output.Result, error) {
			e.applied = true
			e.atApply = *a
			progress(Event{Action: "create", Target: `app registration "Entitle"`, Status: StatusRunning})
			progress(Event{Action: "create", Target: `app registration "Entitle"`, Status: StatusDone, Detail: "client ID 11111111-2222-3333-4444-555555555555"})
			progress(Event{Action: "create", Target: "admin consent Microsoft Graph · Directory.ReadWrite.All", Status: "waiting", Detail: "waiting for Entra to replicate the new service principal…"})
			progress(Event{Action: "create", Target: "admin consent Microsoft Graph · Directory.ReadWrite.All", Status: StatusDone})
			exp := testNow.AddDate(1, 0, 0)
			if e.keptSecret && !a.NewCredential {
				return &output.Result{
					Profile: a.Profile.ID, Product: a.Profile.Product, DisplayName: a.Name, TenantName: "Contoso", ClientID: "11111111-2222-3333-4444-555555555555",
					KeptSecret: &output.KeptSecret{KeyID: "k1", Hint: "Xyz", ExpiresAt: exp}, HandoverFormat: "json",
					Handover: &output.Handover{Fields: []output.HandoverField{{Label: "client_id", Value: "11111111-2222-3333-4444-555555555555"}}},
				}, nil
			}
			return &output.Result{
				Profile: a.Profile.ID, Product: a.Profile.Product, DisplayName: a.Name,
				TenantID: "tttttttt-0000-0000-0000-000000000000", TenantName: "Contoso", ClientID: "11111111-2222-3333-4444-555555555555",
				ClientSecret: "s3cr3t~value", ClientSecretExpiresAt: &exp, HandoverFormat: "json",
				Handover: &output.Handover{Fields: []output.HandoverField{
					{Label: "client_id", Value: "11111111-2222-3333-4444-555555555555"},
					{Label: "secret", Value: "s3cr3t~value", Secret: true},
					{Label: "tenant", Value: "tttttttt-0000-0000-0000-000000000000"}}},
			}, nil
		},
	}
}

func givenFlags(flags ...string) Given {
	return func(f string) bool { return slices.Contains(flags, f) }
}

func mustProfile(t *testing.T, id string) *profile.Profile {
	t.Helper()
	p, err := profile.Builtin(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSetupEntitle walks the whole Entitle conversation with keys and
// checks the screens and the options the answers produce.
func TestSetupEntitle(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t, script: []answer{
		{want: []string{"Which product are you setting up?", "> Relution", "Entitle", "Just-in-time access management", "Another product, from a profile file"},
			keys: keys(down, down, enter)},
		{want: []string{"Which cloud is your tenant in?", "> Microsoft Entra ID (global service)", "US Government L5 (DoD)"}, keys: keys(enter)},
		{want: []string{"How do you want to sign in?", "> Device code (default)", "a code to enter on any device; works over SSH", "Azure CLI"}, keys: keys(up, enter)},
		{want: []string{"Display name of the app registration", "> Entitle"}, keys: keys(" JIT", enter)},
		{want: []string{"How long should the client secret be valid?", "> 1 year     until 2027-11-21  (Entitle's default)", "2 years"}, keys: keys(up, enter)},
		{want: []string{"Apply these changes to Contoso (contoso.onmicrosoft.com)?", "Apply", "Cancel"}, keys: keys("y")},
		{want: []string{"Leave? The client secret will not be shown again.", "Write the values to a file first (mode 0600)"}, keys: keys(enter)},
	}}
	w, out := testWizard(d)
	e := &fakeEngine{}
	a := &SetupAnswers{Cloud: "global"}
	res, err := w.Setup(context.Background(), a, givenFlags(), e.hooks())
	if err != nil {
		t.Fatal(err)
	}
	d.done()
	if res == nil || !e.applied {
		t.Fatal("not applied")
	}
	got := e.atApply
	if got.ProfileID != "entitle" || got.Profile == nil || got.Cloud != "global" || got.Auth != "browser" || got.Name != "Entitle JIT" || got.SecretExpiry != "6m" {
		t.Errorf("answers = profile %q cloud %q auth %q name %q expiry %q", got.ProfileID, got.Cloud, got.Auth, got.Name, got.SecretExpiry)
	}
	text := out.String()
	for _, want := range []string{
		"Signed in as admin@contoso.com to Contoso (contoso.onmicrosoft.com)",
		"Review — nothing has been changed yet",
		"Directory.ReadWrite.All (Microsoft Graph, application)",
		"Read and write directory data: Allows the app to read and write data in your",
		"create  client secret — valid 1 year",
		"✓ Create app registration \"Entitle\" — client ID\n  11111111-2222-3333-4444-555555555555",
		"… waiting for Entra to replicate the new service principal…",
		"✓ Create admin consent Microsoft Graph · Directory.ReadWrite.All",
		`"client_id": "11111111-2222-3333-4444-555555555555"`,
		`"secret": "s3cr3t~value"`,
		"The client secret is shown only this once",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript does not show %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "s3cr3t~value") != 1 {
		t.Errorf("the secret is shown %d times, want once", strings.Count(text, "s3cr3t~value"))
	}
	for _, l := range strings.Split(text, "\n") {
		if n := len([]rune(l)); n > 80 && !strings.Contains(l, "https://") {
			t.Errorf("line of %d characters does not fit 80 columns: %q", n, l)
		}
	}
}

// TestSetupSkipsWhatFlagsAnswered: a question is skipped exactly when its
// flag was given, even when the given value is the default (--cloud global).
func TestSetupSkipsWhatFlagsAnswered(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		given  []string
		a      SetupAnswers
		script []answer
		check  func(t *testing.T, a SetupAnswers)
	}{
		{
			name:  "everything given",
			given: []string{"profile", "cloud", "auth", "name", "secret-expiry", "yes"},
			a:     SetupAnswers{ProfileID: "entitle", Cloud: "global", Auth: "env", Name: "Entitle", SecretExpiry: "90d", Yes: true},
			script: []answer{
				{want: []string{"Leave?"}, keys: keys(enter)},
			},
			check: func(t *testing.T, a SetupAnswers) {
				if a.Cloud != "global" || a.Auth != "env" || a.SecretExpiry != "90d" {
					t.Errorf("flag values changed: %+v", a)
				}
			},
		},
		{
			name:  "cloud has a default but was not given",
			given: []string{"profile", "auth", "name", "secret-expiry", "yes"},
			a:     SetupAnswers{ProfileID: "entitle", Cloud: "global", Auth: "env", Name: "Entitle", SecretExpiry: "1y", Yes: true},
			script: []answer{
				{want: []string{"Which cloud is your tenant in?"}, keys: keys(down, down, enter)},
				{want: []string{"Leave?"}, keys: keys(enter)},
			},
			check: func(t *testing.T, a SetupAnswers) {
				if a.Cloud != "usgov-dod" {
					t.Errorf("cloud = %q, want usgov-dod", a.Cloud)
				}
			},
		},
		{
			name:  "relution server URL from the flag, confirmation still asked",
			given: []string{"profile", "cloud", "auth", "server-url"},
			a:     SetupAnswers{ProfileID: "relution", Cloud: "global", Auth: "env", Values: map[string][]string{"server-url": {"https://relution.contoso.com"}}},
			script: []answer{
				{want: []string{"Display name"}, keys: keys(enter)},
				{want: []string{"How long should the client secret be valid?"}, keys: keys(enter)},
				{want: []string{"Apply these changes"}, keys: keys(enter)},
				{want: []string{"Leave?"}, keys: keys(enter)},
			},
			check: func(t *testing.T, a SetupAnswers) {
				if got := a.Values["server-url"]; len(got) != 1 || got[0] != "https://relution.contoso.com" || a.Name != "Relution" || a.SecretExpiry != "1y" {
					t.Errorf("answers = %+v", a)
				}
			},
		},
		{
			name:  "sandbox signs itself in: no sign-in question",
			given: []string{"profile", "name", "secret-expiry", "cloud"},
			a:     SetupAnswers{ProfileID: "roger365", Cloud: "global", Name: "R", SecretExpiry: "6m", Sandbox: true},
			script: []answer{
				{want: []string{"Apply these changes"}, keys: keys("y")},
				{want: []string{"Leave?"}, keys: keys(enter)},
			},
			check: func(t *testing.T, a SetupAnswers) {
				if a.Auth != "" {
					t.Errorf("auth = %q, want unset", a.Auth)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &keyDriver{t: t, script: tc.script}
			w, out := testWizard(d)
			e := &fakeEngine{}
			a := tc.a
			a.Profile = mustProfile(t, a.ProfileID)
			if _, err := w.Setup(context.Background(), &a, givenFlags(tc.given...), e.hooks()); err != nil {
				t.Fatal(err)
			}
			d.done()
			tc.check(t, e.atApply)
			// What a flag answered is still in the transcript, marked as such.
			if slices.Contains(tc.given, "profile") && !strings.Contains(out.String(), "(--profile)") {
				t.Errorf("transcript does not say the product came from --profile:\n%s", out)
			}
		})
	}
}

// TestSetupCancel: Esc or Ctrl-C at any question leaves with ErrCancelled,
// and nothing is applied.
func TestSetupCancel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		script         []answer
		signedIn       bool
		reviewedBefore bool
	}{
		{"esc at the product", []answer{{want: []string{"Which product"}, keys: keys(esc)}}, false, false},
		{"ctrl-c at the cloud", []answer{{keys: keys(enter)}, {want: []string{"Which cloud"}, keys: keys(ctrlC)}}, false, false},
		{"esc at the display name after signing in", []answer{{keys: keys(down, down, enter)}, {keys: keys(enter)}, {keys: keys(enter)}, {want: []string{"Display name"}, keys: keys(esc)}}, true, false},
		{"cancel at the review", []answer{{keys: keys(down, down, enter)}, {keys: keys(enter)}, {keys: keys(enter)}, {keys: keys(enter)}, {keys: keys(enter)},
			{want: []string{"Apply these changes"}, keys: keys("n")}}, true, true},
		{"esc at the review", []answer{{keys: keys(down, down, enter)}, {keys: keys(enter)}, {keys: keys(enter)}, {keys: keys(enter)}, {keys: keys(enter)},
			{want: []string{"Apply these changes"}, keys: keys(esc)}}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &keyDriver{t: t, script: tc.script}
			w, _ := testWizard(d)
			e := &fakeEngine{}
			res, err := w.Setup(context.Background(), &SetupAnswers{Cloud: "global"}, givenFlags(), e.hooks())
			if !errors.Is(err, ErrCancelled) {
				t.Fatalf("err = %v, want ErrCancelled", err)
			}
			d.done()
			if res != nil || e.applied {
				t.Error("applied after a cancel")
			}
			if e.signedIn != tc.signedIn || e.reviewed != tc.reviewedBefore {
				t.Errorf("signed in %v, reviewed %v; want %v, %v", e.signedIn, e.reviewed, tc.signedIn, tc.reviewedBefore)
			}
		})
	}
	if ErrCancelled.Error() != "cancelled; nothing was changed in the tenant" {
		t.Errorf("the cancel sentence changed: %q", ErrCancelled)
	}
}

// TestRelutionServerURL: the server URL is checked as setup would (https)
// and against the tenant's verified domains when submitted; a rejected
// answer stays on screen with the reason, and a good one goes through.
func TestRelutionServerURL(t *testing.T) {
	t.Parallel()
	rejected := []struct{ typed, reason string }{
		{"http://relution.contoso.com", "uses http; it must be an https URL"},
		{"https://relution.example.org", "relution.example.org is not a verified domain of Contoso"},
		{"", "Relution server URL is required"},
	}
	for _, r := range rejected {
		t.Run(r.typed, func(t *testing.T) {
			t.Parallel()
			d := &keyDriver{t: t, script: []answer{
				{want: []string{"Display name"}, keys: keys(enter)},
				{want: []string{"Relution server URL", "verified domain", "https://relution.contoso.com"},
					keys:  keys(r.typed, enter),
					after: []string{r.reason},
					then:  keys(ctrlU, "https://relution.contoso.com/", enter)},
				{want: []string{"How long"}, keys: keys(enter)},
				{want: []string{"Apply"}, keys: keys(esc)},
			}}
			w, _ := testWizard(d)
			e := &fakeEngine{}
			a := &SetupAnswers{Profile: mustProfile(t, "relution"), ProfileID: "relution", Cloud: "global", Auth: "env"}
			if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth"), e.hooks()); !errors.Is(err, ErrCancelled) {
				t.Fatalf("err = %v", err)
			}
			d.done()
			if got := e.atReview.Values["server-url"]; len(got) != 1 || got[0] != "https://relution.contoso.com/" {
				t.Errorf("server-url = %v", got)
			}
			if !slices.Contains(e.verified, "https://relution.contoso.com/") {
				t.Errorf("the domain check saw %v", e.verified)
			}
		})
	}
}

// TestHire2RetireCertificateAndExchange: the optional feature is offered
// with its sentence, and the certificate is generated (the default, in
// ./<profile>-cert, as without the flags) or uploaded.
func TestHire2RetireCertificateAndExchange(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cer := filepath.Join(dir, "hire2retire.cer")
	if err := os.WriteFile(cer, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		cert  answer
		extra []answer
		check func(t *testing.T, a SetupAnswers)
	}{
		{"generate",
			answer{want: []string{"Which certificate should the app trust?", "> Generate a new key pair and certificate on this computer"}, keys: keys(enter)},
			[]answer{{want: []string{"Directory for the new key pair", "./hire2retire-cert"}, keys: keys(enter)}},
			func(t *testing.T, a SetupAnswers) {
				if a.CertificateOut != "./hire2retire-cert" || a.CertificateFile != "" {
					t.Errorf("certificate-out %q file %q", a.CertificateOut, a.CertificateFile)
				}
			}},
		{"upload with tab completion",
			answer{want: []string{"Which certificate", "Upload a certificate file"}, keys: keys(up, enter)},
			[]answer{{want: []string{"Certificate file", "Tab completes paths"},
				keys:  keys(filepath.Join(dir, "x.pem"), enter),
				after: []string{"x.pem is not a"},
				then:  keys(ctrlU, filepath.Join(dir, "hire"), tab, enter)}},
			func(t *testing.T, a SetupAnswers) {
				if a.CertificateFile != cer || a.CertificateOut != "" {
					t.Errorf("certificate-file %q out %q", a.CertificateFile, a.CertificateOut)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := []answer{
				{want: []string{"Display name", "> Hire2Retire"}, keys: keys(enter)},
				{want: []string{"Add Exchange Online?", "Lets Hire2Retire manage mailboxes in Exchange Online"}, keys: keys("y")},
				tc.cert,
			}
			script = append(script, tc.extra...)
			script = append(script, answer{want: []string{"Apply"}, keys: keys(esc)})
			d := &keyDriver{t: t, script: script}
			w, out := testWizard(d)
			e := &fakeEngine{}
			a := &SetupAnswers{Profile: mustProfile(t, "hire2retire"), ProfileID: "hire2retire", Cloud: "usgov-dod", Auth: "device-code"}
			if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth"), e.hooks()); !errors.Is(err, ErrCancelled) {
				t.Fatalf("err = %v", err)
			}
			d.done()
			if !slices.Equal(e.atReview.With, []string{"exchange"}) {
				t.Errorf("with = %v", e.atReview.With)
			}
			tc.check(t, e.atReview)
			if !strings.Contains(out.String(), "US Government L5 (DoD) (--cloud)") {
				t.Errorf("the transcript does not name the given cloud:\n%s", out)
			}
		})
	}
}

// TestExistingSecretAndShortfalls: an app that already has a valid secret
// is asked about, and missing privileges are explained with a choice.
func TestExistingSecretAndShortfalls(t *testing.T) {
	t.Parallel()
	base := []answer{{want: []string{"Display name"}, keys: keys(enter)}}
	t.Run("add a new secret, continue without consent rights", func(t *testing.T) {
		// The lifetime is asked after "Keep the existing secret?", and a
		// lifetime other than the default is reviewed again.
		d := &keyDriver{t: t, script: append(append([]answer(nil), base...),
			answer{want: []string{"Keep the existing client secret?", "…Xyz, expires 2027-01-01", "Keep it", "Add a new secret"}, keys: keys("n")},
			answer{want: []string{"How long", "> 1 year"}, keys: keys(up, enter)},
			answer{want: []string{"What now?", "> Create the app anyway"}, keys: keys(enter)},
			answer{want: []string{"Apply"}, keys: keys(enter)},
			answer{want: []string{"Leave?"}, keys: keys(enter)},
		)}
		w, out := testWizard(d)
		e := &fakeEngine{review: Review{Tenant: "Contoso", Steps: []string{"keep    client secret Xyz… — valid until 2027-01-01"}, ExistingSecret: "…Xyz, expires 2027-01-01",
			Shortfalls: []string{"consent to Microsoft Graph application permissions needs Privileged Role Administrator or Global Administrator; you have Application Administrator"}}}
		a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env"}
		if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth"), e.hooks()); err != nil {
			t.Fatal(err)
		}
		d.done()
		if !e.atApply.NewCredential {
			t.Error("NewCredential not set")
		}
		if e.reviews != 2 || e.atReview.SecretExpiry != "6m" {
			t.Errorf("%d reviews, the last with lifetime %q; want 2, the second with 6m", e.reviews, e.atReview.SecretExpiry)
		}
		if !strings.Contains(out.String(), "cannot do everything Entitle needs") || !strings.Contains(out.String(), "you have Application Administrator") {
			t.Errorf("shortfalls not explained:\n%s", out)
		}
		if !strings.Contains(out.String(), "create  client secret") || strings.Contains(out.String(), "keep    client secret") || e.reviews != 2 {
			t.Errorf("the review (%d) does not show the new plan:\n%s", e.reviews, out)
		}
	})
	t.Run("keep the secret, stop", func(t *testing.T) {
		// A kept secret needs no lifetime: not asked.
		d := &keyDriver{t: t, script: append(append([]answer(nil), base...),
			answer{want: []string{"Keep the existing client secret?"}, keys: keys(enter)},
			answer{want: []string{"What now?"}, keys: keys(down, enter)},
		)}
		w, _ := testWizard(d)
		e := &fakeEngine{review: Review{Tenant: "Contoso", ExistingSecret: "…Xyz, expires 2027-01-01", Shortfalls: []string{"no rights"}}}
		a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env"}
		_, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth"), e.hooks())
		if !errors.Is(err, ErrStopped) || e.applied {
			t.Fatalf("err = %v, applied %v", err, e.applied)
		}
		d.done()
		if a.NewCredential {
			t.Error("NewCredential set although the secret was kept")
		}
	})
}

// TestHandoverKeptSecret: when the secret was kept, the hand-over says the
// values lack it and offers no file: a file of them would look complete.
func TestHandoverKeptSecret(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t, script: []answer{
		{want: []string{"Keep the existing client secret?", "cannot be read back", "will then not include it"}, keys: keys(enter)},
	}}
	w, out := testWizard(d)
	e := &fakeEngine{keptSecret: true, review: Review{Tenant: "Contoso", ExistingSecret: "client secret Xyz… (key ID k1), expires 2027-11-21",
		Steps: []string{"keep  client secret Xyz… (key ID k1) — valid until 2027-11-21"}}}
	a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env", Name: "Entitle", SecretExpiry: "1y", Yes: true}
	if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth", "name", "secret-expiry", "yes"), e.hooks()); err != nil {
		t.Fatal(err)
	}
	d.done()
	text := out.String()
	if !strings.Contains(text, "do not include the client secret") || strings.Contains(text, "Write the values") || strings.Contains(text, "shown only this once") {
		t.Errorf("hand-over of a kept secret:\n%s", text)
	}
}

// TestAdoptKeepsName: with --app-id the app keeps its own name: the
// wizard does not ask for one.
func TestAdoptKeepsName(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t, script: []answer{{want: []string{"Leave?"}, keys: keys(enter)}}}
	w, out := testWizard(d)
	e := &fakeEngine{}
	a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env", SecretExpiry: "1y", Yes: true,
		AppID: "00001111-aaaa-2222-bbbb-3333cccc4444"}
	if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth", "secret-expiry", "yes", "app-id"), e.hooks()); err != nil {
		t.Fatal(err)
	}
	d.done()
	if e.atApply.Name != "" || !strings.Contains(out.String(), "Display name: the app's own (--app-id)") {
		t.Errorf("name %q\n%s", e.atApply.Name, out)
	}
}

// TestReviewProblems: a plan whose checks failed is shown with its
// problems and not applied (bad input, exit 2).
func TestReviewProblems(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t}
	w, out := testWizard(d)
	e := &fakeEngine{review: Review{Tenant: "Contoso", Steps: []string{"create  client secret"},
		Problems: []string{"--output-file /x is a directory; name a file, e.g. /x/result.json"}}}
	a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env", Name: "Entitle", SecretExpiry: "1y"}
	_, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth", "name", "secret-expiry"), e.hooks())
	var ie *InputError
	if !errors.As(err, &ie) || e.applied {
		t.Fatalf("err %v, applied %v", err, e.applied)
	}
	d.done()
	if !strings.Contains(out.String(), "Nothing was changed, because:") || !strings.Contains(out.String(), "is a directory") {
		t.Errorf("problems not shown:\n%s", out)
	}
}

// TestHandoverWritesFile: the values go to a 0600 file in the product's
// own format; an existing file is not overwritten.
func TestHandoverWritesFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	existing := filepath.Join(dir, "taken.json")
	if err := os.WriteFile(existing, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "entitle.json")
	d := &keyDriver{t: t, script: []answer{
		{want: []string{"Leave?", "> Leave: I have stored the values"}, keys: keys(down, enter)},
		{want: []string{"File for the values", "> entitle-connection.json"},
			keys:  keys(ctrlU, existing, enter),
			after: []string{"already exists"},
			then:  keys(ctrlU, path, enter)},
		{want: []string{"Leave?"}, keys: keys(enter)},
	}}
	w, out := testWizard(d)
	e := &fakeEngine{}
	a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env", Name: "Entitle", SecretExpiry: "1y", Yes: true}
	if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth", "name", "secret-expiry", "yes"), e.hooks()); err != nil {
		t.Fatal(err)
	}
	d.done()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	want := "{\n  \"client_id\": \"11111111-2222-3333-4444-555555555555\",\n  \"secret\": \"s3cr3t~value\",\n  \"tenant\": \"tttttttt-0000-0000-0000-000000000000\"\n}\n"
	if string(data) != want {
		t.Errorf("file = %q, want %q", data, want)
	}
	if kept, _ := os.ReadFile(existing); string(kept) != "keep" {
		t.Error("an existing file was overwritten")
	}
	if !strings.Contains(out.String(), "Wrote "+path+" (mode 0600)") {
		t.Errorf("no confirmation of the file:\n%s", out)
	}
	// Once written, the file offer is gone; leaving is the only choice.
	if last := d.screens[len(d.screens)-1]; strings.Contains(last, "Write the values") {
		t.Errorf("file offered again:\n%s", last)
	}
}

// goneWriter is a terminal that goes away (a dropped SSH session) once
// gone is set: every write fails from then on.
type goneWriter struct {
	bytes.Buffer
	gone bool
}

func (g *goneWriter) Write(p []byte) (int, error) {
	if g.gone {
		return 0, syscall.EIO
	}
	return g.Buffer.Write(p)
}

// TestHandoverTerminalGone: the terminal went away while the apply ran
// (SIGHUP); the hand-over cannot be shown, so it is not reported as
// shown (the secret stays undelivered for the next run to remove) and
// nothing more is asked.
func TestHandoverTerminalGone(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t}
	w, _ := testWizard(d)
	term := &goneWriter{}
	w.out.w = term
	e := &fakeEngine{}
	hooks := e.hooks()
	apply := hooks.Apply
	hooks.Apply = func(ctx context.Context, a *SetupAnswers, progress func(Event)) (*output.Result, error) {
		res, err := apply(ctx, a, progress)
		term.gone = true
		return res, err
	}
	shown := 0
	hooks.Shown = func(*output.Result) { shown++ }
	a := &SetupAnswers{Profile: mustProfile(t, "entitle"), ProfileID: "entitle", Cloud: "global", Auth: "env", Name: "Entitle", SecretExpiry: "1y", Yes: true}
	res, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth", "name", "secret-expiry", "yes"), hooks)
	if err != nil || res == nil || !res.HasSecret() {
		t.Fatalf("res %v: %v", res, err)
	}
	d.done()
	if shown != 0 {
		t.Errorf("the hand-over was reported shown %d times on a terminal that is gone", shown)
	}
	if strings.Contains(term.String(), "s3cr3t~value") {
		t.Errorf("the secret reached the terminal before it went away")
	}

	// On a terminal that stays, it is reported once.
	d = &keyDriver{t: t, script: []answer{{want: []string{"Leave?"}, keys: keys(enter)}}}
	w, _ = testWizard(d)
	hooks = e.hooks()
	hooks.Shown = func(*output.Result) { shown++ }
	if _, err := w.Setup(context.Background(), a, givenFlags("profile", "cloud", "auth", "name", "secret-expiry", "yes"), hooks); err != nil {
		t.Fatal(err)
	}
	d.done()
	if shown != 1 {
		t.Errorf("shown %d times, want once", shown)
	}
}

// TestUnifyAndProfileFile: a product from a profile file (validated as it
// is entered), several redirect URIs in one answer, and the account type
// where the profile allows a choice.
func TestUnifyAndProfileFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("id: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unify, err := os.ReadFile(filepath.Join("..", "internal", "profile", "builtin", "unify.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "myunify.yaml")
	if err := os.WriteFile(good, unify, 0o600); err != nil {
		t.Fatal(err)
	}
	d := &keyDriver{t: t, script: []answer{
		{want: []string{"Which product"}, keys: keys(up, enter)},
		{want: []string{"Profile file", "./myproduct.yaml"},
			keys:  keys(bad, enter),
			after: []string{"bad.yaml"},
			then:  keys(ctrlU, good, enter)},
		{want: []string{"Display name", "> Unify Integration"}, keys: keys(enter)},
		{want: []string{"Redirect URI", "Separate several with spaces", "https://app.unifyapps.com/oauth/callback"},
			keys: keys("https://app.unifyapps.com/oauth/callback https://eu.unifyapps.com/oauth/callback", enter)},
		{want: []string{"Who may sign in to the app?", "> Single tenant: accounts in this organization only (default)"}, keys: keys(down, enter)},
		{want: []string{"How long"}, keys: keys(enter)},
		{want: []string{"Apply"}, keys: keys(esc)},
	}}
	w, _ := testWizard(d)
	e := &fakeEngine{}
	if _, err := w.Setup(context.Background(), &SetupAnswers{Cloud: "global", Auth: "env"}, givenFlags("cloud", "auth"), e.hooks()); !errors.Is(err, ErrCancelled) {
		t.Fatalf("err = %v", err)
	}
	d.done()
	got := e.atReview
	if got.ProfileFile != good || got.ProfileID != "" || got.Profile == nil || got.Profile.ID != "unify" {
		t.Errorf("profile file %q id %q", got.ProfileFile, got.ProfileID)
	}
	if !slices.Equal(got.Values["redirect-uri"], []string{"https://app.unifyapps.com/oauth/callback", "https://eu.unifyapps.com/oauth/callback"}) {
		t.Errorf("redirect URIs %v", got.Values["redirect-uri"])
	}
	if got.Audience != "multi-tenant" {
		t.Errorf("audience %q", got.Audience)
	}
}
