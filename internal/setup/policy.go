package setup

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/profile"
)

// App management policies (endpoints.md §11) restrict the credentials and
// identifier URIs of apps. Preflight reads the policy when the signed-in
// identity may (Policy.Read.All, which entra-link's sign-in does not ask
// for: see README, "Your tenant's rules"), and the plan applies it before
// any write: a longer secret than allowed is shortened and the plan says
// so (refused when --secret-expiry asked for it), a credential type the
// policy forbids stops the run with words for the security team, and an
// identifier URI it refuses too. When the policy is not known, consents,
// roles and owners wait for the credential, and Graph's refusal is put in
// the same words. The rules are here,
// apart from the credential steps they adjust (planner.credential).

// PolicyRead is what preflight learned of the app management policy.
type PolicyRead struct {
	// Default is the tenant default; nil when it could not be read.
	Default *graph.AppManagementPolicy
	// App is the policy assigned to the existing app (nil: none, or not read).
	App *graph.AppManagementPolicy
	// AppRead: the existing app's own policy was read.
	AppRead bool
	// Unread says, in words, why the policy that governs the app is not
	// known ("" when it is).
	Unread string
}

// Restriction types (restrictionType) entra-link's plan applies.
const (
	restrictPasswordAddition = "passwordAddition"
	restrictPasswordLifetime = "passwordLifetime"
	restrictKeyLifetime      = "asymmetricKeyLifetime"
)

// policyScopes are the permissions that let an identity read the tenant's
// app management policy (tenantappmanagementpolicy-get).
var policyScopes = []string{"Policy.Read.All", "Policy.Read.ApplicationConfiguration", "Policy.ReadWrite.ApplicationConfiguration"}

// readDefaultPolicy reads the tenant default when the token allows it;
// otherwise it says why not. It never fails the preflight.
func readDefaultPolicy(ctx context.Context, g graph.API, id graph.Identity) PolicyRead {
	have := id.Scopes
	if id.AppOnly {
		have = id.Roles
	}
	if !hasAny(have, policyScopes...) {
		if id.AppOnly {
			return PolicyRead{Unread: "the signed-in app lacks the Policy.Read.All application permission"}
		}
		return PolicyRead{Unread: "the sign-in does not carry Policy.Read.All (entra-link does not ask for it)"}
	}
	p, err := g.DefaultAppManagementPolicy(ctx)
	switch {
	case err == nil:
		return PolicyRead{Default: &p}
	case graph.IsForbidden(err) && id.AppOnly:
		return PolicyRead{Unread: "the signed-in app may not read it"}
	case graph.IsForbidden(err):
		return PolicyRead{Unread: "your directory role may not read it (that needs Global Reader or Global Administrator)"}
	}
	return PolicyRead{Unread: "reading it failed (" + briefly(err) + ")"}
}

// readAppPolicy reads the policy assigned to an existing app, when the
// default could be read (the same permission reads both).
func readAppPolicy(ctx context.Context, g graph.API, pr *PolicyRead, app *graph.Application) {
	if pr.Default == nil || app == nil {
		return
	}
	ps, err := g.AppManagementPolicies(ctx, app.ID)
	if err != nil {
		pr.Unread = "the policy assigned to the app could not be read (" + briefly(err) + ")"
		return
	}
	pr.AppRead = true
	if len(ps) > 0 {
		pr.App = &ps[0]
	}
}

// briefly names a failed request without Go's error chain.
func briefly(err error) string {
	if s := graph.StatusOf(err); s > 0 {
		if c := graph.CodeOf(err); c != "" {
			return fmt.Sprintf("Graph answered %d %s", s, c)
		}
		return fmt.Sprintf("Graph answered %d", s)
	}
	return "no answer from Graph"
}

// governingPolicy is the policy that governs the app (nil: no enabled
// restriction), and whether that is known. A policy assigned to the app
// replaces the tenant default for it.
func (t *Tenant) governingPolicy() (*graph.AppManagementPolicy, bool) {
	pr := t.Policy
	if pr.Default == nil {
		return nil, false
	}
	if t.App != nil {
		if !pr.AppRead {
			return nil, false
		}
		if pr.App != nil && pr.App.Enabled {
			return pr.App, true
		}
	}
	if pr.Default.Enabled {
		return pr.Default, true
	}
	return nil, true
}

func policyName(p *graph.AppManagementPolicy) string {
	if p.Default {
		return "the tenant's default app management policy"
	}
	if p.DisplayName != "" {
		return fmt.Sprintf("the app management policy %q assigned to the app", p.DisplayName)
	}
	return "the app management policy assigned to the app"
}

