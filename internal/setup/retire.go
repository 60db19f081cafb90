package setup

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/journal"
	"github.com/entra-link/entra-link/internal/output"
)

// Staged retirement, the second half of a rotation without downtime: once
// the product uses the new secret or certificate, the old ones go, and no
// new one is added. Its rules, in one place:
//   - the newest valid secret and the newest valid certificate of the app
//     are never retired (retireNewest), whatever the flags: after a
//     rotation that is what the product was switched to;
//   - the credential the app last signed in with (the sign-in logs, when
//     the signed-in identity may read them) is retired only with Force;
//   - without KeyIDs, every other credential goes.

// RetireRequest is what retire was asked to remove.
type RetireRequest struct {
	Selector
	// KeyIDs name the credentials to retire: key IDs of secrets or
	// certificates, or certificate thumbprints. None: every credential but
	// the newest valid secret and the newest valid certificate.
	KeyIDs []string
	// Force also retires the credential the app last signed in with.
	Force   bool
	Sandbox bool
	// Signer, when entra-link is signed in as the app itself with a
	// certificate, proves possession to removeKey (nil otherwise).
	Signer *certs.Signer
	// SignInSecretHint is the hint (first three characters, as Entra
	// shows it) of the client secret entra-link signed in with; empty
	// when it signed in otherwise.
	SignInSecretHint string
}

// RetireCredential is one credential of the app and what retire does with it.
type RetireCredential struct {
	CredentialInfo
	// Retire: the plan removes it.
	Retire bool `json:"retire"`
	// Newest: the newest valid credential of its kind, never retired.
	Newest bool `json:"newest,omitempty"`
	// LastSignIn is the newest successful sign-in with it that the log
	// shows (nil: none, or the log was not read).
	LastSignIn *time.Time `json:"lastSignIn,omitempty"`
	// Delivered says, from the journal, where entra-link handed it over.
	Delivered string `json:"delivered,omitempty"`
	// Leftover: a run on this machine added it and never handed it over.
	Leftover bool `json:"leftover,omitempty"`
}

// SignInLog is what the sign-in logs said of the app's sign-ins.
type SignInLog struct {
	// Read: the log could be read; Unread says why not.
	Read   bool   `json:"read"`
	Unread string `json:"unread,omitempty"`
	// Last is the app's newest successful sign-in in the log.
	Last *LastSignIn `json:"last,omitempty"`
}

// LastSignIn is the app's newest successful sign-in.
type LastSignIn struct {
	At    time.Time `json:"at"`
	KeyID string    `json:"keyId"`
	// Credential names it ("" when it is no longer on the app).
	Credential string `json:"credential,omitempty"`
}

// Retirement is a planned retire: everything read, nothing changed.
type Retirement struct {
	Found *FoundApp
	env   *Env
	// Product names the product in messages (the app's name when it
	// records no profile).
	Product     string
	Org         graph.Organization
	Credentials []RetireCredential
	SignIns     SignInLog
	Warnings    []string

	req RetireRequest
	now time.Time
	// byProof: signed in as the app itself, which removes certificates
	// with removeKey (no permission to update itself).
	byProof bool
	left    []leftover
	stale   []*journal.Record
	// records are the journal's records of the app (delivered or not).
	records []*journal.Record
	plan    *Plan
}

// auditLogScopes read the sign-in logs (signin-list; Directory.Read.All
// is needed too, a documented known issue).
var auditLogScopes = []string{"AuditLog.Read.All"}

