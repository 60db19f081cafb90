package wizard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"charm.land/huh/v2"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/layout"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Given reports whether the user gave a flag (by its long name, e.g.
// "cloud") on the command line. A given flag's question is skipped, even
// when its value equals the default.
type Given func(flag string) bool

// SetupAnswers are the values of `entra-link setup` the wizard fills, field
// for field the flags of the same name. The caller fills them from the flags
// first; the wizard asks only for what no flag answered.
type SetupAnswers struct {
	ProfileID   string
	ProfileFile string
	// Profile is the loaded profile (set by the caller when a flag named it).
	Profile *profile.Profile
	// Cloud is a --cloud value (canonical name).
	Cloud string
	// Auth is a --auth value; "" = the default.
	Auth string
	Name string
	// Values are the profile inputs by id (server-url, redirect-uri, …).
	Values          map[string][]string
	Audience        string
	Credential      string
	SecretExpiry    string
	CertificateFile string
	CertificateOut  string
	With            []string
	NewCredential   bool

	// Read-only facts about the run.

	// AppID is --app-id: an existing app is adopted and keeps its own
	// display name unless --name, so the name is not asked.
	AppID string
	// Sandbox: the emulated tenant signs itself in; no sign-in question.
	Sandbox bool
	// Yes: apply without the confirmation question.
	Yes bool
	// Delivery says where the result also goes ("standard output (json)",
	// "entitle.json (mode 0600)"); "" when the hand-over screen is the only
	// delivery.
	Delivery string
}

// SignedIn says who signed in, and to which tenant.
type SignedIn struct {
	// Who is the user (UPN) or, for an app-only sign-in, the app.
	Who string
	// Tenant names the tenant: "Contoso (contoso.onmicrosoft.com)".
	Tenant string
}

// Review is everything the review page lists before anything changes.
type Review struct {
	// Tenant is the tenant that will be changed.
	Tenant string
	// Steps are the plan, one plain line per step (action, target,
	// detail): the lines the dry run prints, and what the apply does.
	Steps []string
	// ExistingSecret is set when the plan keeps the app's valid client
	// secret: its hint and expiry. Answering for a new one plans again.
	ExistingSecret string
	// Permissions and Roles say what the plan's permissions and roles allow.
	Permissions []Permission
	Roles       []Role
	// Shortfalls say, in words, what the signed-in identity may not do.
	Shortfalls []string
	Warnings   []string
	// Problems are the plan's failed checks: the run cannot start.
	Problems []string
}

// Permission is one permission on the review page.
type Permission struct {
	Resource string // "Microsoft Graph"
	Name     string // "User.Read.All"
	// Type is "application" or "delegated".
	Type        string
	DisplayName string
	Description string
}

// Role is one directory role on the review page.
type Role struct {
	Name        string
	Description string
}

// SetupHooks connect the wizard to the setup engine.
type SetupHooks struct {
	// AuthDefault is the pre-selected sign-in method.
	AuthDefault string
	// AuthUnavailable says why a sign-in method cannot work on this
	// machine ("" when it can, or nil for all): such methods are not
	// offered.
	AuthUnavailable func(method string) string
	// SignIn signs in with a.Cloud and a.Auth.
	SignIn func(ctx context.Context, a *SetupAnswers) (SignedIn, error)
	// CheckDomain checks, without changing anything, that the URL's host
	// is a verified domain of the signed-in tenant.
	CheckDomain func(rawURL string) error
	// CheckCertificate loads a certificate file and describes it
	// ("thumbprint …, expires …").
	CheckCertificate func(path string) (string, error)
	// Review resolves the answers and reads the tenant (preflight).
	Review func(ctx context.Context, a *SetupAnswers) (*Review, error)
	// Apply changes the tenant, reporting each step. The result is
	// non-nil whenever anything was done, also together with an error.
	Apply func(ctx context.Context, a *SetupAnswers, progress func(Event)) (*output.Result, error)
	// Shown, when set, is told once the hand-over screen has shown the
	// result (with the new secret, if there is one).
	Shown func(*output.Result)
}

// ErrStopped is returned when the user stops after the preflight found
// missing privileges.
var ErrStopped = errors.New("stopped before changing anything: sign in as a Global Administrator or Privileged Role Administrator and run setup again")

