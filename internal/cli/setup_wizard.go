package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/auth"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/exit"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
	"github.com/entra-link/entra-link/internal/setup"
	"github.com/entra-link/entra-link/wizard"
)

// wizardWanted decides whether setup runs as the interactive wizard. It
// does when a person can answer (stdin and stderr are terminals and
// --no-input is off), the run changes the tenant (not --dry-run), and there
// is something to ask: a missing value, or the confirmation (no --yes).
// Everything else keeps the flag path, which reports every missing flag.
func (o *SetupOptions) wizardWanted() bool {
	if o.DryRun || !o.f.IO.CanPrompt() {
		return false
	}
	return !o.Yes || len(o.missing()) > 0
}

// given reports whether a flag was given on the command line.
func (o *TenantOptions) given(name string) bool {
	return o.flags != nil && o.flags.Changed(name)
}

// accessible: --accessible, ACCESSIBLE=1, or a terminal that cannot redraw.
func (o *TenantOptions) accessible(f *Factory) bool {
	return o.Accessible || f.Getenv("ACCESSIBLE") != "" || f.Getenv("TERM") == "dumb"
}

// newWizard builds the wizard on stderr, once per run: its keyboard reader
// owns the terminal, so every question of a run (cloud, app, review) goes
// through the same one.
func newWizard(f *Factory, t *TenantOptions) *wizard.Wizard {
	if t.ui != nil {
		return t.ui
	}
	width, height := layout.Size(f.IO.ErrOut)
	t.ui = wizard.New(wizard.Config{
		In:         f.IO.In,
		Out:        f.IO.ErrOut,
		Accessible: t.accessible(f),
		Color:      f.IO.ColorEnabled(),
		// A --verbose trace shares stderr with the progress: plain lines.
		PlainProgress: t.Verbose,
		Width:         width,
		Height:        height,
		Now:           f.Now,
	})
	return t.ui
}

// wizardError maps the wizard's own outcomes to exit codes; errors from
// the hooks already carry theirs.
func wizardError(err error) error {
	var ie *wizard.InputError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wizard.ErrCancelled):
		return exit.WithCode(exit.Cancelled, err)
	case errors.Is(err, wizard.ErrStopped):
		return exit.WithCode(exit.Failed, err)
	case errors.As(err, &ie):
		return exit.UsageError(err)
	}
	return err
}

// answers copies the flags into the wizard's answers.
func (o *SetupOptions) answers() *wizard.SetupAnswers {
	r := o.Request()
	a := &wizard.SetupAnswers{
		ProfileID: o.ProfileID, ProfileFile: o.ProfileFile, Profile: o.Profile,
		Cloud: o.Cloud.Name, Auth: o.Auth, Name: o.Name, Values: r.Values,
		Audience: o.Audience, Credential: o.Credential, SecretExpiry: o.SecretExpiry,
		CertificateFile: o.CertificateFile, CertificateOut: o.CertificateOut,
		With: append([]string(nil), o.With...), NewCredential: o.NewCredential,
		Sandbox: o.Sandbox, Yes: o.Yes, AppID: o.AppID,
	}
	if !o.given("cloud") && !o.Cloud.Custom {
		// Pre-selected: the cloud used last.
		a.Cloud = lastCloud(o.f)
	}
	a.Delivery = o.delivery(o.f)
	return a
}

// fill copies the wizard's answers back into the flags: from here on the
// run is exactly the flag path's.
func (o *SetupOptions) fill(a *wizard.SetupAnswers) error {
	o.ProfileID, o.ProfileFile, o.Profile = a.ProfileID, a.ProfileFile, a.Profile
	if !o.Cloud.Custom && a.Cloud != "" {
		c, err := cloud.Lookup(a.Cloud)
		if err != nil {
			return exit.UsageError(err)
		}
		o.CloudName, o.Cloud = c.Name, c
	}
	o.Auth, o.Name = a.Auth, a.Name
	o.ServerURL, o.RedirectURIs, o.Inputs = "", nil, nil
	for id, vals := range a.Values {
		switch id {
		case "server-url":
			if len(vals) > 0 {
				o.ServerURL = vals[0]
			}
		case "redirect-uri":
			o.RedirectURIs = append([]string(nil), vals...)
		default:
			for _, v := range vals {
				o.Inputs = append(o.Inputs, id+"="+v)
			}
		}
	}
	o.Audience, o.Credential, o.SecretExpiry = a.Audience, a.Credential, a.SecretExpiry
	o.CertificateFile, o.CertificateOut = a.CertificateFile, a.CertificateOut
	o.With, o.NewCredential = append([]string(nil), a.With...), a.NewCredential
	return nil
}

