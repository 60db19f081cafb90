package wizard

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/entra-link/entra-link/internal/output"
)

type fakeRotation struct {
	apps     []AppChoice
	prepared []RotateAnswers
	applied  *RotateAnswers
}

func (f *fakeRotation) hooks() RotateHooks {
	return RotateHooks{
		SignIn: func(context.Context) (SignedIn, error) {
			return SignedIn{Who: "admin@contoso.com", Tenant: "Contoso (contoso.onmicrosoft.com)"}, nil
		},
		ListApps: func(context.Context) ([]AppChoice, error) { return f.apps, nil },
		Prepare: func(_ context.Context, a *RotateAnswers) (*RotateReview, error) {
			f.prepared = append(f.prepared, *a)
			life := a.SecretExpiry
			if life == "" {
				life = "1y"
			}
			return &RotateReview{App: `"Entitle" (client ID ` + a.AppID + `)`, Product: "Entitle", Tenant: "Contoso", Lifetime: life, DefaultLifetime: "1y", MaxLifetime: "2y",
				Others:  []string{"client secret abc… (key ID k1), expires 2027-01-01"},
				Summary: []string{"Add a new client secret to \"Entitle\", valid " + life + "."}}, nil
		},
		Apply: func(_ context.Context, a *RotateAnswers, progress func(Event)) (*output.Result, error) {
			c := *a
			f.applied = &c
			progress(Event{Action: "create", Target: "client secret for \"Entitle\"", Status: StatusDone})
			progress(Event{Action: "remove", Target: "client secret abc… (key ID k1)", Status: StatusDone, Detail: "removed"})
			return &output.Result{Profile: "entitle", Product: "Entitle", DisplayName: "Entitle", Title: "New client secret for Entitle", ClientSecret: "n3w",
				HandoverFormat: "json", Handover: &output.Handover{Fields: []output.HandoverField{{Label: "secret", Value: "n3w", Secret: true}}}}, nil
		},
	}
}

var twoApps = []AppChoice{
	{Name: "Relution", ClientID: "11111111-0000-0000-0000-000000000000", Profile: "relution", Expiry: "secret 2027-01-10 (in 50 days)"},
	{Name: "Entitle", ClientID: "22222222-0000-0000-0000-000000000000", Profile: "entitle", Expiry: "secret expired 2026-11-01 (20 days ago)"},
}

// TestRotatePicksAppAndRetires: the app is picked from the apps entra-link
// made (name, profile, expiry on screen), then lifetime and retirement.
func TestRotatePicksAppAndRetires(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t, script: []answer{
		{want: []string{"Which app gets a new client secret?", "> Relution  relution  secret 2027-01-10 (in 50 days)", "Entitle   entitle   secret expired 2026-11-01 (20 days ago)"}, keys: keys(down, enter)},
		{want: []string{"How long should the new secret be valid?", "> 1 year     until 2027-11-21  (Entitle's default)"}, keys: keys(up, up, enter)},
		{want: []string{"Retire the old secrets once the new one works?", "Retire them", "Keep them"}, keys: keys("y")},
		{want: []string{"Add the new secret?"}, keys: keys(enter)},
		{want: []string{"Leave? The client secret will not be shown again."}, keys: keys(enter)},
	}}
	w, out := testWizard(d)
	f := &fakeRotation{apps: twoApps}
	if _, err := w.Rotate(context.Background(), &RotateAnswers{}, givenFlags(), f.hooks()); err != nil {
		t.Fatal(err)
	}
	d.done()
	if f.applied == nil || f.applied.AppID != "22222222-0000-0000-0000-000000000000" || f.applied.SecretExpiry != "90d" || !f.applied.RemoveOld {
		t.Fatalf("applied %+v", f.applied)
	}
	// The review is read again with the answers.
	if last := f.prepared[len(f.prepared)-1]; last.SecretExpiry != "90d" || !last.RemoveOld {
		t.Errorf("last prepare %+v", last)
	}
	mustShow(t, out.String(), "✓ Signed in as admin@contoso.com", "client secret abc… (key ID k1), expires 2027-01-01",
		"Review — nothing has been changed yet", `Add a new client secret to "Entitle", valid 90d.`,
		"✓ Remove client secret abc… (key ID k1) — removed", "New client secret for Entitle")
}

// TestRotateSkipsWhatFlagsAnswered and leaves on Esc.
func TestRotateSkipsWhatFlagsAnswered(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t, script: []answer{
		{want: []string{"Add the new secret?"}, keys: keys(esc)},
	}}
	w, out := testWizard(d)
	f := &fakeRotation{apps: twoApps}
	a := &RotateAnswers{Name: "Entitle", SecretExpiry: "6m", RemoveOld: false}
	_, err := w.Rotate(context.Background(), a, givenFlags("name", "secret-expiry", "remove-old"), f.hooks())
	if !errors.Is(err, ErrCancelled) || f.applied != nil {
		t.Fatalf("err %v, applied %v", err, f.applied)
	}
	d.done()
	mustShow(t, out.String(), "App: Entitle (--name)", "Lifetime: 6 months (until 2027-05-21) (--secret-expiry)", "Old secrets: keep (--remove-old)")
}

func TestRotateNoApps(t *testing.T) {
	t.Parallel()
	d := &keyDriver{t: t}
	w, _ := testWizard(d)
	_, err := w.Rotate(context.Background(), &RotateAnswers{}, givenFlags(), (&fakeRotation{}).hooks())
	if !errors.Is(err, ErrNoApps) {
		t.Fatalf("err = %v", err)
	}
}

func mustShow(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the transcript does not show %q:\n%s", w, text)
		}
	}
}