// Setup asks what `entra-link setup` needs, signs in, shows the review,
// applies and shows the hand-over screen. It returns the result of the
// apply (nil when nothing was applied) and its error.
func (w *Wizard) Setup(ctx context.Context, a *SetupAnswers, given Given, h SetupHooks) (*output.Result, error) {
	if a.Values == nil {
		a.Values = map[string][]string{}
	}
	w.say("%s — sets up the Microsoft Entra app registration a product needs.", w.st.bold("entra-link setup"))
	w.say("%s", w.st.dim("Esc or Ctrl-C leaves at any question. Nothing in your tenant changes before you confirm."))
	w.say("")
	if err := w.askProduct(ctx, a, given); err != nil {
		return nil, err
	}
	if err := w.askCloud(ctx, a, given); err != nil {
		return nil, err
	}
	if err := w.askAuth(ctx, a, given, h.AuthDefault, h.AuthUnavailable); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ErrCancelled
	}
	who, err := h.SignIn(ctx, a)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ErrCancelled
		}
		return nil, err
	}
	w.say("%s Signed in as %s to %s", w.st.green("✓"), who.Who, who.Tenant)
	w.say("")
	if err := w.askInputs(ctx, a, given, h); err != nil {
		return nil, err
	}
	if err := w.askCredential(ctx, a, given, h); err != nil {
		return nil, err
	}
	w.say("")
	w.say("Checking the tenant (nothing is changed)…")
	rv, err := h.Review(ctx, a)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ErrCancelled
		}
		return nil, err
	}
	again := false
	if rv.ExistingSecret != "" && !given("new-credential") && !a.NewCredential {
		keep := true
		desc := fmt.Sprintf("The app already has a valid client secret (%s). Its value cannot be read back: keep it if %s already has it; the values shown at the end will then not include it.", rv.ExistingSecret, product(a))
		if err := w.confirm(ctx, "Keep the existing client secret?", desc, "Keep it", "Add a new secret", &keep); err != nil {
			return nil, err
		}
		a.NewCredential = !keep
		w.chose("Client secret", map[bool]string{true: "keep the existing one", false: "add a new one"}[keep])
		// Another credential step: plan again, and review that plan.
		again = !keep
	}
	// The lifetime matters only for a new secret: asked once it is known
	// that one will be added; the plan is made again if it changed.
	if needsSecret(a, rv) {
		asked := a.SecretExpiry
		if err := w.askSecretExpiry(ctx, a, given); err != nil {
			return nil, err
		}
		again = again || a.SecretExpiry != asked && !sameLifetime(a.SecretExpiry, asked, a.Profile, w.cfg.Now())
	}
	if again {
		if rv, err = h.Review(ctx, a); err != nil {
			if ctx.Err() != nil {
				return nil, ErrCancelled
			}
			return nil, err
		}
	}
	if len(rv.Problems) > 0 {
		w.say("")
		w.say("%s Nothing was changed, because:", w.st.red("✗"))
		for _, p := range rv.Problems {
			w.sayWrapped("    ", p)
		}
		return nil, &InputError{Question: "Review", Err: errors.New(strings.Join(rv.Problems, "; "))}
	}
	if len(rv.Shortfalls) > 0 {
		if err := w.askShortfalls(ctx, a, rv); err != nil {
			return nil, err
		}
	}
	header, body := w.reviewScreen(a, rv)
	w.say("")
	if a.Yes {
		w.sayLines(layoutLines(header, w.width()))
		w.sayLines(layoutLines(body, w.width()))
	} else {
		ok := true
		if err := w.confirmScreen(ctx, header, body, "Apply these changes to "+rv.Tenant+"?", "Apply", "Cancel", &ok); err != nil {
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
	if w.stopped && res != nil {
		w.say("Running the same setup again finishes the rest: it changes only what is missing.")
	}
	return res, applyErr
}

func product(a *SetupAnswers) string {
	if a.Profile != nil {
		return a.Profile.Product
	}
	return "the product"
}

// answered prints the value a flag gave, so the transcript is complete.
func (w *Wizard) answered(label, value, flag string) {
	w.chose(label, value+" "+w.st.dim("("+flag+")"))
}

// chose prints the answer to a question, continuing under the answer.
func (w *Wizard) chose(label, value string) {
	w.sayLines(layout.Hang(w.st.dim(label+":")+" ", strings.Repeat(" ", layout.StringWidth(label)+2), value, w.width()))
}

const otherProduct = "\x00file"

func (w *Wizard) askProduct(ctx context.Context, a *SetupAnswers, given Given) error {
	if a.Profile != nil && (given("profile") || given("profile-file")) {
		flag := "--profile"
		if given("profile-file") {
			flag = "--profile-file"
		}
		w.answered("Product", a.Profile.Product, flag)
		return nil
	}
	builtins := profile.Builtins()
	nameWidth := 0
	for _, p := range builtins {
		nameWidth = max(nameWidth, len([]rune(p.Product)))
	}
	descWidth := w.width() - nameWidth - 8
	opts := make([]huh.Option[string], 0, len(builtins)+1)
	for _, p := range builtins {
		label := fmt.Sprintf("%-*s  %s", nameWidth, p.Product, layout.Truncate(shortDescription(p.Description), descWidth))
		opts = append(opts, huh.NewOption(label, p.ID))
	}
	opts = append(opts, huh.NewOption("Another product, from a profile file (YAML)", otherProduct))
	choice := a.ProfileID
	if choice == "" {
		choice = builtins[0].ID
	}
	if err := w.choose(ctx, "Which product are you setting up?",
		"entra-link creates the app registration exactly as the product's own setup guide describes.", opts, &choice); err != nil {
		return err
	}
	if choice != otherProduct {
		p, err := profile.Builtin(choice)
		if err != nil {
			return fmt.Errorf("loading profile %s: %w", choice, err)
		}
		a.Profile, a.ProfileID, a.ProfileFile = p, p.ID, ""
		w.chose("Product", p.Product)
		return nil
	}
	path := a.ProfileFile
	var loaded *profile.Profile
	validate := func(s string) error {
		s = expandHome(strings.TrimSpace(s))
		if s == "" {
			return errors.New("enter the path of the profile file")
		}
		p, err := profile.LoadFile(s)
		if err != nil {
			return err
		}
		loaded = p
		return nil
	}
	if err := w.input(ctx, "Profile file", "A YAML profile describing the product's app registration (see docs/profiles.md). Tab completes paths.",
		"./myproduct.yaml", &path, validate, completePath); err != nil {
		return err
	}
	a.Profile, a.ProfileFile, a.ProfileID = loaded, expandHome(strings.TrimSpace(path)), ""
	w.chose("Product", loaded.Product+" (from "+a.ProfileFile+")")
	return nil
}

// shortDescription is a profile description's first clause.
func shortDescription(d string) string {
	if i := strings.IndexAny(d, ";("); i > 0 {
		d = d[:i]
	}
	return strings.TrimRight(strings.TrimSpace(d), ".,")
}

func (w *Wizard) askCloud(ctx context.Context, a *SetupAnswers, given Given) error {
	if given("authority-host") || given("graph-endpoint") {
		w.answered("Cloud", "custom endpoints", "--authority-host")
		return nil
	}
	current, err := cloud.Lookup(a.Cloud)
	if err != nil {
		current = cloud.Global
	}
	if given("cloud") {
		w.answered("Cloud", current.Title, "--cloud")
		return nil
	}
	choice, err := w.PickCloud(ctx, current.Name)
	if err != nil {
		return err
	}
	a.Cloud = choice
	return nil
}

// authMethods are the sign-in methods with one line on each.
var authMethods = []struct{ id, name, line string }{
	{"browser", "Browser", "your web browser on this computer"},
	{"device-code", "Device code", "a code to enter on any device; works over SSH"},
	{"azure-cli", "Azure CLI", "the account you signed in with: az login"},
	{"env", "Environment", "an app's secret from AZURE_CLIENT_ID/…_SECRET"},
	{"managed-identity", "Managed identity", "this Azure machine's own identity"},
}

func authName(id string) string {
	for _, m := range authMethods {
		if m.id == id {
			return m.name
		}
	}
	return id
}

func (w *Wizard) askAuth(ctx context.Context, a *SetupAnswers, given Given, def string, unavailable func(method string) string) error {
	if a.Sandbox {
		w.chose("Sign-in", "the sandbox's own administrator (an emulated tenant on this machine)")
		return nil
	}
	if given("auth") {
		w.answered("Sign-in", authName(a.Auth), "--auth")
		return nil
	}
	opts := make([]huh.Option[string], 0, len(authMethods))
	var left []string
	for _, m := range authMethods {
		if unavailable != nil && m.id != def {
			if why := unavailable(m.id); why != "" {
				left = append(left, m.name+" ("+why+")")
				continue
			}
		}
		name := m.name
		if m.id == def {
			name += " (default)"
		}
		opts = append(opts, huh.NewOption(layout.Truncate(fmt.Sprintf("%-22s %s", name, m.line), w.width()-6), m.id))
	}
	choice := a.Auth
	if choice == "" {
		choice = def
	}
	desc := "Sign in as an admin who may create app registrations and grant admin consent (Global Administrator or Privileged Role Administrator)."
	if len(left) > 0 {
		desc += " Not listed: " + strings.Join(left, "; ") + "."
	}
	if err := w.choose(ctx, "How do you want to sign in?", desc, opts, &choice); err != nil {
		return err
	}
	a.Auth = choice
	w.chose("Sign-in", authName(choice))
	return nil
}

func (w *Wizard) askInputs(ctx context.Context, a *SetupAnswers, given Given, h SetupHooks) error {
	p := a.Profile
	switch {
	case given("name") || strings.TrimSpace(a.Name) != "":
		w.answered("Display name", a.Name, "--name")
	case a.AppID != "":
		w.answered("Display name", "the app's own", "--app-id")
	default:
		name := p.DisplayName
		validate := func(s string) error {
			s = strings.TrimSpace(s)
			if len([]rune(s)) > 120 {
				return fmt.Errorf("the name is %d characters long; Entra allows at most 120", len([]rune(s)))
			}
			return nil
		}
		if err := w.input(ctx, "Display name of the app registration",
			"How the app appears in Entra (App registrations, Enterprise applications). Enter keeps the default.",
			p.DisplayName, &name, validate, nil); err != nil {
			return err
		}
		a.Name = strings.TrimSpace(name)
		if a.Name == "" {
			a.Name = p.DisplayName
		}
		w.chose("Display name", a.Name)
	}
	for _, in := range p.Inputs {
		if len(nonEmpty(a.Values[in.ID])) > 0 {
			w.answered(in.Label, strings.Join(a.Values[in.ID], " "), strings.TrimSuffix(in.Flag(), "=…"))
			continue
		}
		vals, err := w.askInput(ctx, p, in, h)
		if err != nil {
			return err
		}
		if len(vals) > 0 {
			a.Values[in.ID] = vals
			w.chose(in.Label, strings.Join(vals, " "))
		}
	}
	if len(p.Audience.Choices) > 1 {
		if given("audience") {
			w.answered("Account type", audienceName(a.Audience), "--audience")
		} else {
			choice := a.Audience
			if choice == "" {
				choice = p.Audience.Default
			}
			opts := make([]huh.Option[string], 0, len(p.Audience.Choices))
			for _, c := range p.Audience.Choices {
				label := audienceName(c)
				if c == p.Audience.Default {
					label += " (default)"
				}
				opts = append(opts, huh.NewOption(label, c))
			}
			if err := w.choose(ctx, "Who may sign in to the app?",
				"Single tenant: only accounts in your organization. Multi-tenant: accounts in any organization's Microsoft Entra ID.",
				opts, &choice); err != nil {
				return err
			}
			a.Audience = choice
			w.chose("Account type", audienceName(choice))
		}
	}
	if len(p.Features) > 0 {
		if given("with") {
			w.answered("Options", strings.Join(a.With, ", "), "--with")
		} else {
			var with []string
			for _, f := range p.Features {
				on := slices.Contains(a.With, f.ID)
				if err := w.confirm(ctx, "Add "+f.Title+"?", f.Description, "Add it", "No", &on); err != nil {
					return err
				}
				if on {
					with = append(with, f.ID)
				}
				w.chose(f.Title, map[bool]string{true: "yes", false: "no"}[on])
			}
			a.With = with
		}
	}
	return nil
}

func audienceName(a string) string {
	switch a {
	case profile.AudienceSingleTenant:
		return "Single tenant: accounts in this organization only"
	case profile.AudienceMultiTenant:
		return "Multi-tenant: accounts in any organization"
	}
	return a
}

// askInput asks for one profile input, validating as setup would and, for
// a server URL, checking its domain against the tenant's verified domains.
func (w *Wizard) askInput(ctx context.Context, p *profile.Profile, in profile.Input, h SetupHooks) ([]string, error) {
	list := in.Type == profile.InputURLList
	split := func(s string) []string {
		if !list {
			if t := strings.TrimSpace(s); t != "" {
				return []string{t}
			}
			return nil
		}
		return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	}
	validate := func(s string) error {
		vals := split(s)
		if len(vals) == 0 {
			if in.Required {
				return fmt.Errorf("%s is required", in.Label)
			}
			return nil
		}
		if err := validInput(p, in, vals, w.cfg.Now); err != nil {
			return err
		}
		if in.VerifiedDomain && h.CheckDomain != nil {
			for _, v := range vals {
				if err := h.CheckDomain(v); err != nil {
					return err
				}
			}
		}
		return nil
	}
	desc := in.Help
	if list {
		desc = strings.TrimSpace(desc + " Separate several with spaces.")
	}
	if !in.Required {
		desc = strings.TrimSpace(desc + " Optional: Enter skips it.")
	}
	var val string
	if err := w.input(ctx, in.Label, desc, in.Example, &val, validate, nil); err != nil {
		return nil, err
	}
	return split(val), nil
}

func (w *Wizard) askCredential(ctx context.Context, a *SetupAnswers, given Given, h SetupHooks) error {
	p := a.Profile
	cred := a.Credential
	if cred == "" {
		cred = p.Credential.Default
	}
	switch {
	case given("credential"):
		w.answered("Credential", credentialName(cred), "--credential")
	case len(p.Credential.Allowed) > 1:
		opts := make([]huh.Option[string], 0, len(p.Credential.Allowed))
		for _, c := range p.Credential.Allowed {
			label := credentialName(c)
			if c == p.Credential.Default {
				label += " (default)"
			}
			opts = append(opts, huh.NewOption(label, c))
		}
		if err := w.choose(ctx, "Which credential should the app get?", "", opts, &cred); err != nil {
			return err
		}
		a.Credential = cred
		w.chose("Credential", credentialName(cred))
	}
	switch cred {
	case profile.CredentialSecret:
		// Asked after the review has read the app: not at all when the
		// existing secret is kept.
		return nil
	case profile.CredentialCertificate:
		return w.askCertificate(ctx, a, given, h)
	}
	return nil
}

func credentialName(c string) string {
	switch c {
	case profile.CredentialSecret:
		return "client secret"
	case profile.CredentialCertificate:
		return "certificate"
	case profile.CredentialNone:
		return "none"
	}
	return c
}

// lifetimeChoices are the secret lifetimes offered, longest last.
var lifetimeChoices = []profile.Lifetime{{N: 90, Unit: 'd'}, {N: 6, Unit: 'm'}, {N: 1, Unit: 'y'}, {N: 18, Unit: 'm'}, {N: 2, Unit: 'y'}}

// needsSecret: the run adds a client secret (so its lifetime matters).
func needsSecret(a *SetupAnswers, rv *Review) bool {
	cred := a.Credential
	if cred == "" && a.Profile != nil {
		cred = a.Profile.Credential.Default
	}
	return cred == profile.CredentialSecret && (rv.ExistingSecret == "" || a.NewCredential)
}

// sameLifetime: two --secret-expiry values ("" is the profile's default)
// end on the same day.
func sameLifetime(x, y string, p *profile.Profile, now time.Time) bool {
	parse := func(s string) (profile.Lifetime, bool) {
		if s == "" {
			if p == nil {
				return profile.Lifetime{}, false
			}
			return p.Credential.SecretExpiry, true
		}
		l, err := profile.ParseLifetime(s)
		return l, err == nil
	}
	lx, okx := parse(x)
	ly, oky := parse(y)
	return okx && oky && lx.AddTo(now).Equal(ly.AddTo(now))
}

func (w *Wizard) askSecretExpiry(ctx context.Context, a *SetupAnswers, given Given) error {
	p := a.Profile
	now := w.cfg.Now()
	if given("secret-expiry") {
		label := a.SecretExpiry
		if l, err := profile.ParseLifetime(a.SecretExpiry); err == nil {
			label = fmt.Sprintf("%s (until %s)", l.Human(), l.AddTo(now).Format("2006-01-02"))
		}
		w.answered("Secret lifetime", label, "--secret-expiry")
		return nil
	}
	def := p.Credential.SecretExpiry
	choices := []profile.Lifetime{}
	for _, l := range lifetimeChoices {
		if p.Credential.MaxSecretExpiry.IsZero() || !l.Exceeds(p.Credential.MaxSecretExpiry, now) {
			choices = append(choices, l)
		}
	}
	if !def.IsZero() && !slices.ContainsFunc(choices, func(l profile.Lifetime) bool { return l.AddTo(now).Equal(def.AddTo(now)) }) {
		choices = append(choices, def)
		slices.SortFunc(choices, func(x, y profile.Lifetime) int { return x.AddTo(now).Compare(y.AddTo(now)) })
	}
	opts := make([]huh.Option[string], 0, len(choices))
	choice := ""
	for _, l := range choices {
		label := fmt.Sprintf("%-10s until %s", l.Human(), l.AddTo(now).Format("2006-01-02"))
		if !def.IsZero() && l.AddTo(now).Equal(def.AddTo(now)) {
			label += "  (" + p.Product + "'s default)"
			choice = l.String()
		}
		opts = append(opts, huh.NewOption(label, l.String()))
	}
	if a.SecretExpiry != "" {
		choice = a.SecretExpiry
	}
	desc := fmt.Sprintf("%s stops working when the secret expires; renew it before then with entra-link rotate-secret. Entra allows at most 2 years.", p.Product)
	if err := w.choose(ctx, "How long should the client secret be valid?", desc, opts, &choice); err != nil {
		return err
	}
	a.SecretExpiry = choice
	if l, err := profile.ParseLifetime(choice); err == nil {
		w.chose("Secret lifetime", fmt.Sprintf("%s (until %s)", l.Human(), l.AddTo(now).Format("2006-01-02")))
	}
	return nil
}

func (w *Wizard) askCertificate(ctx context.Context, a *SetupAnswers, given Given, h SetupHooks) error {
	switch {
	case given("certificate-file"):
		w.answered("Certificate", a.CertificateFile, "--certificate-file")
		return nil
	case given("certificate-out"):
		w.answered("Certificate", "generate a key pair in "+a.CertificateOut, "--certificate-out")
		return nil
	}
	return w.AskCertificate(ctx, a.Profile.Product, profile.DefaultCertificateOut(a.Profile), &a.CertificateFile, &a.CertificateOut, h.CheckCertificate)
}

// AskCertificate asks which certificate an app gets — a file to upload
// (checked by check, which returns a summary; nil checks nothing) or a key
// pair generated in a directory — and sets exactly one of file and out
// (--certificate-file, --certificate-out). Their values are the defaults;
// defaultDir is offered when out is empty.
func (w *Wizard) AskCertificate(ctx context.Context, product, defaultDir string, file, out *string, check func(string) (string, error)) error {
	// Without an answer, a key pair is generated in defaultDir, as
	// without --certificate-file or --certificate-out.
	how := "generate"
	if *file != "" {
		how = "upload"
	}
	opts := []huh.Option[string]{
		huh.NewOption("Upload a certificate file (e.g. the one "+product+" gave you)", "upload"),
		huh.NewOption("Generate a new key pair and certificate on this computer", "generate"),
	}
	if err := w.choose(ctx, "Which certificate should the app trust?",
		"Only the public certificate is uploaded to Entra. A generated private key stays on this computer (file mode 0600).",
		opts, &how); err != nil {
		return err
	}
	if how == "upload" {
		path := *file
		var summary string
		validate := func(s string) error {
			s = expandHome(strings.TrimSpace(s))
			if s == "" {
				return errors.New("enter the path of the certificate file (.cer, .crt, .pem)")
			}
			if check == nil {
				return nil
			}
			d, err := check(s)
			if err != nil {
				return err
			}
			summary = d
			return nil
		}
		if err := w.input(ctx, "Certificate file", "PEM or DER (.cer, .crt, .pem), public part only. Tab completes paths.",
			"./certificate.cer", &path, validate, completePath); err != nil {
			return err
		}
		*file, *out = expandHome(strings.TrimSpace(path)), ""
		label := *file
		if summary != "" {
			label += " (" + summary + ")"
		}
		w.chose("Certificate", label)
		return nil
	}
	dir := *out
	if dir == "" {
		dir = defaultDir
	}
	validate := func(s string) error {
		s = expandHome(strings.TrimSpace(s))
		if s == "" {
			return errors.New("enter a directory for the key pair")
		}
		if fi, err := os.Stat(s); err == nil && !fi.IsDir() {
			return fmt.Errorf("%s is a file, not a directory", s)
		}
		return nil
	}
	if err := w.input(ctx, "Directory for the new key pair", "The private key (0600), the certificate and a PFX are written there. Tab completes paths.",
		"", &dir, validate, completePath); err != nil {
		return err
	}
	*out, *file = expandHome(strings.TrimSpace(dir)), ""
	w.chose("Certificate", "generate a key pair in "+*out)
	return nil
}

func (w *Wizard) askShortfalls(ctx context.Context, a *SetupAnswers, rv *Review) error {
	w.say("")
	w.say("%s The signed-in identity cannot do everything %s needs:", w.st.yellow("!"), product(a))
	for _, s := range rv.Shortfalls {
		w.sayWrapped("    ", s)
	}
	if a.Yes {
		w.say("Continuing (--yes): the app is created and the result carries the admin-consent link.")
		return nil
	}
	choice := "continue"
	opts := []huh.Option[string]{
		huh.NewOption("Create the app anyway; I will send the admin-consent link to someone who can", "continue"),
		huh.NewOption("Stop here; nothing is changed", "stop"),
	}
	if err := w.choose(ctx, "What now?",
		"entra-link can create the app, its credential and everything you may do now; a Global Administrator or Privileged Role Administrator then grants the rest with one link.",
		opts, &choice); err != nil {
		return err
	}
	if choice == "stop" {
		return ErrStopped
	}
	return nil
}

// reviewScreen is the review page: the plan, step by step, before
// anything changes. The header (title and tenant) stays on screen while
// the body scrolls.
func (w *Wizard) reviewScreen(_ *SetupAnswers, rv *Review) (header, body []string) {
	header = []string{
		w.st.bold("Review — nothing has been changed yet"),
		"  " + w.st.dim("Tenant") + "  " + rv.Tenant,
	}
	for _, l := range rv.Steps {
		body = append(body, "  "+l)
	}
	if len(rv.Permissions) > 0 {
		body = append(body, "", w.st.bold("What the permissions allow"))
		for _, p := range rv.Permissions {
			body = append(body, "  • "+p.Name+" "+w.st.dim("("+p.Resource+", "+p.Type+")"))
			text := p.DisplayName
			if p.Description != "" {
				text += ": " + p.Description
			}
			for _, l := range layout.Wrap(text, w.width()-4) {
				body = append(body, "    "+w.st.dim(l))
			}
		}
	}
	if len(rv.Roles) > 0 {
		body = append(body, "", w.st.bold("What the directory roles allow"))
		for _, r := range rv.Roles {
			body = append(body, "  • "+r.Name)
			if r.Description != "" {
				for _, l := range layout.Wrap(r.Description, w.width()-4) {
					body = append(body, "    "+w.st.dim(l))
				}
			}
		}
	}
	for _, warn := range rv.Warnings {
		body = append(body, "")
		body = append(body, layout.Indent("  ", w.st.yellow("!")+" "+warn, w.width())...)
	}
	return header, append(body, "")
}

func nonEmpty(v []string) []string {
	var out []string
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}