// PrepareRetirement finds the app, reads its credentials, the journal and
// (where the identity may) its sign-ins, and plans what goes. It changes
// nothing. Input problems are *UsageError; refusals are the plan's
// Problems. One round trip with --app-id (the app, the tenant and its
// sign-ins at once), two with --name (the sign-ins need the app's id).
func PrepareRetirement(ctx context.Context, env *Env, req RetireRequest) (*Retirement, error) {
	pre := startPrefetch(ctx, env, req.Selector)
	type logRead struct {
		list []graph.SignIn
		log  SignInLog
	}
	signInsOf := func(appID string) *future[logRead] {
		return goFuture(func() (logRead, error) {
			id, err := env.Graph.WhoAmI(ctx)
			if err != nil {
				return logRead{}, err
			}
			l, log := readSignIns(ctx, env.Graph, id, appID)
			return logRead{l, log}, nil
		})
	}
	var logs *future[logRead]
	if req.AppID != "" {
		logs = signInsOf(req.AppID)
	}
	found, err := FindApp(ctx, env.Graph, req.Selector)
	if err != nil {
		return nil, err
	}
	if logs == nil {
		logs = signInsOf(found.App.AppID)
	}
	rt := &Retirement{Found: found, req: req, now: env.Now().UTC(), Product: found.App.DisplayName, env: env}
	if !found.Tagged {
		rt.Warnings = append(rt.Warnings, fmt.Sprintf("%s was not made by entra-link (it carries no entra-link tags); its credentials are retired because --app-id names it", found.Label()))
	}
	if p, _ := appProfile(found, nil); p != nil {
		rt.Product = p.Product
	}
	id, err := env.Graph.WhoAmI(ctx)
	if err != nil {
		return nil, err
	}
	org, err := pre.tenant(ctx, env.Graph)
	if err != nil {
		return nil, fmt.Errorf("reading the tenant: %w", err)
	}
	rt.Org = org
	read, err := logs.get()
	if err != nil {
		return nil, err
	}
	signIns := read.list
	rt.SignIns = read.log
	if id.AppOnly && strings.EqualFold(id.ClientAppID, found.App.AppID) && !hasAny(id.Roles, scopeApplications) {
		rt.byProof = true
	}
	rt.records = env.interrupted(org.ID, found.App.ID, &rt.Warnings)
	rt.left, rt.stale = leftovers(&found.App, rt.records, rt.now)
	rt.credentials(signIns)
	if err := rt.choose(); err != nil {
		return nil, err
	}
	if err := rt.asItself(); err != nil {
		return nil, err
	}
	if err := rt.notItsSecret(id); err != nil {
		return nil, err
	}
	rt.plan = rt.makePlan()
	return rt, nil
}

// readSignIns reads the app's newest sign-ins when the token allows it;
// otherwise it says why not. It never fails the run.
func readSignIns(ctx context.Context, g graph.API, id graph.Identity, appID string) ([]graph.SignIn, SignInLog) {
	have := id.Scopes
	if id.AppOnly {
		have = id.Roles
	}
	if !hasAny(have, auditLogScopes...) {
		if id.AppOnly {
			return nil, SignInLog{Unread: "the signed-in app lacks the AuditLog.Read.All application permission"}
		}
		return nil, SignInLog{Unread: "the sign-in does not carry AuditLog.Read.All (entra-link does not ask for it)"}
	}
	list, err := g.ServicePrincipalSignIns(ctx, appID)
	switch {
	case err == nil:
		return list, SignInLog{Read: true}
	case graph.IsForbidden(err) && id.AppOnly:
		return nil, SignInLog{Unread: "the signed-in app may not read them (it needs AuditLog.Read.All and Directory.Read.All)"}
	case graph.IsForbidden(err):
		return nil, SignInLog{Unread: "you may not read them (that needs AuditLog.Read.All and Directory.Read.All, and a role such as Reports Reader, Security Reader or Global Reader)"}
	}
	return nil, SignInLog{Unread: "reading them failed (" + briefly(err) + ")"}
}

// credentials lists the app's secrets and certificates, newest first,
// with what the journal and the sign-in log know of each.
func (rt *Retirement) credentials(signIns []graph.SignIn) {
	app := rt.Found.App
	left := map[string]bool{}
	for _, l := range rt.left {
		left[strings.ToLower(l.cred.KeyID)] = true
	}
	last := map[string]time.Time{}
	for _, s := range signIns {
		k := strings.ToLower(s.CredentialKeyID)
		if !s.Succeeded() || k == "" {
			continue
		}
		if s.Created.After(last[k]) {
			last[k] = s.Created
		}
		if l := rt.SignIns.Last; l == nil || s.Created.After(l.At) {
			rt.SignIns.Last = &LastSignIn{At: s.Created, KeyID: s.CredentialKeyID}
		}
	}
	// Credentials in the app's own order, which is the order they were
	// added in: what breaks a tie of start dates (two certificates made
	// in the same minute start at the same second).
	var all []CredentialInfo
	for _, p := range app.PasswordCredentials {
		all = append(all, CredentialInfo{Kind: KindSecret, KeyID: p.KeyID, Name: p.DisplayName, Hint: p.Hint, Start: p.StartDateTime, End: p.EndDateTime})
	}
	for _, k := range app.KeyCredentials {
		all = append(all, CredentialInfo{Kind: KindCertificate, KeyID: k.KeyID, Name: k.DisplayName, Start: k.StartDateTime, End: k.EndDateTime, Thumbprint: keyThumbprint(k)})
	}
	var out []RetireCredential
	for _, c := range all {
		rc := RetireCredential{CredentialInfo: c, Leftover: left[strings.ToLower(c.KeyID)], Delivered: rt.delivered(c.KeyID)}
		if at, ok := last[strings.ToLower(c.KeyID)]; ok {
			rc.LastSignIn = &at
		}
		if l := rt.SignIns.Last; l != nil && strings.EqualFold(l.KeyID, c.KeyID) {
			l.Credential = c.Label()
		}
		out = append(out, rc)
	}
	for _, kind := range []string{KindSecret, KindCertificate} {
		if i := newestValid(out, kind, rt.now); i >= 0 {
			out[i].Newest = true
		}
	}
	// Newest first: the one kept heads its kind.
	slices.Reverse(out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.After(out[j].Start) })
	rt.Credentials = out
}

