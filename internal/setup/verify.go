package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// Check statuses of verify.
const (
	CheckOK      = "ok"
	CheckProblem = "problem"
	CheckWarning = "warning"
)

// Check is one line of verify's checklist.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Kind is what the check is about: a plan step's kind, "credential",
	// "input" or "profile".
	Kind string `json:"kind,omitempty"`
	// Short says what is wrong in a few words ("missing admin consent",
	// "secret expires in 10d"), for one-line-per-app listings.
	Short string `json:"short,omitempty"`
	// Fix is the command (or, where no command can, the portal path) that
	// resolves a problem or warning.
	Fix string `json:"fix,omitempty"`
}

// VerifyRequest is what verify was asked to check.
type VerifyRequest struct {
	Selector
	// Profile, when set, replaces the profile recorded on the app.
	Profile *profile.Profile
	// ProfileFile is where Profile was read from ("" for a built-in), so
	// that fix commands name it.
	ProfileFile string
	// WarnDays flags credentials that expire within this many days.
	WarnDays int
	// FixArgs are appended to every fix command: the flags that select
	// this run's tenant and cloud.
	FixArgs []string
	Sandbox bool
	// Values are the profile inputs to check the app against (--server-url,
	// --redirect-uri, --input), by input id; the others are the ones setup
	// applied, read back from the app.
	Values map[string][]string
}

// AppRef identifies the checked app in the report.
type AppRef struct {
	DisplayName         string   `json:"displayName"`
	ClientID            string   `json:"clientId"`
	ApplicationObjectID string   `json:"applicationObjectId"`
	ServicePrincipalID  string   `json:"servicePrincipalId,omitempty"`
	Tags                []string `json:"tags"`
}

// Report is verify's outcome: JSON as is, text through the CLI's renderer.
// Its checks are the steps of the plan setup would make for the app, read
// only: a healthy app's plan has only keep steps.
type Report struct {
	Sandbox    bool     `json:"sandbox,omitempty"`
	Cloud      string   `json:"cloud"`
	TenantID   string   `json:"tenantId,omitempty"`
	TenantName string   `json:"tenantName,omitempty"`
	App        AppRef   `json:"app"`
	Profile    string   `json:"profile"`
	Product    string   `json:"product,omitempty"`
	Features   []string `json:"features,omitempty"`
	WarnDays   int      `json:"warnDays"`
	Healthy    bool     `json:"healthy"`
	Checks     []Check  `json:"checks"`
	// Problems are the failed checks as "name: detail".
	Problems []string `json:"problems"`
	// Warnings are the checks to look at that do not make the app unhealthy.
	Warnings []string `json:"warnings,omitempty"`
	// Plan is the plan the checks come from.
	Plan []output.Step `json:"plan"`
}

// appProfile returns the profile an app is checked or handed over with:
// override, else the built-in profile its tags record. The string is a
// sentence for the user when there is none.
func appProfile(f *FoundApp, override *profile.Profile) (*profile.Profile, string) {
	if override != nil {
		return override, ""
	}
	if f.ProfileID == "" {
		if f.Tagged {
			return nil, fmt.Sprintf("%s carries the entra-link tag but records no profile", f.Label())
		}
		return nil, fmt.Sprintf("%s was not made by entra-link: it carries no entra-link tags, so its product profile is unknown", f.Label())
	}
	p, err := profile.Builtin(f.ProfileID)
	if err != nil {
		return nil, fmt.Sprintf("%s was made with profile %q, which is not a built-in profile (a --profile-file one)", f.Label(), f.ProfileID)
	}
	return p, ""
}

// profileFeatures are the app's recorded features that p knows.
func profileFeatures(p *profile.Profile, recorded []string) (known, unknown []string) {
	for _, f := range recorded {
		if _, ok := p.Feature(f); ok {
			if !slices.Contains(known, f) {
				known = append(known, f)
			}
		} else {
			unknown = append(unknown, f)
		}
	}
	sort.Strings(known)
	return known, unknown
}

