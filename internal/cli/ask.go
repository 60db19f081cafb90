package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/securefile"
	"github.com/entra-link/entra-link/internal/setup"
	"github.com/entra-link/entra-link/wizard"
)

// askCloud asks which cloud the tenant is in when a person can answer and
// no flag said (--cloud, or custom endpoints): a GCC High admin must not be
// sent to the global cloud in silence. The cloud used last is pre-selected.
func (o *TenantOptions) askCloud(ctx context.Context, f *Factory) error {
	if o.given("cloud") || o.Cloud.Custom || !f.IO.CanPrompt() {
		return nil
	}
	name, err := newWizard(f, o).PickCloud(ctx, lastCloud(f))
	if err != nil {
		return wizardError(err)
	}
	c, err := cloud.Lookup(name)
	if err != nil {
		return exit.UsageError(err)
	}
	o.CloudName, o.Cloud = c.Name, c
	return nil
}

// lastState is what entra-link remembers between runs: no secrets, only
// the answers worth pre-selecting.
type lastState struct {
	Cloud string `json:"cloud,omitempty"`
}

// stateFile is where lastState is kept: $XDG_STATE_HOME/entra-link (or
// ~/.local/state/entra-link, or %LOCALAPPDATA%\entra-link); "" when there
// is no home to keep it in.
func stateFile(f *Factory) string {
	switch {
	case f.Getenv("XDG_STATE_HOME") != "":
		return filepath.Join(f.Getenv("XDG_STATE_HOME"), "entra-link", "last.json")
	case f.Getenv("HOME") != "":
		return filepath.Join(f.Getenv("HOME"), ".local", "state", "entra-link", "last.json")
	case f.Getenv("LOCALAPPDATA") != "":
		return filepath.Join(f.Getenv("LOCALAPPDATA"), "entra-link", "last.json")
	}
	return ""
}

// lastCloud is the cloud of the last run a person answered, or global.
func lastCloud(f *Factory) string {
	path := stateFile(f)
	if path == "" {
		return cloud.Global.Name
	}
	fh, err := os.Open(path)
	if err != nil {
		return cloud.Global.Name
	}
	defer func() { _ = fh.Close() }()
	var st lastState
	if err := json.NewDecoder(io.LimitReader(fh, 4096)).Decode(&st); err != nil {
		return cloud.Global.Name
	}
	if c, err := cloud.Lookup(st.Cloud); err == nil {
		return c.Name
	}
	return cloud.Global.Name
}

// rememberCloud keeps the cloud of a run that signed in to a real tenant
// where a person could answer, to pre-select it next time. Scripts and the
// sandbox leave nothing behind. It is best effort: failing to remember
// never fails the run.
func rememberCloud(f *Factory, t *TenantOptions) {
	if t.Sandbox || t.Cloud.Custom || t.Cloud.Name == "" || !f.IO.CanPrompt() {
		return
	}
	path := stateFile(f)
	if path == "" || lastCloud(f) == t.Cloud.Name && fileExists(path) {
		return
	}
	data, err := json.Marshal(lastState{Cloud: t.Cloud.Name})
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	_ = securefile.WriteFile(path, append(data, '\n'), true)
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// pickApp lists the apps entra-link made and asks which one, with the
// picker every command uses. unavailable says why an app cannot be picked
// here ("" when it can).
func pickApp(ctx context.Context, f *Factory, t *TenantOptions, list *setup.AppList, title, description string, unavailable func(setup.AppSummary) string) (string, error) {
	apps := make([]wizard.AppChoice, 0, len(list.Apps))
	for _, a := range list.Apps {
		c := wizard.AppChoice{Name: a.DisplayName, ClientID: a.ClientID, Profile: a.Profile, Expiry: expiryText(a.NearestExpiry)}
		if unavailable != nil {
			c.Unavailable = unavailable(a)
		}
		apps = append(apps, c)
	}
	app, err := newWizard(f, t).PickApp(ctx, title, description, apps)
	switch {
	case errors.Is(err, wizard.ErrNoApps):
		return "", exit.UsageError(err)
	case err != nil:
		return "", wizardError(err)
	}
	return app.ClientID, nil
}

// confirmScreen shows what a command is about to do (header and body,
// lines laid out by hand) and asks; on a terminal that is too small the
// body scrolls under the header. Without a person to answer, the screen
// is printed and yes is assumed (the caller checked --yes).
func confirmScreen(ctx context.Context, f *Factory, t *TenantOptions, header, body []string, question, yes, no string, def bool) (bool, error) {
	if !f.IO.CanPrompt() {
		sayLines(f.IO.ErrOut, append(append([]string(nil), header...), body...)...)
		return true, nil
	}
	ok, err := newWizard(f, t).ConfirmScreen(ctx, header, body, question, yes, no, def)
	if err != nil {
		return false, wizardError(err)
	}
	return ok, nil
}

// width is the terminal width of stderr, where screens are drawn.
func width(f *Factory) int { return layout.Width(f.IO.ErrOut) }

// secretUnavailable: rotate-secret cannot give a client secret to an app
// whose product authenticates otherwise (Hire2Retire: a certificate).
func secretUnavailable(a setup.AppSummary) string {
	if a.Profile == "" {
		return ""
	}
	p, err := profile.Builtin(a.Profile)
	if err != nil || p.AllowsCredential(profile.CredentialSecret) {
		return ""
	}
	return p.Product + " authenticates with a " + p.Credential.Default + ", not a client secret"
}

// verifyUnavailable: verify needs the app's profile, recorded on it or
// given with --profile / --profile-file.
func verifyUnavailable(given *profile.Profile) func(setup.AppSummary) string {
	return func(a setup.AppSummary) string {
		if given != nil || a.Profile != "" {
			return ""
		}
		return "no product profile recorded on it; name it with --app-id and give --profile"
	}
}

// authUnavailable says why a sign-in method cannot work here: the picker
// offers only the ones that can.
func authUnavailable(f *Factory) func(string) string {
	return func(method string) string {
		switch method {
		case "env":
			if f.Getenv("AZURE_CLIENT_ID") == "" {
				return "AZURE_CLIENT_ID is not set"
			}
		case "azure-cli":
			if _, err := exec.LookPath("az"); err != nil {
				return "the az command is not installed"
			}
		}
		return ""
	}
}