func (o *TenantOptions) format() string {
	if o.Output == "" {
		return output.FormatText
	}
	return o.Output
}

// resultOnScreen: the text report is not printed on a terminal stdout;
// the hand-over screen (on stderr) shows it instead. Data formats and a
// redirected stdout still get the result there.
func (o *TenantOptions) resultOnScreen(f *Factory) bool {
	return o.OutputFile == "" && f.IO.IsStdoutTTY() && o.format() == output.FormatText
}

// delivery says where the result goes besides the hand-over screen.
func (o *TenantOptions) delivery(f *Factory) string {
	switch {
	case o.OutputFile != "":
		return o.OutputFile + " (mode 0600)"
	case !o.resultOnScreen(f):
		return "standard output (" + o.format() + ")"
	}
	return ""
}

// setupWizardRun is setup as a conversation: the wizard fills the options
// and drives the same phases as the flag path (resolve, sign in, preflight,
// apply).
func setupWizardRun(o *SetupOptions) error {
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	fl := &setupFlow{o: o}
	defer fl.close()
	ps := &progressSink{}
	var org graph.Organization
	orgKnown := false
	hooks := wizard.SetupHooks{
		AuthDefault:     auth.DefaultMethod(o.f.Getenv, runtime.GOOS),
		AuthUnavailable: authUnavailable(o.f),
		SignIn: func(ctx context.Context, a *wizard.SetupAnswers) (wizard.SignedIn, error) {
			if err := o.fill(a); err != nil {
				return wizard.SignedIn{}, err
			}
			if err := fl.signIn(ctx, ps.send); err != nil {
				return wizard.SignedIn{}, err
			}
			who, tenantOrg, known, err := whoAndWhere(ctx, fl.conn)
			org, orgKnown = tenantOrg, known
			return who, err
		},
		CheckDomain: func(raw string) error {
			if !orgKnown {
				return nil // preflight warns that it could not check
			}
			return checkVerifiedDomain(org, raw)
		},
		CheckCertificate: func(path string) (string, error) {
			c, err := certs.Load(path, o.f.Now())
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("thumbprint %s, expires %s", c.Thumbprint, c.NotAfter.Format("2006-01-02")), nil
		},
		Review: func(ctx context.Context, a *wizard.SetupAnswers) (*wizard.Review, error) {
			if err := o.fill(a); err != nil {
				return nil, err
			}
			spec, err := o.resolve()
			if err != nil {
				return nil, err
			}
			if fl.tenant == nil || !sameRequest(fl.spec, spec) {
				fl.spec = spec
				if err := fl.preflight(ctx); err != nil {
					return nil, err
				}
			}
			if err := fl.makePlan(); err != nil {
				return nil, err
			}
			return wizardReview(fl.plan, fl.tenant), nil
		},
		Apply: func(ctx context.Context, a *wizard.SetupAnswers, report func(wizard.Event)) (*output.Result, error) {
			if o.NewCredential != a.NewCredential {
				// The review was of another plan: plan again (the wizard
				// shows the review after its last answer, so this is rare).
				o.NewCredential = a.NewCredential
				if err := fl.makePlan(); err != nil {
					return nil, err
				}
			}
			if err := fl.checked(); err != nil {
				return nil, err
			}
			ps.set(func(ev setup.Event) {
				report(wizard.Event{Action: ev.Action, Target: ev.Target, Status: ev.Status, Detail: ev.Detail})
			})
			defer ps.set(nil)
			return o.applyQuietly(ctx, fl)
		},
		Shown: func(res *output.Result) {
			if fl.conn != nil {
				markDelivered(o.f, fl.conn.Journal, res, handoverScreen)
			}
		},
	}
	_, err := newWizard(o.f, &o.TenantOptions).Setup(ctx, o.answers(), o.given, hooks)
	return wizardError(err)
}

// applyQuietly runs the flag path's apply while the progress view owns
// the terminal.
func (o *SetupOptions) applyQuietly(ctx context.Context, fl *setupFlow) (*output.Result, error) {
	return quietly(o.f, &o.TenantOptions, func() (*output.Result, error) { return fl.apply(ctx) })
}

// quietly runs an apply while the progress view owns the terminal: what
// it would print on stderr is kept for the result's warnings, and the text
// report meant for a terminal stdout is left to the hand-over screen.
func quietly(f *Factory, t *TenantOptions, apply func() (*output.Result, error)) (*output.Result, error) {
	var notes syncBuffer
	errOut, out := f.IO.ErrOut, f.IO.Out
	f.IO.ErrOut = &notes
	if t.resultOnScreen(f) {
		f.IO.Out = io.Discard
	}
	res, err := func() (*output.Result, error) {
		// Restored even if apply panics: a secret rescued by Run must not
		// be written to the discarded stream.
		defer func() { f.IO.ErrOut, f.IO.Out = errOut, out }()
		return apply()
	}()
	for _, l := range strings.Split(strings.TrimSpace(notes.String()), "\n") {
		// "Wrote FILE" is said by the hand-over screen (Delivery).
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "Wrote ") && res != nil {
			res.Warnings = append(res.Warnings, strings.TrimPrefix(l, "entra-link: "))
		}
	}
	return res, err
}