// expectedGrants are the permissions and roles p asks for with features on.
func expectedGrants(p *profile.Profile, features []string) ([]profile.Permission, []profile.Role) {
	var perms []profile.Permission
	for _, x := range p.Permissions {
		if x.Feature == "" || slices.Contains(features, x.Feature) {
			perms = append(perms, x)
		}
	}
	var roles []profile.Role
	for _, r := range p.DirectoryRoles {
		if r.Feature == "" || slices.Contains(features, r.Feature) {
			roles = append(roles, r)
		}
	}
	return perms, roles
}

func templateRef(id string) string { return "{{" + id + "}}" }

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSuffix(x, "/"), strings.TrimSuffix(v, "/")) {
			return true
		}
	}
	return false
}

// inferValues recovers the profile inputs that went into the app's URIs
// (Relution's server URL is its identifier and redirect URI, Unify's
// redirect URIs are its web redirect URIs), for checks, fix commands and
// hand-over templates.
func inferValues(p *profile.Profile, app graph.Application) map[string][]string {
	out := map[string][]string{}
	for _, in := range p.Inputs {
		ref := templateRef(in.ID)
		idRef := slices.Contains(p.IdentifierURIs, ref)
		rdRef := slices.Contains(p.Web.RedirectURIs, ref)
		var cands []string
		switch {
		case idRef && rdRef:
			// Both come from the same value: prefer one that is in both lists.
			for _, u := range app.IdentifierURIs {
				if containsFold(app.Web.RedirectURIs, u) {
					cands = append(cands, u)
				}
			}
			if len(cands) == 0 {
				cands = app.IdentifierURIs
			}
			if len(cands) == 0 {
				cands = app.Web.RedirectURIs
			}
		case idRef:
			cands = app.IdentifierURIs
		case rdRef:
			cands = app.Web.RedirectURIs
		}
		if in.Type != profile.InputURLList && len(cands) > 1 {
			cands = cands[:1]
		}
		if len(cands) > 0 {
			out[in.ID] = append([]string(nil), cands...)
		}
	}
	return out
}

// appliedValues are the inputs setup applied to the app: the values read
// back from its URIs (inferValues); when the app records a fingerprint of
// them (profile.TagInputsPrefix), the ones among its URIs that match it,
// so that a URI added after setup is not taken for an input. changed
// reports a fingerprint that none of them match: the URIs setup put there
// were replaced.
func appliedValues(p *profile.Profile, app graph.Application) (values map[string][]string, changed bool) {
	values = inferValues(p, app)
	tag := profile.InputsTagOf(app.Tags)
	if tag == "" || profile.InputsTag(p, values) == tag {
		return values, false
	}
	m, complete := matchInputs(p, app, tag)
	switch {
	case m != nil:
		return m, false
	case !complete:
		// Too many URIs to search: read back as before the fingerprint.
		return values, false
	}
	return values, true
}

// maxInputCandidates and maxInputTries bound the search of matchInputs
// (2^n subsets of a list's candidates, for each input).
const (
	maxInputCandidates = 12
	maxInputTries      = 1 << 14
)

// matchInputs finds the values among the app's URIs whose fingerprint is
// tag: for a list input any subset of its candidates, for a single one
// any candidate (an optional one may have had none). nil when none does;
// complete is false when the search gave up before it could say.
func matchInputs(p *profile.Profile, app graph.Application, tag string) (values map[string][]string, complete bool) {
	ids := profile.URIInputs(p)
	options := make([][][]string, len(ids))
	for i, id := range ids {
		in, _ := p.Input(id)
		ref := templateRef(id)
		var cands []string
		add := func(list []string) {
			for _, u := range list {
				if !slices.Contains(cands, u) {
					cands = append(cands, u)
				}
			}
		}
		if slices.Contains(p.IdentifierURIs, ref) {
			add(app.IdentifierURIs)
		}
		if slices.Contains(p.Web.RedirectURIs, ref) {
			add(app.Web.RedirectURIs)
		}
		if len(cands) > maxInputCandidates {
			return nil, false
		}
		if !in.Required {
			options[i] = append(options[i], nil)
		}
		if in.Type == profile.InputURLList {
			for mask := 1; mask < 1<<len(cands); mask++ {
				var sub []string
				for j, c := range cands {
					if mask&(1<<j) != 0 {
						sub = append(sub, c)
					}
				}
				options[i] = append(options[i], sub)
			}
		} else {
			for _, c := range cands {
				options[i] = append(options[i], []string{c})
			}
		}
	}
	values = map[string][]string{}
	tries := 0
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(ids) {
			tries++
			return profile.InputsTag(p, values) == tag
		}
		if tries >= maxInputTries {
			return false
		}
		for _, o := range options[i] {
			if o == nil {
				delete(values, ids[i])
			} else {
				values[ids[i]] = o
			}
			if try(i + 1) {
				return true
			}
		}
		delete(values, ids[i])
		return false
	}
	if !try(0) {
		return nil, tries < maxInputTries
	}
	return values, true
}