// applies reports whether a restriction governs an app created at created.
func applies(r graph.CredentialRestriction, created time.Time) bool {
	return !r.Disabled && (r.Since.IsZero() || !created.Before(r.Since))
}

func findRestriction(rs []graph.CredentialRestriction, typ string, created time.Time) *graph.CredentialRestriction {
	for i, r := range rs {
		if strings.EqualFold(r.Type, typ) && applies(r, created) {
			return &rs[i]
		}
	}
	return nil
}

// since says from when a restriction applies, in words ("" for all apps).
func since(r graph.CredentialRestriction) string {
	if r.Since.IsZero() {
		return ""
	}
	return " on apps created since " + r.Since.Format("2006-01-02")
}

// appCreated is when the app was created: now for a new one.
func (b *planner) appCreated() time.Time {
	if b.t != nil && b.t.App != nil && !b.t.App.CreatedDateTime.IsZero() {
		return b.t.App.CreatedDateTime
	}
	return b.opt.Now
}

// clockMargin keeps a shortened lifetime inside the policy's limit when
// this machine's clock runs ahead of Entra's.
const clockMargin = time.Hour

// credentialPolicy applies the policy to the credential the plan adds.
func (b *planner) credentialPolicy() {
	if b.opt.Verify {
		return
	}
	cred := b.stepByID("credential")
	if cred == nil || cred.payload == nil || (cred.Action != ActCreate && cred.Action != ActCreateOrUpdate) {
		return // kept, none, or a missing certificate (its own check says so)
	}
	what := "client secret"
	if cred.Kind == KindKeyCredential {
		what = "certificate"
	}
	chk := b.check("check/credential-policy", KindCredentialPolicy, "app management policy ("+what+"s)", "")
	if b.offline() {
		chk.Unknown = "read once signed in, where the identity may (Policy.Read.All): a client secret longer than it allows is shortened; if it forbids client secrets, the run stops before any change"
		if cred.Kind == KindKeyCredential {
			chk.Unknown = "read once signed in, where the identity may (Policy.Read.All): a certificate valid longer than it allows is refused before any change (a generated one is made shorter)"
		}
		return
	}
	if cred.Action != ActCreate {
		return
	}
	pol, known := b.t.governingPolicy()
	switch {
	case !known:
		chk.Unknown = "could not be read: " + b.t.Policy.Unread + "; consents, roles and owners wait for the " + what + ", so that a refusal leaves nothing granted to an app that cannot sign in"
		b.gateOnCredential(cred)
		return
	case pol == nil:
		chk.Detail = "no restriction on app credentials is enabled"
		return
	}
	created := b.appCreated()
	if cred.Kind == KindClientSecret {
		b.secretPolicy(chk, cred, pol, created)
		return
	}
	b.certificatePolicy(chk, cred, pol, created)
}

func (b *planner) secretPolicy(chk, cred *Step, pol *graph.AppManagementPolicy, created time.Time) {
	name := policyName(pol)
	if r := findRestriction(pol.Passwords, restrictPasswordAddition, created); r != nil {
		if r.Exemptions {
			chk.Unknown = name + " blocks new client secrets" + since(*r) + " but exempts some people, maybe you; consents, roles and owners wait for the secret"
			b.gateOnCredential(cred)
			return
		}
		chk.Problem = secretsBlocked(b.p.Product, b.s.Profile.AllowsCredential(profile.CredentialCertificate), name+" does not allow new client secrets"+since(*r)+" (passwordAddition)")
		return
	}
	r := findRestriction(pol.Passwords, restrictPasswordLifetime, created)
	sc, ok := cred.payload.(*secretCreate)
	if r == nil || !ok {
		chk.Detail = name + " allows this client secret"
		return
	}
	limit, ok := addISODuration(b.opt.Now, r.MaxLifetime)
	if !ok {
		chk.Unknown = fmt.Sprintf("%s limits client secrets to %q, which entra-link does not understand; consents, roles and owners wait for the secret", name, r.MaxLifetime)
		b.gateOnCredential(cred)
		return
	}
	words := isoWords(r.MaxLifetime)
	chk.Detail = fmt.Sprintf("%s allows client secrets for at most %s (passwordLifetime %s)", name, words, r.MaxLifetime)
	if !sc.end.After(limit) {
		return
	}
	if b.s.SecretExpirySet {
		chk.Problem = fmt.Sprintf("--secret-expiry %s: %s allows client secrets for at most %s (passwordLifetime %s%s). Use --secret-expiry %s or less, or leave --secret-expiry out to get the longest allowed",
			b.s.SecretExpiry, name, words, r.MaxLifetime, since(*r), shortLifetime(r.MaxLifetime))
		return
	}
	if r.Exemptions {
		// Shorter is allowed either way; say why it is shorter.
		chk.Detail += "; it exempts some people, maybe you"
	}
	end := limit.Add(-clockMargin)
	if !end.After(b.opt.Now.Add(secretGrace)) {
		chk.Problem = fmt.Sprintf("%s allows client secrets for at most %s (passwordLifetime %s), too short for %s to work with. Ask your security team for a longer lifetime for this app", name, words, r.MaxLifetime, b.p.Product)
		return
	}
	sc.end = end
	cred.Detail = fmt.Sprintf("valid until %s: shortened from %s to the longest %s allows (%s)", end.Format("2006-01-02"), b.s.SecretExpiry.Human(), name, words)
}