// newestValid is the index of the newest credential of kind that is valid
// now and is not a leftover (nobody has that one), or -1: the latest
// start, and of equal starts the one added last (later in cs). Only the
// end counts as validity: a secret Entra made a moment ago may start
// after this machine's clock.
func newestValid(cs []RetireCredential, kind string, now time.Time) int {
	best := -1
	for i, c := range cs {
		if c.Kind != kind || c.Leftover || !c.End.After(now) {
			continue
		}
		if best < 0 || !c.Start.Before(cs[best].Start) {
			best = i
		}
	}
	return best
}

// delivered says where the journal records that entra-link handed the
// credential over ("" when it has no such record).
func (rt *Retirement) delivered(keyID string) string {
	for _, r := range rt.records {
		if r.State != journal.StateDelivered || !strings.EqualFold(r.KeyID, keyID) {
			continue
		}
		s := "delivered by entra-link " + r.Command
		if !r.DeliveredAt.IsZero() {
			s += " on " + r.DeliveredAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		if r.DeliveredTo != "" {
			s += " to " + r.DeliveredTo
		}
		return s
	}
	return ""
}

// choose marks what goes: the credentials KeyIDs name (each must be on
// the app), or every one but the newest of each kind; leftovers always.
func (rt *Retirement) choose() error {
	if len(rt.req.KeyIDs) == 0 {
		for i := range rt.Credentials {
			c := &rt.Credentials[i]
			c.Retire = !c.Newest
		}
		return nil
	}
	for _, k := range rt.req.KeyIDs {
		i := slices.IndexFunc(rt.Credentials, func(c RetireCredential) bool {
			return strings.EqualFold(c.KeyID, k) || c.Kind == KindCertificate && c.Thumbprint != "" && strings.EqualFold(c.Thumbprint, k)
		})
		if i < 0 {
			var have []string
			for _, c := range rt.Credentials {
				have = append(have, c.KeyID)
			}
			msg := fmt.Sprintf("--key-id %s: %s has no secret or certificate with this key ID", k, rt.Found.Label())
			if len(have) > 0 {
				msg += " (it has " + strings.Join(have, ", ") + "; entra-link retire --dry-run lists them)"
			}
			return &UsageError{Msg: msg + "; nothing was changed"}
		}
		rt.Credentials[i].Retire = true
	}
	for i := range rt.Credentials {
		if rt.Credentials[i].Leftover {
			rt.Credentials[i].Retire = true
		}
	}
	return nil
}

// asItself refuses what an app signed in as itself cannot retire: its
// secrets (removePassword needs Application.ReadWrite.All), certificates
// without a certificate to prove possession, and the certificate it
// signed in with.
func (rt *Retirement) asItself() error {
	if !rt.byProof {
		return nil
	}
	for _, c := range rt.Credentials {
		switch {
		case !c.Retire:
		case c.Kind == KindSecret:
			return &UsageError{Msg: fmt.Sprintf("entra-link is signed in as %s itself, which may not remove its own client secrets (that needs Application.ReadWrite.All); sign in as an admin to retire %s (nothing was changed)", rt.Found.Label(), c.Label())}
		case rt.req.Signer == nil:
			return &UsageError{Msg: fmt.Sprintf("entra-link is signed in as %s itself, which may not update its own registration: it can remove a certificate only with removeKey, proven by a certificate it holds. Sign in with that certificate (--auth env with AZURE_CLIENT_CERTIFICATE_PATH), or as an admin (nothing was changed)", rt.Found.Label())}
		case strings.EqualFold(c.Thumbprint, rt.req.Signer.Thumbprint()):
			return &UsageError{Msg: fmt.Sprintf("%s is the certificate entra-link is signed in with as %s; it cannot retire itself. Sign in with the new certificate, or as an admin (nothing was changed)", c.Label(), rt.Found.Label())}
		}
	}
	return nil
}

// notItsSecret refuses to retire the client secret entra-link signed in
// with as the app itself (whatever its permissions, --force or not):
// removing it locks out this run and whatever else signs in with it.
func (rt *Retirement) notItsSecret(id graph.Identity) error {
	h := rt.req.SignInSecretHint
	if h == "" || !id.AppOnly || !strings.EqualFold(id.ClientAppID, rt.Found.App.AppID) {
		return nil
	}
	for _, c := range rt.Credentials {
		if c.Retire && c.Kind == KindSecret && c.Hint == h {
			return &UsageError{Msg: fmt.Sprintf("%s is the client secret entra-link is signed in with as %s; retiring it would lock out entra-link and whatever else uses it. First sign in with the new secret (for --auth env, in AZURE_CLIENT_SECRET), then run retire again (nothing was changed)", c.Label(), rt.Found.Label())}
		}
	}
	return nil
}

// Plan is what the retire does: its checks (the newest credentials stay,
// the sign-in logs), then each credential removed or kept.
func (rt *Retirement) Plan() *Plan { return rt.plan }

func (rt *Retirement) makePlan() *Plan {
	app := rt.Found.App
	p := &Plan{Title: "Retire old credentials of " + app.DisplayName, Product: rt.Product}
	var newest []string
	for _, c := range rt.Credentials {
		if c.Newest {
			newest = append(newest, c.Label())
		}
	}
	keep := &Step{ID: "check/newest", Kind: KindNewest, Action: ActCheck, Target: "the newest valid secret and certificate stay"}
	switch {
	case len(newest) == 0:
		keep.Detail = "the app has no valid secret or certificate"
	default:
		keep.Detail = "never retired: " + strings.Join(newest, "; ")
	}
	for _, c := range rt.Credentials {
		if c.Newest && c.Retire {
			keep.Problem = fmt.Sprintf("--key-id %s: %s is the app's newest valid %s, which %s uses after a rotation, and retire never removes it. To replace it, add a new one first (%s), switch %s to it, then retire this one",
				c.KeyID, c.Label(), kindWord(c.Kind), rt.Product, rt.rotateCommand(c.Kind), rt.Product)
		}
	}
	p.Steps = append(p.Steps, keep)
	p.Steps = append(p.Steps, rt.signInCheck())

	certsGo := 0
	for _, c := range rt.Credentials {
		if c.Retire && c.Kind == KindCertificate {
			certsGo++
		}
	}
	carrier := ""
	if certsGo > 0 && !rt.byProof {
		carrier = "certificates"
		p.Steps = append(p.Steps, &Step{ID: carrier, Kind: KindKeyCredential, Action: ActUpdate, Round: 1,
			Target: "the app's certificates (keyCredentials)",
			Detail: fmt.Sprintf("one update without the %s retired; read right before it, so that a certificate added meanwhile stays", plural(certsGo, "certificate"))})
	}
	for _, c := range rt.Credentials {
		st := &Step{ID: credentialStepID(c.CredentialInfo), Kind: KindClientSecret, Target: c.Label(), Detail: rt.credentialDetail(c)}
		if c.Kind == KindCertificate {
			st.Kind = KindKeyCredential
		}
		if !c.Retire {
			st.Action = ActKeep
			p.Steps = append(p.Steps, st)
			continue
		}
		st.Action, st.Round = ActRemove, 1
		if c.Kind == KindCertificate && carrier != "" {
			st.PartOf = carrier
		}
		p.Steps = append(p.Steps, st)
	}
	if rt.Changes() {
		p.rounds = 1
	}
	return p
}

func credentialStepID(c CredentialInfo) string {
	return c.Kind + "/" + strings.ToLower(c.KeyID)
}

func kindWord(kind string) string {
	if kind == KindCertificate {
		return "certificate"
	}
	return "client secret"
}

// rotateCommand is the command that adds a credential of kind to the app.
func (rt *Retirement) rotateCommand(kind string) string {
	if kind == KindCertificate {
		return rt.env.Command("rotate-certificate", "--app-id", rt.Found.App.AppID, "--certificate-out", "DIR")
	}
	return rt.env.Command("rotate-secret", "--app-id", rt.Found.App.AppID)
}

// credentialDetail says why a credential goes or stays, and what is known
// of it: expiry, when it was added, where it was delivered, its last
// sign-in.
func (rt *Retirement) credentialDetail(c RetireCredential) string {
	var parts []string
	switch {
	case c.Leftover:
		parts = append(parts, "an interrupted run on this machine added it and could not hand it over; nobody has its value")
	case c.Newest && !c.Retire:
		parts = append(parts, "the newest valid "+kindWord(c.Kind))
	case !c.Retire:
		parts = append(parts, "not named by --key-id")
	}
	if c.End.After(rt.now) {
		parts = append(parts, "expires "+c.End.UTC().Format("2006-01-02"))
	} else {
		parts = append(parts, "expired "+c.End.UTC().Format("2006-01-02"))
	}
	if !c.Start.IsZero() {
		parts = append(parts, "added "+c.Start.UTC().Format("2006-01-02"))
	}
	if c.Delivered != "" {
		parts = append(parts, c.Delivered)
	}
	switch {
	case c.LastSignIn != nil:
		parts = append(parts, "last sign-in "+c.LastSignIn.UTC().Format("2006-01-02 15:04 UTC"))
	case rt.SignIns.Read:
		parts = append(parts, "no sign-in with it in the log")
	}
	if c.Retire && rt.byProof && c.Kind == KindCertificate {
		parts = append(parts, "removed with removeKey, proven by the certificate entra-link signed in with")
	}
	return strings.Join(parts, "; ")
}

// signInCheck is the plan's word on the sign-in logs: which credential the
// app last signed in with, and a refusal to retire it without Force.
func (rt *Retirement) signInCheck() *Step {
	st := &Step{ID: "check/sign-ins", Kind: KindSignInLog, Action: ActCheck, Target: "the credential " + rt.Product + " signs in with"}
	log := rt.SignIns
	if !log.Read {
		st.Unknown = "the sign-in logs could not be read: " + log.Unread + ". entra-link cannot tell which credential " + rt.Product +
			" uses now: make sure it uses the one kept"
		return st
	}
	if log.Last == nil {
		st.Detail = "no sign-in of the app in the sign-in logs (they go back 30 days at most; sign-ins of the last minutes may be missing)"
		return st
	}
	at := log.Last.At.UTC().Format("2006-01-02 15:04 UTC")
	i := slices.IndexFunc(rt.Credentials, func(c RetireCredential) bool { return strings.EqualFold(c.KeyID, log.Last.KeyID) })
	if i < 0 {
		st.Detail = fmt.Sprintf("the app last signed in at %s with a credential it no longer has (key ID %s)", at, log.Last.KeyID)
		return st
	}
	c := rt.Credentials[i]
	st.Detail = fmt.Sprintf("the app last signed in with %s at %s", c.Label(), at)
	if !c.Retire {
		st.Detail += "; it stays"
		return st
	}
	if rt.req.Force {
		st.Detail += "; retired anyway (--force)"
		return st
	}
	st.Problem = fmt.Sprintf("%s last signed in with %s at %s, so %s may still use it. Check that %s uses the new %s",
		rt.Found.Label(), c.Label(), at, rt.Product, rt.Product, kindWord(c.Kind))
	if k := rt.newestOf(c.Kind); k != nil && k.Delivered != "" {
		st.Problem += " (" + k.Label() + ", " + k.Delivered + ")"
	}
	st.Problem += ", then run again; sign-ins appear in the log a few minutes late. --force retires it anyway"
	return st
}

func (rt *Retirement) newestOf(kind string) *RetireCredential {
	for i, c := range rt.Credentials {
		if c.Newest && c.Kind == kind {
			return &rt.Credentials[i]
		}
	}
	return nil
}

// Changes reports whether the retire removes anything.
func (rt *Retirement) Changes() bool {
	return slices.ContainsFunc(rt.Credentials, func(c RetireCredential) bool { return c.Retire })
}

// Problems are the refusals, in words: nothing may change.
func (rt *Retirement) Problems() []string { return rt.plan.Problems() }

// RetireResult is retire's outcome (and a dry run's plan): JSON as is,
// text through the CLI's renderer.
type RetireResult struct {
	Sandbox    bool   `json:"sandbox,omitempty"`
	DryRun     bool   `json:"dryRun,omitempty"`
	Cloud      string `json:"cloud"`
	TenantID   string `json:"tenantId,omitempty"`
	TenantName string `json:"tenantName,omitempty"`
	App        AppRef `json:"app"`
	Profile    string `json:"profile"`
	// Retired are the credentials removed (a dry run: to be removed);
	// Kept the ones that stay.
	Retired []RetireCredential `json:"retired"`
	Kept    []RetireCredential `json:"kept"`
	SignIns SignInLog          `json:"signIns"`
	Steps   []output.Step      `json:"steps,omitempty"`
	Plan    []output.Step      `json:"plan,omitempty"`
	// Warnings are things the user should know that did not stop the run.
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Product names the product (text output only).
	Product string `json:"-"`
}

func (rt *Retirement) result(c cloud.Cloud) *RetireResult {
	app := rt.Found.App
	res := &RetireResult{
		Sandbox: rt.req.Sandbox, Cloud: c.Name, TenantID: rt.Org.ID, TenantName: rt.Org.DisplayName,
		App:     AppRef{DisplayName: app.DisplayName, ClientID: app.AppID, ApplicationObjectID: app.ID, Tags: append([]string{}, app.Tags...)},
		Profile: rt.Found.ProfileID, Retired: []RetireCredential{}, Kept: []RetireCredential{}, SignIns: rt.SignIns,
		Warnings: append([]string(nil), rt.Warnings...), Product: rt.Product,
	}
	if rt.SignIns.Last != nil {
		l := *rt.SignIns.Last
		res.SignIns.Last = &l
	}
	for _, cr := range rt.Credentials {
		if !cr.Retire {
			res.Kept = append(res.Kept, cr)
		}
	}
	return res
}

// DryRunResult is the retire's plan as a result (nothing changed).
func (rt *Retirement) DryRunResult(c cloud.Cloud) *RetireResult {
	res := rt.result(c)
	res.DryRun = true
	res.Plan = rt.plan.Output()
	for _, cr := range rt.Credentials {
		if cr.Retire {
			res.Retired = append(res.Retired, cr)
		}
	}
	return res
}

// Apply removes what the plan retires, all at once: secrets one request
// each, certificates in one update of the app's keyCredentials (read
// right before) or, signed in as the app itself, one removeKey each. The
// result says what went; an error, what did not.
func (rt *Retirement) Apply(ctx context.Context, env *Env) (*RetireResult, error) {
	if probs := rt.plan.Problems(); len(probs) > 0 {
		return nil, &PreconditionError{Problems: probs}
	}
	app := rt.Found.App
	plan := rt.plan
	res := rt.result(env.Cloud)
	for _, rec := range rt.stale {
		_ = rec.Settle() // nothing of it is left in the tenant
	}
	var mu sync.Mutex
	status := map[string][2]string{}
	var failed []error
	set := func(s *Step, st, outcome string, err error) {
		mu.Lock()
		status[s.ID] = [2]string{st, outcome}
		if err != nil {
			failed = append(failed, fmt.Errorf("removing %s: %w", s.Target, err))
		}
		mu.Unlock()
		env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: st, Detail: outcome})
	}
	finish := func(s *Step, err error) {
		switch {
		case err == nil:
			set(s, output.StepDone, "removed", nil)
		case ctx.Err() != nil:
			set(s, output.StepInterrupted, "the run was stopped while this step was in flight; entra-link retire --dry-run shows whether it went", nil)
		default:
			set(s, output.StepFailed, err.Error(), err)
		}
	}
	var g crash.Group
	var certSteps []*Step
	for _, s := range plan.Steps {
		if s.Action != ActRemove && s.ID != "certificates" {
			continue
		}
		c := rt.credentialFor(s.ID)
		switch {
		case s.ID == "certificates":
			g.Go(func() {
				env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
				finish(s, rt.removeCertificates(ctx, env.Graph))
			})
		case s.PartOf != "":
			certSteps = append(certSteps, s)
		case c == nil:
		case c.Kind == KindSecret:
			g.Go(func() {
				env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
				finish(s, rt.removeSecret(ctx, env.Graph, c.KeyID))
			})
		default:
			g.Go(func() {
				env.emit(Event{ID: s.ID, Action: string(s.Action), Target: s.Target, Status: StatusRunning})
				finish(s, rt.removeKey(ctx, env.Graph, c.KeyID))
			})
		}
	}
	g.Wait()
	mu.Lock()
	defer mu.Unlock()
	if st, ok := status["certificates"]; ok {
		for _, s := range certSteps {
			status[s.ID] = st
		}
	}
	res.Steps = plan.Output()
	for i, s := range plan.Steps {
		st, ok := status[s.ID]
		switch {
		case ok:
			res.Steps[i].Status, res.Steps[i].Outcome = st[0], st[1]
		case s.Action == ActCheck:
			res.Steps[i].Status = output.StepDone
		case s.Action == ActKeep:
			res.Steps[i].Status = output.StepSkipped
		default:
			res.Steps[i].Status = output.StepNotRun
		}
		if c := rt.credentialFor(s.ID); c != nil && c.Retire && ok && st[0] == output.StepDone {
			res.Retired = append(res.Retired, *c)
		}
	}
	done := len(res.Retired)
	switch {
	case ctx.Err() != nil:
		res.Error = fmt.Sprintf("interrupted after removing %s; the steps marked interrupted may or may not have taken effect (entra-link retire --dry-run shows what is left)", plural(done, "credential"))
		return res, ctx.Err()
	case len(failed) > 0:
		se := &StepsError{Failed: failed}
		res.Error = fmt.Sprintf("%v. The credentials marked done were removed, the others kept; run the same command again to retire the rest, or remove them in the Entra admin center: App registrations > %s > Certificates & secrets", se, app.DisplayName)
		return res, se
	}
	return res, nil
}