// whoAndWhere makes the first Graph calls of a wizard run, where the
// sign-in really happens (browser, device code): who signed in, and the
// tenant with its verified domains (unknown without Organization.Read.All).
func whoAndWhere(ctx context.Context, conn *connection) (who wizard.SignedIn, org graph.Organization, known bool, err error) {
	id, err := conn.Graph.WhoAmI(ctx)
	if err != nil {
		return who, org, false, preflightError(err)
	}
	org, err = conn.Graph.Organization(ctx)
	switch {
	case err == nil:
		known = true
	case graph.IsForbidden(err):
		org = graph.Organization{ID: id.TenantID, DisplayName: "tenant " + id.TenantID}
	default:
		return who, org, false, preflightError(err)
	}
	who.Who = id.Name
	if who.Who == "" {
		who.Who = id.ObjectID
	}
	if id.AppOnly {
		who.Who = "the app " + who.Who
	}
	who.Tenant = signedInTenant(org)
	return who, org, known, nil
}

// progressSink forwards engine events to whoever shows them now.
type progressSink struct {
	mu sync.Mutex
	fn func(setup.Event)
}

func (p *progressSink) set(fn func(setup.Event)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn = fn
}

func (p *progressSink) send(ev setup.Event) {
	p.mu.Lock()
	fn := p.fn
	p.mu.Unlock()
	if fn != nil {
		fn(ev)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func signedInTenant(org graph.Organization) string {
	if d := org.InitialDomain(); d != "" {
		return org.DisplayName + " (" + d + ")"
	}
	return org.DisplayName
}

// checkVerifiedDomain says, as the server URL is entered, what preflight
// would refuse: Entra accepts an https identifier URI only on a verified
// domain of the tenant or a subdomain of one.
func checkVerifiedDomain(org graph.Organization, raw string) error {
	host := ""
	if u, err := url.Parse(strings.TrimSpace(raw)); err == nil {
		host = strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	}
	if host == "" {
		return nil // the URL check reports it
	}
	names := make([]string, 0, len(org.VerifiedDomains))
	for _, d := range org.VerifiedDomains {
		n := strings.ToLower(d.Name)
		if host == n || strings.HasSuffix(host, "."+n) {
			return nil
		}
		names = append(names, d.Name)
	}
	return fmt.Errorf("%s is not a verified domain of %s, and Entra accepts the URL only on one (or a subdomain of one): %s", host, org.DisplayName, strings.Join(names, ", "))
}

// sameRequest reports whether two specs ask the tenant the same
// questions, so that what preflight read still applies.
func sameRequest(a, b *profile.Spec) bool {
	return a != nil && b != nil && a.Profile == b.Profile && a.AppID == b.AppID && a.DisplayName == b.DisplayName &&
		slices.Equal(lookupTags(a.Tags), lookupTags(b.Tags))
}

// lookupTags are the tags preflight finds apps by: not the inputs tag,
// which only records what the URIs were made of.
func lookupTags(tags []string) []string {
	return slices.DeleteFunc(slices.Clone(tags), profile.IsInputsTag)
}

// wizardReview is the plan as the review page shows it: the same lines as
// the dry run and the flag path's confirmation, plus what the permissions
// and roles allow.
func wizardReview(p *setup.Plan, t *setup.Tenant) *wizard.Review {
	rv := &wizard.Review{Tenant: tenantName(t), Steps: p.Lines(), Shortfalls: p.Shortfalls(),
		Warnings: append([]string(nil), p.Warnings...), Problems: p.Problems()}
	if k := p.KeptSecret; k != nil {
		rv.ExistingSecret = fmt.Sprintf("%s, expires %s", k.Label(), k.End.UTC().Format("2006-01-02"))
	}
	for _, perm := range p.Spec.Permissions {
		rv.Permissions = append(rv.Permissions, wizard.Permission{Resource: perm.Resource, Name: perm.Name, Type: string(perm.Type), DisplayName: perm.DisplayName, Description: perm.Description})
	}
	for _, r := range p.Spec.Roles {
		rv.Roles = append(rv.Roles, wizard.Role{Name: r.Name, Description: r.Description})
	}
	return rv
}