func (b *planner) certificatePolicy(chk, cred *Step, pol *graph.AppManagementPolicy, created time.Time) {
	name := policyName(pol)
	r := findRestriction(pol.Keys, restrictKeyLifetime, created)
	if r == nil {
		chk.Detail = name + " does not limit certificates"
		return
	}
	words := isoWords(r.MaxLifetime)
	chk.Detail = fmt.Sprintf("%s allows certificates valid for at most %s (asymmetricKeyLifetime %s)", name, words, r.MaxLifetime)
	if c := b.p.cert; c != nil && cred.Kind == KindKeyCredential {
		limit, ok := addISODuration(c.cert.NotBefore, r.MaxLifetime)
		if ok && c.cert.NotAfter.After(limit) && !r.Exemptions {
			chk.Problem = fmt.Sprintf("--certificate-file %s is valid from %s until %s, longer than %s allows for certificates (%s, asymmetricKeyLifetime %s%s). Ask %s for a certificate valid for at most %s, or generate one with --certificate-out DIR",
				c.file, c.cert.NotBefore.UTC().Format("2006-01-02"), c.cert.NotAfter.UTC().Format("2006-01-02"), name, words, r.MaxLifetime, since(*r), b.p.Product, words)
		}
		return
	}
	kp := b.stepByID("key-pair")
	if kp == nil {
		return
	}
	gen, ok := kp.payload.(*keyPairCreate)
	if !ok {
		return
	}
	// A generated certificate starts certs.Backdate before now.
	start := b.opt.Now.Add(-certs.Backdate)
	limit, ok := addISODuration(start, r.MaxLifetime)
	if !ok {
		return
	}
	if gen.lifetime.AddTo(b.opt.Now).After(limit) {
		gen.maxValidity = limit.Add(-clockMargin).Sub(b.opt.Now)
		kp.Target = fmt.Sprintf("key pair and self-signed certificate (RSA 2048, valid until %s: shortened from %s to the longest %s allows)",
			b.opt.Now.Add(gen.maxValidity).Format("2006-01-02"), gen.lifetime.Human(), name)
	}
}

// gateOnCredential makes what grants the app power — consents, directory
// roles, owners — wait for the credential: when the policy is not known, a
// refused credential then leaves nothing granted to an app that cannot
// sign in. The service principal is made alongside the credential (it
// grants nothing, and a secret delivered before an interruption works only
// once it exists), so a fresh setup keeps its four round trips.
func (b *planner) gateOnCredential(cred *Step) {
	for _, st := range b.steps {
		switch st.Kind {
		case KindConsent, KindGrant, KindRole, KindOwner:
			if st.payload != nil && st.PartOf == "" && !containsFold(st.After, cred.ID) {
				st.After = append(st.After, cred.ID)
			}
		}
	}
}

