package wizard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"charm.land/huh/v2"

	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// RotateAnswers are the values of `entra-link rotate-secret` the wizard
// fills, field for field the flags of the same name.
type RotateAnswers struct {
	// AppID or Name selects the app (--app-id, --name).
	AppID        string
	Name         string
	SecretExpiry string
	RemoveOld    bool

	// Read-only facts about the run.

	// Yes: add the secret without the confirmation question.
	Yes bool
	// Delivery says where the result also goes (see SetupAnswers).
	Delivery string
}

// AppChoice is one app entra-link made, to pick from.
type AppChoice struct {
	Name     string
	ClientID string
	// Profile is the product profile its tags record ("" if none).
	Profile string
	// Expiry says which credential expires next, in words.
	Expiry string
	// Unavailable says why the app cannot be picked here ("" when it
	// can): pickers offer only valid choices.
	Unavailable string
}

// RotateReview is what a rotation will do, read before anything changes.
type RotateReview struct {
	// App names the app: `"Entitle" (client ID …)`.
	App     string
	Product string
	Tenant  string
	// Lifetime is the new secret's lifetime as a --secret-expiry value:
	// the one asked for, else the profile's default.
	Lifetime string
	// DefaultLifetime is the profile's ("" when the app has no profile).
	DefaultLifetime string
	// MaxLifetime bounds the choices ("2y").
	MaxLifetime string
	// Others are the app's other client secrets, in words.
	Others []string
	// Summary describes the rotation, one sentence a line.
	Summary  []string
	Warnings []string
}

// RotateHooks connect the wizard to the rotate-secret engine.
type RotateHooks struct {
	// SignIn signs in with the flags' cloud and method.
	SignIn func(ctx context.Context) (SignedIn, error)
	// ListApps lists the apps entra-link made in the tenant.
	ListApps func(ctx context.Context) ([]AppChoice, error)
	// Prepare finds the app and checks the answers; it changes nothing.
	Prepare func(ctx context.Context, a *RotateAnswers) (*RotateReview, error)
	// Apply adds the secret (and retires the old ones if asked).
	Apply func(ctx context.Context, a *RotateAnswers, progress func(Event)) (*output.Result, error)
	// Shown, when set, is told once the hand-over screen has shown the
	// result with the new secret.
	Shown func(*output.Result)
}

// Rotate asks what `entra-link rotate-secret` needs: which app (from the
// apps entra-link made, with their profile and credential expiry), the new
// secret's lifetime, and whether to retire the old secrets; then it
// confirms, applies and shows the hand-over screen.
func (w *Wizard) Rotate(ctx context.Context, a *RotateAnswers, given Given, h RotateHooks) (*output.Result, error) {
	w.say("%s — adds a new client secret to an app entra-link made, and hands it over.", w.st.bold("entra-link rotate-secret"))
	w.say("%s", w.st.dim("Esc or Ctrl-C leaves at any question. Nothing in your tenant changes before you confirm."))
	w.say("")
	who, err := h.SignIn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ErrCancelled
		}
		return nil, err
	}
	w.say("%s Signed in as %s to %s", w.st.green("✓"), who.Who, who.Tenant)
	w.say("")
	if err := w.askApp(ctx, a, given, h); err != nil {
		return nil, err
	}
	rv, err := h.Prepare(ctx, a)
	if err != nil {
		return nil, w.cancelled(ctx, err)
	}
	if given("secret-expiry") {
		w.answered("Lifetime", lifetimeLabel(a.SecretExpiry, w.cfg.Now), "--secret-expiry")
	} else {
		if err := w.askLifetime(ctx, a, rv); err != nil {
			return nil, err
		}
	}
	if len(rv.Others) > 0 {
		if given("remove-old") {
			w.answered("Old secrets", map[bool]string{true: "retire once the new one works", false: "keep"}[a.RemoveOld], "--remove-old")
		} else {
			w.say("")
			w.say("The app has %d other client secret(s):", len(rv.Others))
			for _, o := range rv.Others {
				w.say("  • %s", o)
			}
			if err := w.confirm(ctx, "Retire the old secrets once the new one works?",
				"entra-link first obtains a token with the new secret; only then are the old ones removed. Keep them while "+rv.Product+" still uses one, and retire them after switching (entra-link retire).",
				"Retire them", "Keep them", &a.RemoveOld); err != nil {
				return nil, err
			}
			w.chose("Old secrets", map[bool]string{true: "retire once the new one works", false: "keep"}[a.RemoveOld])
		}
	}
	// The answers change what the rotation does: read it again.
	if rv, err = h.Prepare(ctx, a); err != nil {
		return nil, w.cancelled(ctx, err)
	}
	header := []string{w.st.bold("Review — nothing has been changed yet")}
	var body []string
	for _, l := range rv.Summary {
		body = append(body, layout.Indent("  ", l, w.width())...)
	}
	for _, warn := range rv.Warnings {
		body = append(body, layout.Indent("  ", w.st.yellow("!")+" "+warn, w.width())...)
	}
	body = append(body, "")
	w.say("")
	if a.Yes {
		w.sayLines(header)
		w.sayLines(body)
	} else {
		ok := true
		if err := w.confirmScreen(ctx, header, body, "Add the new secret?", "Add it", "Cancel", &ok); err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrCancelled
		}
	}
	res, applyErr := w.apply(ctx, func(ctx context.Context, report func(Event)) (*output.Result, error) {
		return h.Apply(ctx, a, report)
	})
	w.handover(ctx, a.Delivery, res, h.Shown)
	return res, applyErr
}