// GivenValues validates the inputs verify was given as setup does (an
// http server URL, an input the profile does not take, a value given
// twice: *UsageError naming the flag) and returns them as setup would
// apply them.
func GivenValues(p *profile.Profile, values map[string][]string, now time.Time) (map[string][]string, error) {
	if len(values) == 0 {
		return nil, nil
	}
	spec, err := profile.Resolve(p, profile.Request{Values: values, Placeholders: true}, now)
	var ie *profile.InvalidError
	if errors.As(err, &ie) {
		return nil, &UsageError{Msg: ie.Error()}
	}
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for id := range values {
		if vs := spec.Values[id]; len(vs) > 0 {
			out[id] = vs
		}
	}
	return out, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-./:@%+,=", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// fixer builds the commands verify suggests.
type fixer struct {
	p           *profile.Profile
	profileFile string
	app         graph.Application
	features    []string
	values      map[string][]string
	args        []string
}

// setup is the `entra-link setup` run that brings the app back to its
// profile without changing anything else about it: setup --app-id keeps
// the app's name and an audience the profile allows; the inputs and
// features are the app's own.
func (f fixer) setup(extra ...string) string {
	parts := []string{"entra-link", "setup"}
	if f.profileFile != "" {
		parts = append(parts, "--profile-file", shellQuote(f.profileFile))
	} else {
		parts = append(parts, "--profile", f.p.ID)
	}
	parts = append(parts, "--app-id", f.app.AppID)
	for _, in := range f.p.Inputs {
		vals := f.values[in.ID]
		if len(vals) == 0 && in.Required {
			vals = []string{"URL"}
			if in.Type == profile.InputString {
				vals = []string{"VALUE"}
			}
		}
		for _, v := range vals {
			switch in.ID {
			case "server-url", "redirect-uri":
				parts = append(parts, "--"+in.ID, shellQuote(v))
			default:
				parts = append(parts, "--input", shellQuote(in.ID+"="+v))
			}
		}
	}
	for _, feat := range f.features {
		parts = append(parts, "--with", feat)
	}
	parts = append(parts, extra...)
	parts = append(parts, "--yes")
	parts = append(parts, f.args...)
	return strings.Join(parts, " ")
}

func (f fixer) rotate() string {
	return strings.Join(append([]string{"entra-link", "rotate-secret", "--app-id", f.app.AppID}, f.args...), " ")
}

func (f fixer) newCertificate() string {
	return strings.Join(append([]string{"entra-link", "rotate-certificate", "--app-id", f.app.AppID, "--certificate-file", "NEW-CERTIFICATE.cer"}, f.args...), " ")
}

func (f fixer) retire(keyID string) string {
	return strings.Join(append([]string{"entra-link", "retire", "--app-id", f.app.AppID, "--key-id", keyID}, f.args...), " ")
}

// Verify checks the app against its profile: it reads what setup's plan
// reads, plans read-only, and reports every step that is not a keep as a
// problem in words with the command that fixes it; credentials expiring
// within WarnDays are problems too. It only reads. Problems with the
// request (unknown app, no profile) are *UsageError.
func Verify(ctx context.Context, env *Env, req VerifyRequest) (*Report, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	p, why := appProfile(found, req.Profile)
	if p == nil {
		return nil, &UsageError{Msg: why + ": say which product it is for with --profile ID or --profile-file PATH"}
	}
	given, err := GivenValues(p, req.Values, env.Now())
	if err != nil {
		return nil, err
	}
	ev, err := Evaluate(ctx, env, found, p, given, pre)
	if err != nil {
		return nil, err
	}
	return newReport(env, reportArgs{sandbox: req.Sandbox, warnDays: req.WarnDays, profileFile: req.ProfileFile, fixArgs: req.FixArgs}, found, p, ev), nil
}

// reportArgs are the parts of a verify request a report is made with.
type reportArgs struct {
	sandbox     bool
	warnDays    int
	profileFile string
	fixArgs     []string
}

// newReport turns an app's evaluation into verify's checks: every step
// that is not a keep is a problem with the command that fixes it, and so
// is a credential expiring within warnDays. It makes no requests.
func newReport(env *Env, a reportArgs, found *FoundApp, p *profile.Profile, ev *Evaluation) *Report {
	now := env.Now().UTC()
	v := &verifier{now: now, warnDays: a.warnDays, p: p, found: found, ev: ev}
	v.fix = fixer{p: p, profileFile: a.profileFile, app: found.App, features: ev.Features, values: ev.Values, args: a.fixArgs}
	for _, f := range ev.UnknownFeatures {
		v.about("feature", "unknown feature "+f).warn("feature "+f, fmt.Sprintf("the app records feature %q, which profile %s does not have; it was not checked", f, p.ID), "")
	}
	v.run()

	t := ev.Plan.Tenant
	rep := &Report{
		Sandbox:  a.sandbox,
		Cloud:    env.Cloud.Name,
		TenantID: t.Org.ID, TenantName: t.Org.DisplayName,
		App: AppRef{DisplayName: found.App.DisplayName, ClientID: found.App.AppID, ApplicationObjectID: found.App.ID,
			Tags: append([]string{}, found.App.Tags...)},
		Profile: p.ID, Product: p.Product, Features: ev.Features, WarnDays: a.warnDays,
		Checks: v.checks, Problems: []string{}, Plan: ev.Plan.Output(),
	}
	if t.SP != nil {
		rep.App.ServicePrincipalID = t.SP.ID
	}
	for _, c := range v.checks {
		switch c.Status {
		case CheckProblem:
			rep.Problems = append(rep.Problems, c.Name+": "+c.Detail)
		case CheckWarning:
			rep.Warnings = append(rep.Warnings, c.Name+": "+c.Detail)
		}
	}
	rep.Healthy = len(rep.Problems) == 0
	return rep
}

// Evaluation is the read-only plan for one app against its profile.
type Evaluation struct {
	Plan *Plan
	// Features are the app's recorded features that the profile knows;
	// UnknownFeatures the others.
	Features, UnknownFeatures []string
	// Values are the profile inputs recovered from the app (its server
	// URL, redirect URIs).
	Values map[string][]string
	// Invalid are inputs recovered from the app that the profile refuses
	// (an http server URL), by input id, in words.
	Invalid map[string]string
	// InputsChanged: the app records a fingerprint of the inputs setup
	// applied, and none of its URIs match it (they were replaced).
	InputsChanged bool
	// InputsGiven: Values are the ones verify was given, not read back.
	InputsGiven bool
}

// Evaluate plans, read-only, what setup would do to found for profile p:
// the desired state is p with the app's own name, audience, features and
// inputs. It reads the app's service principal and what that holds (pre,
// when given, holds reads already under way).
func Evaluate(ctx context.Context, env *Env, found *FoundApp, p *profile.Profile, given map[string][]string, pre *prefetch) (*Evaluation, error) {
	ev, spec, err := newEvaluation(env, found, p, given)
	if err != nil {
		return nil, err
	}
	t, err := readTenantFor(ctx, env, found.App, spec.Permissions, pre)
	if err != nil {
		return nil, err
	}
	return ev, ev.plan(env, spec, t)
}

// newEvaluation starts the evaluation of found against p: its features,
// inputs (given, else the ones setup applied, read back from the app) and
// desired state, before anything is read.
func newEvaluation(env *Env, found *FoundApp, p *profile.Profile, given map[string][]string) (*Evaluation, *profile.Spec, error) {
	ev := &Evaluation{Invalid: map[string]string{}}
	ev.Features, ev.UnknownFeatures = profileFeatures(p, found.Features)
	ev.Values, ev.InputsChanged = appliedValues(p, found.App)
	switch {
	case len(given) > 0:
		ev.InputsGiven, ev.InputsChanged = true, false
		for id, vs := range given {
			ev.Values[id] = vs
		}
	case ev.InputsChanged:
		// The app's URIs are not the inputs setup applied, and which ones
		// were is unknown: they are missing, the app's are extras.
		for _, id := range profile.URIInputs(p) {
			delete(ev.Values, id)
		}
	}
	spec, err := ev.spec(p, found.App, env.Now().UTC())
	if err != nil {
		return nil, nil, err
	}
	return ev, spec, nil
}

// plan plans spec read-only against what was read of the tenant.
func (ev *Evaluation) plan(env *Env, spec *profile.Spec, t *Tenant) error {
	plan, err := NewPlan(spec, t, PlanOptions{Now: env.Now().UTC(), Verify: true, Cloud: env.Cloud})
	if err != nil {
		return err
	}
	ev.Plan = plan
	return nil
}

// spec is the desired state for the app: p as the app uses it. Inputs the
// profile refuses are dropped (and named in Invalid); missing ones become
// placeholders, so that their steps show as problems.
func (ev *Evaluation) spec(p *profile.Profile, app graph.Application, now time.Time) (*profile.Spec, error) {
	audience := ""
	for aud, sia := range profile.SignInAudience {
		if sia == app.SignInAudience && p.AllowsAudience(aud) {
			audience = aud
		}
	}
	for {
		spec, err := profile.Resolve(p, profile.Request{DisplayName: app.DisplayName, Values: ev.Values,
			Audience: audience, Credential: p.Credential.Default, Features: ev.Features, Placeholders: true}, now)
		var ie *profile.InvalidError
		if err == nil || !errors.As(err, &ie) {
			if spec != nil {
				// Verify asks whether the app has a valid certificate, not
				// where a new one would go.
				spec.CertificateOut = ""
				spec.Tags = verifyTags(spec.Tags, app.Tags)
			}
			return spec, err
		}
		dropped := false
		for _, in := range p.Inputs {
			if strings.HasPrefix(in.Flag(), ie.Flag) && len(ev.Values[in.ID]) > 0 {
				ev.Invalid[in.ID] = ie.Msg
				delete(ev.Values, in.ID)
				dropped = true
			}
		}
		if !dropped {
			return nil, err
		}
	}
}

// verifyTags are the tags verify expects: the spec's, but the inputs tag
// only on an app that has one (an app set up before setup recorded it is
// checked as it was then), and the app's own where the spec has none (an
// input verify does not know: the tag cannot be judged).
func verifyTags(want, have []string) []string {
	tag := profile.InputsTagOf(have)
	switch {
	case tag == "":
		return slices.DeleteFunc(want, profile.IsInputsTag)
	case profile.InputsTagOf(want) == "":
		return append(want, tag)
	}
	return want
}

// readTenantFor reads, concurrently, the tenant, the resource APIs (the
// profile's and the app's) and the app's service principal — then, as soon
// as that is known, what it holds.
func readTenantFor(ctx context.Context, env *Env, app graph.Application, perms []profile.Permission, pre *prefetch) (*Tenant, error) {
	t := &Tenant{App: &app, Resources: map[string]graph.ServicePrincipal{}}
	var l lookups
	var st *AppState
	l.do(func() {
		s, err := readAppState(ctx, env.Graph, app.AppID, pre.spFuture(app.AppID))
		if err != nil {
			l.fail("reading the app's service principal", err)
			return
		}
		l.mu.Lock()
		st = s
		l.mu.Unlock()
	})
	l.do(func() {
		org, err := pre.tenant(ctx, env.Graph)
		if err != nil {
			l.fail("reading the tenant", err)
			return
		}
		l.mu.Lock()
		t.Org = org
		l.mu.Unlock()
	})
	resourceIDs := map[string]bool{}
	for _, p := range perms {
		resourceIDs[strings.ToLower(p.ResourceAppID)] = true
	}
	for _, rra := range app.RequiredResourceAccess {
		resourceIDs[strings.ToLower(rra.ResourceAppID)] = true
	}
	for appID := range resourceIDs {
		l.do(func() {
			sp, err := lookupSP(ctx, env.Graph, appID)
			if err != nil {
				l.fail("looking up the "+resourceName(appID)+" service principal", err)
				return
			}
			if sp != nil {
				l.mu.Lock()
				t.Resources[appID] = *sp
				l.mu.Unlock()
			}
		})
	}
	if err := readErrors(t, l.wait()); err != nil {
		return nil, err
	}
	t.AppState = *st
	return t, nil
}

// tenantOf reads the tenant; an identity that may not read it
// (Organization.Read.All) still gets its id from the token.
func tenantOf(ctx context.Context, g graph.API) (graph.Organization, error) {
	org, err := g.Organization(ctx)
	if err == nil {
		return org, nil
	}
	if !graph.IsForbidden(err) {
		return graph.Organization{}, err
	}
	id, werr := g.WhoAmI(ctx)
	if werr != nil {
		return graph.Organization{}, werr
	}
	return graph.Organization{ID: id.TenantID, DisplayName: "tenant " + id.TenantID}, nil
}

// verifier turns the evaluation into checks; it makes no requests.
type verifier struct {
	now      time.Time
	warnDays int
	p        *profile.Profile
	found    *FoundApp
	ev       *Evaluation
	fix      fixer
	checks   []Check
	// kind and short go with the next check added (see about).
	kind, short string
}

func (v *verifier) add(status, name, detail, fix string) {
	if status == CheckOK {
		fix = ""
	}
	c := Check{Name: name, Status: status, Detail: detail, Fix: fix, Kind: v.kind}
	if status != CheckOK {
		c.Short = v.short
	}
	v.kind, v.short = "", ""
	v.checks = append(v.checks, c)
}

// about sets the kind and short words of the next check.
func (v *verifier) about(kind, short string) *verifier {
	v.kind, v.short = kind, short
	return v
}

// nouns name what a step kind acts on, in the short words of a problem.
var nouns = map[Kind]string{
	KindConsent: "admin consent", KindGrant: "delegated consent", KindRole: "directory role",
	KindRedirectURI: "redirect URI", KindIdentifierURI: "identifier URI", KindPermission: "API permission",
	KindServicePrincipal: "service principal", KindApp: "app settings", KindResource: "API in the tenant", KindTags: "entra-link tags",
}

func noun(k Kind) string {
	if n, ok := nouns[k]; ok {
		return n
	}
	return string(k)
}

func (v *verifier) ok(name, detail string)           { v.add(CheckOK, name, detail, "") }
func (v *verifier) problem(name, detail, fix string) { v.add(CheckProblem, name, detail, fix) }
func (v *verifier) warn(name, detail, fix string)    { v.add(CheckWarning, name, detail, fix) }

// missing says, per kind, what a create step means when verify finds it.
var missing = map[Kind]string{
	KindServicePrincipal: "the app has no service principal (enterprise application), so nothing can be consented or assigned to it and it cannot sign in",
	KindResource:         "the tenant lacks this API's service principal, so its permissions cannot be consented",
	KindIdentifierURI:    "not among the app's identifier URIs (Application ID URI)",
	KindRedirectURI:      "not among the app's web redirect URIs",
	KindPermission:       "not among the app's requested API permissions",
	KindConsent:          "admin consent is missing",
	KindGrant:            "tenant-wide admin consent is missing",
	KindRole:             "not assigned to the app",
	KindTags:             "the app carries no entra-link tags, so entra-link finds it only by --app-id",
	KindNotes:            "the app's notes do not say that entra-link set it up, for which product, when and by whom; setup adds them (keeping the app's own notes)",
	KindSPTags:           "the enterprise application lacks the tag " + PortalTag + ", so the Entra admin center's Enterprise applications list hides it by default; setup adds it",
}

func (v *verifier) run() {
	for _, in := range v.p.Inputs {
		if msg, ok := v.ev.Invalid[in.ID]; ok {
			v.about("input", "invalid "+in.Label).problem(in.Label, msg, v.fix.setup())
		}
	}
	for _, s := range v.ev.Plan.Steps {
		v.step(s)
	}
	v.checkCredentials()
}

// step reports one plan step: keep is fine, anything else a problem.
func (v *verifier) step(s *Step) {
	switch s.Kind {
	case KindClientSecret, KindKeyCredential:
		if s.Action == ActKeep {
			return // checkCredentials reports every credential with its expiry
		}
		what, fix := "client secret", v.fix.rotate()
		if s.Kind == KindKeyCredential {
			what, fix = "certificate", v.fix.newCertificate()
		}
		v.about("credential", "no valid "+what).problem("valid credential", fmt.Sprintf("the app has no valid %s, so %s cannot sign in", what, v.p.Product), fix)
		return
	case KindTags:
		if s.Action != ActKeep {
			detail := "entra-link's tags on the app differ: " + s.Detail
			if v.onlyInputsTagDiffers() {
				detail = fmt.Sprintf("the %s recorded on the app by setup differ from the ones given; if those are right, setup records them", profile.URIInputFlags(v.p))
			}
			if !v.found.Tagged {
				detail = missing[KindTags]
			} else if v.found.ProfileID != v.p.ID {
				detail = fmt.Sprintf("the app records profile %s, but was checked against %s", orNone(v.found.ProfileID), v.p.ID)
			}
			v.about(string(KindTags), "entra-link tags differ").warn("entra-link tags", detail, v.fix.setup())
			return
		}
		v.ok("entra-link tags", s.Detail)
		return
	}
	name := s.Target
	if s.Kind == KindNotes && s.Action != ActKeep && !v.found.Tagged {
		// Like the tags: an app entra-link did not make lacks them until
		// setup adopts it.
		v.warn(name, missing[KindNotes], v.fix.setup())
		return
	}
	switch {
	case s.Unknown != "":
		v.about(string(s.Kind), "cannot read "+noun(s.Kind)).problem(name, "could not be checked: "+s.Unknown, v.fix.setup())
	case s.Action == ActKeep:
		v.ok(name, s.Detail)
	case s.Action == ActExtra:
		detail := v.p.Product + " does not need it"
		if (s.Kind == KindRedirectURI || s.Kind == KindIdentifierURI) && profile.InputsTagOf(v.found.App.Tags) != "" && !v.ev.InputsGiven {
			detail = "not one setup applied (added or changed after setup); " + detail
		}
		v.about(string(s.Kind), "extra "+noun(s.Kind)).problem(name, detail, v.fix.setup("--prune"))
	case s.Action == ActUpdate && s.Kind == KindApp:
		if u, ok := s.payload.(*appUpdate); ok && len(u.own) == 0 {
			// Only its lists change: each is a step of its own.
			v.ok(name, fmt.Sprintf("exists (client ID %s)", v.found.App.AppID))
			return
		}
		v.about(string(s.Kind), noun(s.Kind)+" differ").problem(name, "differs from the profile: "+s.Detail, v.fix.setup())
	case s.Action == ActUpdate && s.Kind == KindGrant:
		v.about(string(s.Kind), "incomplete delegated consent").problem(name, "tenant-wide admin consent lacks some of these ("+s.Detail+")", v.fix.setup())
	case strings.Contains(s.Target, "<--") && v.ev.InputsChanged:
		in := placeholderInput(v.p, s.Target)
		v.about(string(s.Kind), in+" changed").problem(name, fmt.Sprintf("the %s setup applied is no longer among the app's URIs: they were changed after setup. Run the fix with the right %s (it removes the others); if the app's is right, run setup with it to record it", in, in), v.fix.setup("--prune"))
	case strings.Contains(s.Target, "<--"):
		in := placeholderInput(v.p, s.Target)
		v.about(string(s.Kind), "no "+in).problem(name, fmt.Sprintf("the app has no %s; %s needs it here", in, v.p.Product), v.fix.setup())
	default:
		detail := missing[s.Kind]
		if detail == "" {
			detail = "differs from the profile"
		}
		short := "missing " + noun(s.Kind)
		if s.Kind == KindServicePrincipal {
			short = "no service principal"
		}
		v.about(string(s.Kind), short).problem(name, detail, v.fix.setup())
	}
}

// onlyInputsTagDiffers: the app's entra-link tags are the plan's but for
// the inputs tag (verify was given other inputs than setup recorded).
func (v *verifier) onlyInputsTagDiffers() bool {
	own := func(tags []string) []string {
		var out []string
		for _, t := range tags {
			if (t == profile.Tag || strings.HasPrefix(t, profile.Tag+":")) && !profile.IsInputsTag(t) {
				out = append(out, t)
			}
		}
		return out
	}
	return profile.InputsTagOf(v.found.App.Tags) != "" && sameSet(own(v.found.App.Tags), own(v.ev.Plan.Spec.Tags))
}

// placeholderInput names the input a placeholder in target stands for.
func placeholderInput(p *profile.Profile, target string) string {
	for _, in := range p.Inputs {
		if strings.Contains(target, profile.Placeholder(strings.TrimSuffix(in.Flag(), "=…"))) {
			return in.Label
		}
	}
	return "value"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// shortKind names a credential kind in a few letters.
func shortKind(kind string) string {
	if kind == KindCertificate {
		return "cert"
	}
	return kind
}

// checkCredentials reports each credential with its expiry: one that
// expires within --warn-days is a problem unless another lasts longer.
func (v *verifier) checkCredentials() {
	creds := Credentials(v.found.App)
	window := v.now.AddDate(0, 0, v.warnDays)
	usable := func(c CredentialInfo) bool {
		return v.p.AllowsCredential(c.Kind) || len(v.p.Credential.Allowed) == 0
	}
	// lasting: a usable credential that outlives the warning window, i.e.
	// the product has (or can switch to) something that keeps working.
	var lasting *CredentialInfo
	valid := 0
	for i, c := range creds {
		if !usable(c) {
			continue
		}
		if c.End.After(v.now) {
			valid++
		}
		if c.End.After(window) && (lasting == nil || c.End.After(lasting.End)) {
			lasting = &creds[i]
		}
	}
	fix := func(kind string) string {
		if kind == KindCertificate {
			return v.fix.newCertificate()
		}
		return v.fix.rotate()
	}
	for _, c := range creds {
		name := c.Label()
		days := DaysUntil(v.now, c.End)
		date := c.End.UTC().Format("2006-01-02")
		switch {
		case !c.End.After(v.now):
			detail := fmt.Sprintf("expired on %s", date)
			if valid > 0 {
				v.about("credential", "old "+shortKind(c.Kind)+" expired").warn(name, detail+"; it no longer works and can be removed", v.fix.retire(c.KeyID))
			} else {
				v.about("credential", shortKind(c.Kind)+" expired").problem(name, detail, fix(c.Kind))
			}
		case !c.End.After(window):
			detail := fmt.Sprintf("expires on %s (in %d days, within --warn-days %d)", date, days, v.warnDays)
			if lasting != nil && lasting.KeyID != c.KeyID {
				v.about("credential", fmt.Sprintf("old %s ends in %dd", shortKind(c.Kind), days)).warn(name, fmt.Sprintf("%s; %s is valid until %s — make sure %s uses it", detail, lasting.Label(), lasting.End.UTC().Format("2006-01-02"), v.p.Product), "")
			} else {
				v.about("credential", fmt.Sprintf("%s expires in %dd", shortKind(c.Kind), days)).problem(name, detail, fix(c.Kind))
			}
		default:
			v.ok(name, fmt.Sprintf("expires on %s (in %d days)", date, days))
		}
	}
}