// identifierURIPolicy checks the identifier URIs the plan adds (Relution's
// server URL) against the policy's identifierUriConfiguration.
func (b *planner) identifierURIPolicy() {
	if b.offline() || b.opt.Verify {
		return
	}
	var adds []string
	for _, st := range b.steps {
		if st.Kind == KindIdentifierURI && st.Action == ActCreate {
			adds = append(adds, strings.TrimPrefix(st.ID, "identifier/"))
		}
	}
	if len(adds) == 0 {
		return
	}
	chk := b.check("check/identifier-uri-policy", KindURIPolicy, "app management policy (identifier URIs)", "")
	pol, known := b.t.governingPolicy()
	switch {
	case !known:
		chk.Unknown = "could not be read: " + b.t.Policy.Unread + "; Entra refuses the app's identifier URI if the policy does not allow it"
		return
	case pol == nil:
		chk.Detail = "no restriction on identifier URIs is enabled"
		return
	}
	name, created := policyName(pol), b.appCreated()
	uriApplies := func(r *graph.URIRestriction) bool {
		// entra-link's apps receive v1 tokens and are not SAML apps, so
		// the v2 and SAML exemptions never cover them.
		return r != nil && !r.Disabled && !r.Exemptions && (r.Since.IsZero() || !created.Before(r.Since))
	}
	appID := ""
	if b.t.App != nil {
		appID = strings.ToLower(b.t.App.AppID)
	}
	tenantID := strings.ToLower(b.t.Org.ID)
	for _, u := range adds {
		l := strings.ToLower(u)
		if uriApplies(pol.NonDefaultURIs) && (appID == "" || l != "api://"+appID && l != "api://"+tenantID+"/"+appID) {
			chk.Problem = fmt.Sprintf("%s allows only identifier URIs of the form api://{appId} (nonDefaultUriAddition), and %s needs %s as its Application ID URI. Ask your security team to exempt this app from that restriction",
				name, b.p.Product, u)
			return
		}
		if uriApplies(pol.URIsWithoutTenantID) && !uriHasTenantIdentifier(l, tenantID, appID, b.t.Org) {
			chk.Problem = fmt.Sprintf("%s allows only identifier URIs that contain a verified domain, the tenant ID or the app ID (uriAdditionWithoutUniqueTenantIdentifier), and %s is none of these. Use a URL on a verified domain of the tenant",
				name, u)
			return
		}
	}
	chk.Detail = name + " allows " + strings.Join(adds, ", ")
}

func uriHasTenantIdentifier(uri, tenantID, appID string, org graph.Organization) bool {
	if strings.Contains(uri, tenantID) || appID != "" && strings.Contains(uri, appID) {
		return true
	}
	host := uri
	if i := strings.Index(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	if i := strings.IndexAny(host, "/:?#"); i >= 0 {
		host = host[:i]
	}
	return verifiedHost(org, host)
}

// secretsBlocked is the refusal, in words an admin can take to the
// security team, when the policy forbids client secrets.
func secretsBlocked(product string, certificateOK bool, why string) string {
	if certificateOK {
		return fmt.Sprintf("%s. %s also accepts a certificate: run again with --credential certificate and --certificate-out DIR (a key pair generated here) or --certificate-file FILE (one you have)", why, product)
	}
	return fmt.Sprintf("%s, and %s signs in only with a client secret. To go ahead, ask your security team to allow client secrets for %s's app (with an app management policy assigned to the app) or to relax the passwordAddition restriction of the tenant's default policy",
		why, product, product)
}

// PolicyError is a credential or identifier URI that the tenant's app
// management policy refused when it was written, in words.
type PolicyError struct{ Msg string }

func (e *PolicyError) Error() string { return e.Msg }

// translate puts Graph's refusals that a plan could not foresee (the
// policy could not be read, or one assigned to the app) into the words the
// plan uses when it can; other errors are returned as they are.
func (p *Plan) translate(s *Step, err error) error {
	if err == nil {
		return nil
	}
	code := graph.CodeOf(err)
	switch {
	case code == graph.CodeServiceManagementReference && s.Kind == KindApp:
		return &UsageError{Msg: "this tenant requires a service management reference on new apps (ServiceTreeValueMissing): run again with --service-management-reference ID, the ID of the app's entry in your service catalogue (ask whoever runs it). Nothing in the tenant was changed"}
	case graph.IsCredentialPolicy(err) && (s.Kind == KindClientSecret || s.Kind == KindKeyCredential):
		return &PolicyError{Msg: p.credentialRefused(s, code)}
	case s.Kind == KindApp && graph.StatusOf(err) == 400 && (code == "InvalidUniqueTenantIdentifierAsPerAppPolicy" || strings.Contains(strings.ToLower(graphMessage(err)), "app management policy")):
		msg := fmt.Sprintf("the tenant's app management policy refused the app's identifier URI (%s), and %s needs it. Ask your security team to exempt this app from the policy's identifier URI restriction", strings.Join(p.Spec.IdentifierURIs, ", "), p.Product)
		if p.Tenant.App == nil {
			return &UsageError{Msg: msg + ". Nothing in the tenant was changed"}
		}
		return &PolicyError{Msg: msg}
	}
	return err
}

func graphMessage(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.Message
	}
	return ""
}