func (rt *Retirement) credentialFor(stepID string) *RetireCredential {
	for i, c := range rt.Credentials {
		if credentialStepID(c.CredentialInfo) == stepID {
			return &rt.Credentials[i]
		}
	}
	return nil
}

// removeSecret removes one secret; a secret that is gone already counts
// as removed. A journal record with nothing left in the tenant is settled.
func (rt *Retirement) removeSecret(ctx context.Context, g graph.API, keyID string) error {
	for _, l := range rt.left {
		if strings.EqualFold(l.cred.KeyID, keyID) {
			return removeLeftover(ctx, g, rt.Found.App.ID, l)
		}
	}
	err := g.RemovePassword(ctx, rt.Found.App.ID, keyID)
	if err != nil && !graph.IsNotFound(err) {
		return err
	}
	for _, r := range rt.records {
		if r.State == journal.StateDelivered && strings.EqualFold(r.KeyID, keyID) {
			_ = r.Settle()
		}
	}
	return nil
}

// removeCertificates updates the app's keyCredentials without the retired
// certificates: read right before (with their keys, which a PATCH must
// carry), so that only the retired ones go.
func (rt *Retirement) removeCertificates(ctx context.Context, g graph.API) error {
	full, err := g.ApplicationByID(ctx, rt.Found.App.ID)
	if err != nil {
		return fmt.Errorf("reading the app's certificates: %w", err)
	}
	keep := make([]graph.KeyCredential, 0, len(full.KeyCredentials))
	for _, k := range full.KeyCredentials {
		c := rt.credentialFor(credentialStepID(CredentialInfo{Kind: KindCertificate, KeyID: k.KeyID}))
		if c == nil || !c.Retire {
			keep = append(keep, k)
		}
	}
	if len(keep) == len(full.KeyCredentials) {
		return nil // gone already
	}
	return g.UpdateApplication(ctx, rt.Found.App.ID, graph.ApplicationUpdate{KeyCredentials: &keep})
}

// removeKey removes one certificate with removeKey, proven by the
// certificate entra-link signed in with.
func (rt *Retirement) removeKey(ctx context.Context, g graph.API, keyID string) error {
	proof, err := rt.req.Signer.Proof(rt.Found.App.ID, time.Now())
	if err != nil {
		return err
	}
	return g.RemoveKey(ctx, rt.Found.App.ID, keyID, proof)
}
