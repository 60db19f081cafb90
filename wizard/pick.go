package wizard

import (
	"context"
	"fmt"
	"strings"

	"charm.land/huh/v2"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/layout"
)

// Choice is one answer a picker offers.
type Choice struct {
	Label string
	Value string
}

// Pick asks for one of choices with the picker every command uses: a list
// to move through with ↑/↓ on a terminal, numbered lines in accessible
// mode (where the pre-selected one says "(default)"). def is pre-selected;
// the first choice when def is not among them.
func (w *Wizard) Pick(ctx context.Context, title, description string, choices []Choice, def string) (string, error) {
	opts := make([]huh.Option[string], 0, len(choices))
	found := false
	limit := w.width() - 6
	if w.cfg.Accessible {
		// The numbered line is "12. label (default)".
		limit = w.width() - len(fmt.Sprintf("%d. ", len(choices))) - len(" (default)")
	}
	for _, c := range choices {
		opts = append(opts, huh.NewOption(layout.Truncate(c.Label, limit), c.Value))
		found = found || c.Value == def
	}
	if !found && len(choices) > 0 {
		def = choices[0].Value
	}
	if err := w.choose(ctx, title, description, opts, &def); err != nil {
		return "", err
	}
	return def, nil
}

// Confirm asks a yes/no question; def is the pre-selected answer.
func (w *Wizard) Confirm(ctx context.Context, title, description, yes, no string, def bool) (bool, error) {
	err := w.confirm(ctx, title, description, yes, no, &def)
	return def, err
}

// Say prints text that stays on screen, wrapped to the terminal.
func (w *Wizard) Say(text string) { w.say("%s", text) }

// Chose prints the answer to a question ("App: Entitle (client ID …)"), as
// the wizard's own questions leave it.
func (w *Wizard) Chose(label, value string) { w.chose(label, value) }

// PickApp asks which of apps. An app with Unavailable set is not offered:
// the description says which ones were left out and why. It returns
// ErrNoApps when none can be picked.
func (w *Wizard) PickApp(ctx context.Context, title, description string, apps []AppChoice) (AppChoice, error) {
	var ok []AppChoice
	var left []string
	for _, a := range apps {
		if a.Unavailable != "" {
			left = append(left, a.Name+" ("+a.Unavailable+")")
			continue
		}
		ok = append(ok, a)
	}
	if len(ok) == 0 {
		if len(left) > 0 {
			return AppChoice{}, &noUsableApp{left: left}
		}
		return AppChoice{}, ErrNoApps
	}
	if len(left) > 0 {
		description = strings.TrimSpace(description + " Not listed: " + strings.Join(left, "; ") + ".")
	}
	nameW, profW := 4, 1
	for _, a := range ok {
		nameW = max(nameW, layout.StringWidth(a.Name))
		profW = max(profW, layout.StringWidth(a.Profile))
	}
	nameW = min(nameW, 28)
	choices := make([]Choice, 0, len(ok))
	for _, a := range ok {
		prof := a.Profile
		if prof == "" {
			prof = "–"
		}
		label := layout.Pad(layout.Truncate(a.Name, nameW), nameW) + "  " + layout.Pad(prof, profW) + "  " + a.Expiry
		choices = append(choices, Choice{Label: label, Value: a.ClientID})
	}
	id, err := w.Pick(ctx, title, description, choices, ok[0].ClientID)
	if err != nil {
		return AppChoice{}, err
	}
	for _, a := range ok {
		if a.ClientID == id {
			w.chose("App", fmt.Sprintf("%s (client ID %s)", a.Name, a.ClientID))
			return a, nil
		}
	}
	return AppChoice{}, ErrNoApps
}

// PickCloud asks which national cloud the tenant is in; current is
// pre-selected (the one used last). It returns the cloud's name.
func (w *Wizard) PickCloud(ctx context.Context, current string) (string, error) {
	c, err := cloud.Lookup(current)
	if err != nil {
		c = cloud.Global
	}
	choices := make([]Choice, 0, 4)
	for _, cl := range cloud.All() {
		choices = append(choices, Choice{Label: cl.Title, Value: cl.Name})
	}
	name, err := w.Pick(ctx, "Which cloud is your tenant in?",
		"Most tenants are in the global service. US Government and China tenants live in separate national clouds with their own sign-in.",
		choices, c.Name)
	if err != nil {
		return "", err
	}
	picked, _ := cloud.Lookup(name)
	w.chose("Cloud", picked.Title)
	return picked.Name, nil
}

// noUsableApp: entra-link made apps, but none of them can be picked here.
type noUsableApp struct{ left []string }

func (e *noUsableApp) Error() string {
	return "none of the apps entra-link made can be used here: " + strings.Join(e.left, "; ")
}

func (e *noUsableApp) Is(target error) bool { return target == ErrNoApps }