// credentialRefused says why Graph refused the credential, as the plan
// would have had it known the policy.
func (p *Plan) credentialRefused(s *Step, code string) string {
	unread := ""
	if p.Tenant != nil && p.Tenant.Policy.Unread != "" {
		unread = " (the policy could not be read before: " + p.Tenant.Policy.Unread + ")"
	}
	if s.Kind == KindClientSecret {
		if code == graph.CodeCredentialType {
			return secretsBlocked(p.Product, p.Spec.Profile.AllowsCredential(profile.CredentialCertificate),
				"the tenant's app management policy does not allow client secrets on this app"+unread)
		}
		lifetime := p.Spec.SecretExpiry.Human()
		if sc, ok := s.payload.(*secretCreate); ok {
			lifetime = "until " + sc.end.UTC().Format("2006-01-02")
		}
		return fmt.Sprintf("the tenant's app management policy does not allow a client secret valid %s%s. Run again with a shorter --secret-expiry (ask your security team for the limit), e.g. --secret-expiry 90d", lifetime, unread)
	}
	if code == graph.CodeCredentialType {
		return fmt.Sprintf("the tenant's app management policy does not allow certificates on this app%s, and %s signs in with one. Ask your security team to allow certificates for this app", unread, p.Product)
	}
	return fmt.Sprintf("the tenant's app management policy does not allow a certificate valid that long%s. Use a certificate with a shorter validity (ask your security team for the limit)", unread)
}

// RotationRefused says, for rotate-secret, why Graph refused the secret.
func RotationRefused(err error, product string, end time.Time) error {
	if !graph.IsCredentialPolicy(err) {
		return err
	}
	if graph.CodeOf(err) == graph.CodeCredentialType {
		return &PolicyError{Msg: secretsBlocked(product, false, "the tenant's app management policy does not allow new client secrets on this app") + " (no secret was added)"}
	}
	return &PolicyError{Msg: fmt.Sprintf("the tenant's app management policy does not allow a client secret valid until %s; run again with a shorter --secret-expiry (ask your security team for the limit), e.g. --secret-expiry 90d. No secret was added", end.UTC().Format("2006-01-02"))}
}

// --- ISO 8601 durations (Edm.Duration: PnYnMnWnDTnHnMnS) ---

var isoDurationRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// isoParts parses d into its numbers: years, months, weeks, days, hours,
// minutes, seconds.
func isoParts(d string) ([7]float64, bool) {
	var out [7]float64
	m := isoDurationRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(d)))
	if m == nil || len(d) < 3 || strings.HasSuffix(d, "T") {
		return out, false
	}
	for i := range out {
		if m[i+1] != "" {
			v, err := strconv.ParseFloat(m[i+1], 64)
			if err != nil {
				return out, false
			}
			out[i] = v
		}
	}
	return out, true
}

// addISODuration adds an ISO 8601 duration to t in calendar terms.
func addISODuration(t time.Time, d string) (time.Time, bool) {
	p, ok := isoParts(d)
	if !ok {
		return time.Time{}, false
	}
	out := t.AddDate(int(p[0]), int(p[1]), 7*int(p[2])+int(p[3]))
	return out.Add(time.Duration(p[4])*time.Hour + time.Duration(p[5])*time.Minute + time.Duration(p[6]*float64(time.Second))), true
}

// isoWords renders an ISO 8601 duration in words: P90D is "90 days".
func isoWords(d string) string {
	p, ok := isoParts(d)
	if !ok {
		return d
	}
	units := []string{"year", "month", "week", "day", "hour", "minute", "second"}
	var parts []string
	for i, v := range p {
		if v == 0 {
			continue
		}
		n := strconv.FormatFloat(v, 'f', -1, 64)
		w := units[i]
		if v != 1 {
			w += "s"
		}
		parts = append(parts, n+" "+w)
	}
	if len(parts) == 0 {
		return "0 days"
	}
	return strings.Join(parts, " ")
}

// shortLifetime suggests a --secret-expiry value no longer than d.
func shortLifetime(d string) string {
	p, ok := isoParts(d)
	if !ok {
		return "90d"
	}
	days := int(p[0]*365 + p[1]*28 + p[2]*7 + p[3])
	switch {
	case p[0] > 0 && p[1] == 0 && p[2] == 0 && p[3] == 0 && p[4]+p[5]+p[6] == 0:
		return strconv.Itoa(int(p[0])) + "y"
	case p[1] > 0 && p[0] == 0 && p[2] == 0 && p[3] == 0 && p[4]+p[5]+p[6] == 0:
		return strconv.Itoa(int(p[1])) + "m"
	case days >= 1:
		return strconv.Itoa(days) + "d"
	}
	return "1d"
}