// cancelled reports a hook error, or the cancel when the context ended.
func (w *Wizard) cancelled(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ErrCancelled
	}
	return err
}

// ErrNoApps is returned by a ListApps hook with nothing to pick from.
var ErrNoApps = errors.New("no apps made by entra-link in this tenant: set one up with entra-link setup, or name the app with --app-id")

func (w *Wizard) askApp(ctx context.Context, a *RotateAnswers, given Given, h RotateHooks) error {
	switch {
	case given("app-id") || a.AppID != "":
		w.answered("App", a.AppID, "--app-id")
		return nil
	case given("name") || a.Name != "":
		w.answered("App", a.Name, "--name")
		return nil
	}
	apps, err := h.ListApps(ctx)
	if err != nil {
		return w.cancelled(ctx, err)
	}
	app, err := w.PickApp(ctx, "Which app gets a new client secret?",
		"The apps entra-link made in this tenant: name, product profile, and the credential that expires next.", apps)
	if err != nil {
		return err
	}
	a.AppID = app.ClientID
	return nil
}

func (w *Wizard) askLifetime(ctx context.Context, a *RotateAnswers, rv *RotateReview) error {
	now := w.cfg.Now()
	maxLife, err := profile.ParseLifetime(rv.MaxLifetime)
	if err != nil {
		maxLife = profile.Lifetime{N: 2, Unit: 'y'}
	}
	def, _ := profile.ParseLifetime(rv.Lifetime)
	choices := []profile.Lifetime{}
	for _, l := range lifetimeChoices {
		if !l.Exceeds(maxLife, now) {
			choices = append(choices, l)
		}
	}
	if !def.IsZero() && !slices.ContainsFunc(choices, func(l profile.Lifetime) bool { return l.AddTo(now).Equal(def.AddTo(now)) }) {
		choices = append(choices, def)
		slices.SortFunc(choices, func(x, y profile.Lifetime) int { return x.AddTo(now).Compare(y.AddTo(now)) })
	}
	choice := ""
	opts := make([]huh.Option[string], 0, len(choices))
	for _, l := range choices {
		label := fmt.Sprintf("%-10s until %s", l.Human(), l.AddTo(now).Format("2006-01-02"))
		if !def.IsZero() && l.AddTo(now).Equal(def.AddTo(now)) {
			choice = l.String()
			if rv.DefaultLifetime != "" {
				label += "  (" + rv.Product + "'s default)"
			}
		}
		opts = append(opts, huh.NewOption(label, l.String()))
	}
	if choice == "" && len(choices) > 0 {
		choice = choices[len(choices)-1].String()
	}
	if err := w.choose(ctx, "How long should the new secret be valid?",
		rv.Product+" stops working when the secret expires; renew it before then.", opts, &choice); err != nil {
		return err
	}
	a.SecretExpiry = choice
	w.chose("Lifetime", lifetimeLabel(choice, w.cfg.Now))
	return nil
}

func lifetimeLabel(v string, now func() time.Time) string {
	l, err := profile.ParseLifetime(v)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%s (until %s)", l.Human(), l.AddTo(now()).Format("2006-01-02"))
}
