package setup

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/certs"
	"github.com/entra-link/entra-link/internal/output"
	"github.com/entra-link/entra-link/internal/profile"
)

// secretGrace is how long an existing secret must still be valid for a
// run to keep it rather than add a new one. The one place of this rule.
const secretGrace = 24 * time.Hour

// certificateLifetime is the validity of a generated certificate.
var certificateLifetime = profile.Lifetime{N: 1, Unit: 'y'}

// validSecret is the app's client secret a run keeps: the one valid
// longest, if it is valid for more than secretGrace.
func validSecret(app *graph.Application, now time.Time) *graph.PasswordCredential {
	if app == nil {
		return nil
	}
	var best *graph.PasswordCredential
	for i, pc := range app.PasswordCredentials {
		if pc.EndDateTime.After(now.Add(secretGrace)) && (best == nil || pc.EndDateTime.After(best.EndDateTime)) {
			best = &app.PasswordCredentials[i]
		}
	}
	return best
}

// validCertificate is the app's certificate a run keeps when it is not
// told which certificate to use: the one valid longest.
func validCertificate(app *graph.Application, now time.Time) *graph.KeyCredential {
	if app == nil {
		return nil
	}
	var best *graph.KeyCredential
	for i, k := range app.KeyCredentials {
		if k.EndDateTime.After(now.Add(secretGrace)) && (best == nil || k.EndDateTime.After(best.EndDateTime)) {
			best = &app.KeyCredentials[i]
		}
	}
	return best
}

// certificateOnApp is the app's certificate with the given thumbprint.
func certificateOnApp(app *graph.Application, thumbprint string) *graph.KeyCredential {
	if app == nil {
		return nil
	}
	for i, k := range app.KeyCredentials {
		if strings.EqualFold(keyThumbprint(k), thumbprint) {
			return &app.KeyCredentials[i]
		}
	}
	return nil
}

// certCandidate is the certificate from --certificate-file.
type certCandidate struct {
	file string
	cert *certs.Certificate
}

// planner builds one setup plan.
type planner struct {
	p      *Plan
	s      *profile.Spec
	t      *Tenant
	opt    PlanOptions
	checks []*Step
	steps  []*Step
	// created / updated say whether the app step writes the app.
	appWrites  bool
	appNew     bool
	appRemoves bool
	spNew      bool
	resNew     map[string]bool
	// left are secrets earlier runs on this machine added and never
	// handed over (the journal): removed by this run.
	left []leftover
}

// NewPlan computes what a setup run does: the steps that make the tenant
// match s, from what preflight read (t) or, when t is nil, from nothing —
// then the steps that depend on the tenant say "create or update". Input
// that cannot be applied in this tenant at all is a *UsageError; the
// preconditions that fail are the plan's Problems.
func NewPlan(s *profile.Spec, t *Tenant, opt PlanOptions) (*Plan, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	opt.Now = opt.Now.UTC()
	p := &Plan{Spec: s, Tenant: t, Options: opt, Product: s.Profile.Product, ids: map[string]string{},
		stepPerms: map[string][]profile.Permission{}, stepRoles: map[string]profile.Role{}}
	b := &planner{p: p, s: s, t: t, opt: opt, resNew: map[string]bool{}}
	if t == nil {
		// Offline, the rounds are those of a fresh tenant.
		b.appNew, b.appWrites, b.spNew = true, true, true
	}
	if err := b.validate(); err != nil {
		return nil, err
	}
	b.certificateFile()
	b.domains()
	b.app()
	b.resources()
	b.servicePrincipal()
	b.leftovers()
	b.credential()
	b.consents()
	b.grants()
	b.roles()
	b.owners()
	b.credentialPolicy()
	b.identifierURIPolicy()
	b.outputs()
	b.pruneOrder()
	p.Steps = append(b.checks, b.steps...)
	p.computeRounds()
	b.warnings()
	return p, nil
}

func (b *planner) check(id string, kind Kind, target, detail string) *Step {
	st := &Step{ID: id, Kind: kind, Action: ActCheck, Target: target, Detail: detail}
	b.checks = append(b.checks, st)
	return st
}

func (b *planner) add(st *Step) *Step {
	b.steps = append(b.steps, st)
	return st
}

// stepByID is the planned step with this ID, or nil.
func (b *planner) stepByID(id string) *Step {
	for _, st := range b.steps {
		if st.ID == id {
			return st
		}
	}
	return nil
}

// offline reports whether the plan is made without the tenant: the steps
// that depend on it then say "create or update".
func (b *planner) offline() bool { return b.t == nil }

// validate refuses what no plan can do in this tenant.
func (b *planner) validate() error {
	t, s := b.t, b.s
	if t == nil {
		for _, perm := range s.Permissions {
			b.p.ids[permKey(perm.ResourceAppID, perm.Name, perm.Type)] = perm.ID
		}
		return nil
	}
	if t.App != nil && t.Identity.ClientAppID != "" && strings.EqualFold(t.App.AppID, t.Identity.ClientAppID) {
		return &UsageError{Msg: fmt.Sprintf("%q (client ID %s) is the app entra-link is signed in as; setup does not change the identity it runs as (nothing was changed)", t.App.DisplayName, t.App.AppID)}
	}
	if b.opt.Prune && t.App != nil && !t.Managed() && !b.opt.Verify {
		return &UsageError{Msg: fmt.Sprintf("--prune: %q (client ID %s) was not made by entra-link, and --prune removes only from apps entra-link manages. Run the same command without --prune first: it adopts the app and lists what --prune would remove (nothing was changed)",
			t.App.DisplayName, t.App.AppID)}
	}
	for _, perm := range s.Permissions {
		id := perm.ID
		if sp, ok := t.resource(perm.ResourceAppID); ok {
			found := false
			if perm.Type == catalog.Application {
				for _, ar := range sp.AppRoles {
					if ar.Value == perm.Name && ar.IsEnabled {
						id, found = ar.ID, true
					}
				}
			} else {
				for _, sc := range sp.Scopes {
					if sc.Value == perm.Name && sc.IsEnabled {
						id, found = sc.ID, true
					}
				}
			}
			if !found {
				return &UsageError{Msg: fmt.Sprintf("the tenant's %s service principal publishes no enabled %s permission %q; the profile cannot be applied in this tenant (nothing was changed)",
					perm.Resource, perm.Type, perm.Name)}
			}
		}
		b.p.ids[permKey(perm.ResourceAppID, perm.Name, perm.Type)] = id
	}
	return nil
}

// certificateFile checks --certificate-file: a readable, valid certificate.
func (b *planner) certificateFile() {
	if b.s.CertificateFile == "" || b.s.Credential != profile.CredentialCertificate {
		return
	}
	st := b.check("check/certificate-file", KindCertificateFile, "--certificate-file "+b.s.CertificateFile, "a readable certificate (PEM or DER), public part only")
	c, err := certs.Load(b.s.CertificateFile, b.opt.Now)
	if err != nil {
		st.Problem = "--certificate-file: " + err.Error()
		return
	}
	st.Detail = fmt.Sprintf("thumbprint %s, expires %s", c.Thumbprint, c.NotAfter.UTC().Format("2006-01-02"))
	b.p.cert = &certCandidate{file: b.s.CertificateFile, cert: c}
}

// domains: Entra accepts an https identifier URI only on a verified domain.
func (b *planner) domains() {
	if b.opt.Verify {
		return // the app has its URIs: Entra accepted them
	}
	for _, h := range b.s.VerifiedDomainHosts {
		st := b.check("check/domain/"+h, KindVerifiedDomain, "verified domain "+h,
			"Entra accepts an https identifier URI only on a verified domain of the tenant (or a subdomain of one)")
		switch {
		case b.t == nil:
			st.Unknown = "checked once signed in"
		case b.t.orgUnknown:
			st.Unknown = "the tenant's verified domains could not be read; Entra refuses the app if it is not one"
		case !verifiedHost(b.t.Org, h):
			names := make([]string, 0, len(b.t.Org.VerifiedDomains))
			for _, d := range b.t.Org.VerifiedDomains {
				names = append(names, d.Name)
			}
			st.Problem = fmt.Sprintf("%s is not a verified domain of the tenant %s, and Entra only accepts an https Application ID URI on a verified domain (or a subdomain of one). Verified domains: %s. Verify the domain (Entra admin center > Domain names) or use a server URL on one of these",
				h, tenantLabel(b.t.Org), strings.Join(names, ", "))
		}
	}
}

func audienceWords(signInAudience string) string {
	switch signInAudience {
	case "AzureADMyOrg":
		return "single tenant"
	case "AzureADMultipleOrgs":
		return "multi-tenant"
	}
	return signInAudience
}

// desiredTags are the app's tags with entra-link's rewritten to the spec's.
func (b *planner) desiredTags(existing []string) []string {
	var out []string
	for _, tag := range existing {
		if tag == profile.Tag || strings.HasPrefix(tag, profile.Tag+":") {
			continue
		}
		out = append(out, tag)
	}
	return append(out, b.s.Tags...)
}

// tagWords lists tags for the plan, the inputs tag with what it records.
func (b *planner) tagWords(tags []string) string {
	words := make([]string, len(tags))
	for i, t := range tags {
		words[i] = t
		if profile.IsInputsTag(t) {
			words[i] = t + " (fingerprint of " + profile.URIInputFlags(b.s.Profile) + ")"
		}
	}
	return strings.Join(words, ", ")
}

// app plans the app registration and its lists: tags, identifier URIs,
// redirect URIs and requested permissions, carried out by one request.
func (b *planner) app() {
	s, t := b.s, b.t
	name := b.p.displayName()
	appStep := b.add(&Step{ID: "app", Kind: KindApp, Target: fmt.Sprintf("app registration %q", name)})
	part := func(id string, kind Kind, action Action, target, detail string) *Step {
		return b.add(&Step{ID: id, Kind: kind, Action: action, Target: target, Detail: detail, PartOf: "app"})
	}
	tags := b.tagWords(s.Tags)
	key := UniqueName(s.Profile.ID, s.DisplayName)
	if b.offline() {
		appStep.payload = offlineOnly{}
		appStep.Action = ActCreateOrUpdate
		appStep.Detail = audienceWords(s.SignInAudience) + "; the app entra-link made before (found by its tags) is updated, else a new one is created"
		if s.AppID != "" {
			appStep.Target = "app registration " + s.AppID
			appStep.Detail = "the existing app named by --app-id; its other permissions and URIs are kept (--prune removes them)"
		}
		if s.AppID == "" {
			part("unique-name", KindUniqueName, ActCreateOrUpdate, "unique name "+key,
				"runs for the same product and name meet on one app")
		}
		part("tags", KindTags, ActCreateOrUpdate, "entra-link tags", tags)
		for _, u := range s.IdentifierURIs {
			part("identifier/"+u, KindIdentifierURI, ActCreateOrUpdate, "identifier URI "+u, "")
		}
		for _, u := range s.RedirectURIs {
			part("redirect/"+u, KindRedirectURI, ActCreateOrUpdate, "redirect URI "+u, b.redirectDetail())
		}
		for _, perm := range s.Permissions {
			part("permission/"+permKey(perm.ResourceAppID, perm.Name, perm.Type), KindPermission, ActCreateOrUpdate, "API permission "+PermissionTarget(perm), "")
		}
		b.appProperties(nil, nil, nil, part)
		return
	}
	if t.App == nil {
		b.appNew, b.appWrites = true, true
		appStep.Action = ActCreate
		appStep.Detail = audienceWords(s.SignInAudience)
		part("unique-name", KindUniqueName, ActCreate, "unique name "+key, "runs for the same product and name meet on this app")
		part("tags", KindTags, ActCreate, "entra-link tags", tags)
		for _, u := range s.IdentifierURIs {
			part("identifier/"+u, KindIdentifierURI, ActCreate, "identifier URI "+u, "")
		}
		for _, u := range s.RedirectURIs {
			part("redirect/"+u, KindRedirectURI, ActCreate, "redirect URI "+u, b.redirectDetail())
		}
		for _, perm := range s.Permissions {
			part("permission/"+permKey(perm.ResourceAppID, perm.Name, perm.Type), KindPermission, ActCreate, "API permission "+PermissionTarget(perm), "")
		}
		idToken := false
		if s.IDTokenIssuance != nil {
			idToken = *s.IDTokenIssuance
		}
		app := graph.Application{
			DisplayName:            name,
			SignInAudience:         s.SignInAudience,
			Tags:                   b.desiredTags(nil),
			IdentifierURIs:         s.IdentifierURIs,
			Web:                    graph.Web{RedirectURIs: s.RedirectURIs, EnableIDTokenIssuance: idToken},
			RequiredResourceAccess: b.requiredResourceAccess(nil, nil),
		}
		b.appProperties(nil, &app, nil, part)
		appStep.payload = &appCreate{key: key, app: app}
		return
	}

	cur := *t.App
	var u graph.ApplicationUpdate
	var changes []string
	if s.DisplayNameSet && cur.DisplayName != s.DisplayName {
		u.DisplayName = &s.DisplayName
		changes = append(changes, fmt.Sprintf("display name %q → %q", cur.DisplayName, s.DisplayName))
	}
	wantAudience := s.SignInAudience
	if !s.AudienceSet && b.allowsAudience(cur.SignInAudience) {
		wantAudience = cur.SignInAudience
	}
	if cur.SignInAudience != wantAudience {
		u.SignInAudience = &wantAudience
		changes = append(changes, fmt.Sprintf("account type %s → %s", audienceWords(cur.SignInAudience), audienceWords(wantAudience)))
	}
	web := cur.Web
	if s.IDTokenIssuance != nil && cur.Web.EnableIDTokenIssuance != *s.IDTokenIssuance {
		web.EnableIDTokenIssuance = *s.IDTokenIssuance
		changes = append(changes, "ID token issuance "+onOff(cur.Web.EnableIDTokenIssuance)+" → "+onOff(*s.IDTokenIssuance))
	}
	listChanged := false
	adoptKey := ""
	if s.AppID == "" && cur.UniqueName == "" && !b.opt.Verify {
		// Made by entra-link before apps had a unique name: it gets one.
		adoptKey = key
		part("unique-name", KindUniqueName, ActCreate, "unique name "+key, "set once; runs for the same product and name meet on this app")
		listChanged = true
	}

	if want := b.desiredTags(cur.Tags); sameSet(want, cur.Tags) {
		part("tags", KindTags, ActKeep, "entra-link tags", tags)
	} else {
		var add, del []string
		for _, w := range want {
			if !slices.Contains(cur.Tags, w) {
				add = append(add, w)
			}
		}
		for _, c := range cur.Tags {
			if !slices.Contains(want, c) {
				del = append(del, c)
			}
		}
		var d []string
		if i, j := slices.IndexFunc(add, profile.IsInputsTag), slices.IndexFunc(del, profile.IsInputsTag); i >= 0 && j >= 0 {
			// Other URI inputs than last time: one tag replaces the other.
			d = append(d, "record the new "+profile.URIInputFlags(s.Profile)+" ("+add[i]+")")
			add, del = slices.Delete(add, i, i+1), slices.Delete(del, j, j+1)
		}
		if len(add) > 0 {
			d = append(d, "add "+b.tagWords(add))
		}
		if len(del) > 0 {
			d = append(d, "remove "+strings.Join(del, ", "))
		}
		part("tags", KindTags, ActUpdate, "entra-link tags", strings.Join(d, "; "))
		u.Tags = &want
		listChanged = true
	}

	// The URIs: the profile's are added, others are extras.
	uris := func(kind Kind, prefix, label string, have, want []string, detail string) ([]string, bool) {
		out := []string{}
		changed := false
		for _, w := range want {
			if containsFold(have, w) {
				part(prefix+w, kind, ActKeep, label+" "+w, detail)
				continue
			}
			part(prefix+w, kind, ActCreate, label+" "+w, detail)
			changed = true
		}
		for _, h := range have {
			if containsFold(want, h) {
				out = append(out, h)
				continue
			}
			if b.opt.Prune {
				part(prefix+h, kind, ActRemove, label+" "+h, "not needed by "+b.p.Product)
				changed = true
				continue
			}
			part(prefix+h, kind, ActExtra, label+" "+h, b.extraWhy())
			out = append(out, h)
		}
		for _, w := range want {
			if !containsFold(have, w) {
				out = append(out, w)
			}
		}
		return out, changed
	}
	if ids, changed := uris(KindIdentifierURI, "identifier/", "identifier URI", cur.IdentifierURIs, s.IdentifierURIs, ""); changed {
		u.IdentifierURIs = &ids
		listChanged = true
	}
	redirects, changed := uris(KindRedirectURI, "redirect/", "redirect URI", cur.Web.RedirectURIs, s.RedirectURIs, b.redirectDetail())
	web.RedirectURIs = redirects
	if changed || web.EnableIDTokenIssuance != cur.Web.EnableIDTokenIssuance {
		u.Web = &web
		listChanged = listChanged || changed
	}

	// The requested permissions: the profile's are merged in; others are
	// extras (removed only with --prune).
	want := map[string]bool{}
	for _, perm := range s.Permissions {
		want[accessKey(perm.ResourceAppID, perm.Type.GraphType(), b.p.ids[permKey(perm.ResourceAppID, perm.Name, perm.Type)])] = true
	}
	have := map[string]bool{}
	for _, rra := range cur.RequiredResourceAccess {
		for _, ra := range rra.ResourceAccess {
			have[accessKey(rra.ResourceAppID, ra.Type, ra.ID)] = true
		}
	}
	added := false
	for _, perm := range s.Permissions {
		k := accessKey(perm.ResourceAppID, perm.Type.GraphType(), b.p.ids[permKey(perm.ResourceAppID, perm.Name, perm.Type)])
		id := "permission/" + permKey(perm.ResourceAppID, perm.Name, perm.Type)
		if have[k] {
			part(id, KindPermission, ActKeep, "API permission "+PermissionTarget(perm), "")
			continue
		}
		part(id, KindPermission, ActCreate, "API permission "+PermissionTarget(perm), "")
		added = true
	}
	removed := map[string]bool{}
	for _, rra := range cur.RequiredResourceAccess {
		for _, ra := range rra.ResourceAccess {
			k := accessKey(rra.ResourceAppID, ra.Type, ra.ID)
			if want[k] {
				continue
			}
			target := "API permission " + b.permissionName(rra.ResourceAppID, ra.Type, ra.ID)
			if b.opt.Prune {
				part("permission/"+k, KindPermission, ActRemove, target, "not needed by "+b.p.Product)
				removed[k] = true
				continue
			}
			part("permission/"+k, KindPermission, ActExtra, target, b.extraWhy())
		}
	}
	if added || len(removed) > 0 {
		rra := b.requiredResourceAccess(cur.RequiredResourceAccess, removed)
		u.RequiredResourceAccess = &rra
		listChanged = true
	}

	if b.appProperties(&cur, nil, &u, part) {
		listChanged = true
	}

	if len(changes) == 0 && !listChanged {
		appStep.Action = ActKeep
		appStep.Detail = fmt.Sprintf("client ID %s, %s", cur.AppID, audienceWords(cur.SignInAudience))
		return
	}
	b.appWrites = true
	appStep.Action = ActUpdate
	appStep.Detail = strings.Join(changes, "; ")
	if appStep.Detail == "" {
		appStep.Detail = "the changes to its lists below"
	}
	appStep.payload = &appUpdate{update: u, own: changes, key: adoptKey}
	b.appRemoves = len(removed) > 0 || slices.ContainsFunc(b.steps, func(st *Step) bool { return st.PartOf == "app" && st.Action == ActRemove })
}

// pruneOrder makes an app update that removes from the app's lists wait
// for the removals of consents, grants and directory roles: what the app
// holds goes first, then what it asks for.
func (b *planner) pruneOrder() {
	i := slices.IndexFunc(b.steps, func(st *Step) bool { return st.ID == "app" })
	if i < 0 || !b.appRemoves {
		return
	}
	app := b.steps[i]
	for _, st := range b.steps {
		switch st.Kind {
		case KindConsent, KindGrant, KindRole:
			if st.Executable() && st.Pending == "" && (st.Action == ActRemove || b.removesParts(st.ID)) {
				app.After = append(app.After, st.ID)
			}
		}
	}
}

func (b *planner) removesParts(id string) bool {
	return slices.ContainsFunc(b.steps, func(st *Step) bool { return st.PartOf == id && st.Action == ActRemove })
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (b *planner) redirectDetail() string {
	if b.s.IDTokenIssuance != nil && !*b.s.IDTokenIssuance {
		return "web; ID token issuance off"
	}
	return "web"
}

func (b *planner) extraWhy() string {
	return b.p.Product + " does not need it; kept (setup --prune removes it)"
}

func (b *planner) allowsAudience(signInAudience string) bool {
	for _, c := range b.s.Profile.Audience.Choices {
		if profile.SignInAudience[c] == signInAudience {
			return true
		}
	}
	return profile.SignInAudience[b.s.Profile.Audience.Default] == signInAudience
}

func accessKey(resourceAppID, typ, id string) string {
	return strings.ToLower(resourceAppID + "/" + typ + "/" + id)
}

// requiredResourceAccess is cur without the removed entries, plus the
// spec's permissions it lacks, grouped by resource.
func (b *planner) requiredResourceAccess(cur []graph.RequiredResourceAccess, removed map[string]bool) []graph.RequiredResourceAccess {
	var out []graph.RequiredResourceAccess
	index := map[string]int{}
	have := map[string]bool{}
	for _, rra := range cur {
		n := graph.RequiredResourceAccess{ResourceAppID: rra.ResourceAppID}
		for _, ra := range rra.ResourceAccess {
			k := accessKey(rra.ResourceAppID, ra.Type, ra.ID)
			if removed[k] {
				continue
			}
			have[k] = true
			n.ResourceAccess = append(n.ResourceAccess, ra)
		}
		if len(n.ResourceAccess) == 0 {
			continue
		}
		index[strings.ToLower(rra.ResourceAppID)] = len(out)
		out = append(out, n)
	}
	for _, perm := range b.s.Permissions {
		id := b.p.ids[permKey(perm.ResourceAppID, perm.Name, perm.Type)]
		k := accessKey(perm.ResourceAppID, perm.Type.GraphType(), id)
		if have[k] {
			continue
		}
		have[k] = true
		i, ok := index[strings.ToLower(perm.ResourceAppID)]
		if !ok {
			i = len(out)
			index[strings.ToLower(perm.ResourceAppID)] = i
			out = append(out, graph.RequiredResourceAccess{ResourceAppID: perm.ResourceAppID})
		}
		out[i].ResourceAccess = append(out[i].ResourceAccess, graph.ResourceAccess{ID: id, Type: perm.Type.GraphType()})
	}
	return out
}

// resources: a resource API without a service principal in the tenant
// gets Microsoft's, so that its permissions can be consented.
func (b *planner) resources() {
	if b.offline() {
		return
	}
	var done []string
	for _, perm := range b.s.Permissions {
		appID := strings.ToLower(perm.ResourceAppID)
		if _, ok := b.t.resource(appID); ok || slices.Contains(done, appID) {
			continue
		}
		done = append(done, appID)
		b.resNew[appID] = true
		b.add(&Step{ID: "resource/" + appID, Kind: KindResource, Action: ActCreate,
			Target:  "service principal of " + perm.Resource + " in the tenant",
			Detail:  "Microsoft's API, added so that its permissions can be consented",
			payload: &resourceCreate{appID: perm.ResourceAppID, name: perm.Resource}})
	}
}

func (b *planner) servicePrincipal() {
	target := fmt.Sprintf("enterprise application (service principal) for %q", b.p.displayName())
	st := b.add(&Step{ID: "sp", Kind: KindServicePrincipal, Target: target})
	switch {
	case b.offline():
		st.Action = ActCreateOrUpdate
		st.After = []string{"app"}
		st.payload = offlineOnly{}
	case b.t.SP == nil:
		st.Action = ActCreate
		st.payload = &spCreate{tags: b.spTags()}
		b.spNew = true
		if b.appNew {
			st.After = []string{"app"}
		}
	default:
		st.Action = ActKeep
		st.Detail = "exists"
	}
	b.servicePrincipalTags(st)
}

// afterApp is what a step that writes the app object waits for: the app's
// own request, so that two PATCHes of one object never race.
func (b *planner) afterApp() []string {
	if b.appWrites {
		return []string{"app"}
	}
	return nil
}

func (b *planner) credential() {
	s, t := b.s, b.t
	var app *graph.Application
	if t != nil {
		app = t.App
	}
	now := b.opt.Now
	switch s.Credential {
	case profile.CredentialSecret:
		st := b.add(&Step{ID: "credential", Kind: KindClientSecret, Target: "client secret"})
		end := s.SecretExpiry.AddTo(now)
		fresh := fmt.Sprintf("valid %s (until %s)", s.SecretExpiry.Human(), end.Format("2006-01-02"))
		if b.offline() {
			st.Action = ActCreateOrUpdate
			st.Detail = "a new one " + fresh + ", unless the app has a valid one: that is kept (--new-credential adds one anyway)"
			if b.opt.NewCredential {
				st.Action, st.Detail = ActCreate, fresh
			}
			st.After = []string{"app"}
			st.payload = offlineOnly{}
			return
		}
		mine := withoutLeftovers(app, b.left)
		if pc := validSecret(mine, now); pc != nil && !b.opt.NewCredential && len(b.left) == 0 {
			c := CredentialInfo{Kind: KindSecret, KeyID: pc.KeyID, Hint: pc.Hint, Start: pc.StartDateTime, End: pc.EndDateTime}
			b.p.KeptSecret = &c
			st.Action = ActKeep
			st.Target = c.Label()
			st.Detail = fmt.Sprintf("valid until %s; its value is not shown again (--new-credential adds a new secret)", pc.EndDateTime.UTC().Format("2006-01-02"))
			if s.SecretExpirySet {
				// Asked for, not applied: said, never dropped silently.
				b.p.Warnings = append(b.p.Warnings, fmt.Sprintf("--secret-expiry %s is not applied: the app's valid secret is kept. Add --new-credential for a new secret valid %s.", s.SecretExpiry, s.SecretExpiry.Human()))
			}
			return
		}
		st.Action = ActCreate
		st.Detail = fresh
		if len(b.left) > 0 {
			st.Detail += "; replaces the secret an interrupted run could not hand over"
		}
		if mine != nil && len(mine.PasswordCredentials) > 0 {
			st.Detail += "; the app's other secrets keep working"
		}
		st.After = b.appNewOnly()
		token := newToken()
		st.payload = &secretCreate{name: secretName(s.Profile.ID, now, token), token: token, end: end}

	case profile.CredentialCertificate:
		st := b.add(&Step{ID: "credential", Kind: KindKeyCredential, Target: "certificate"})
		if c := b.p.cert; c != nil {
			st.Target = "certificate " + c.cert.Thumbprint
			switch {
			case b.offline():
				st.Action = ActCreateOrUpdate
				st.Detail = "upload " + c.file + " (public part only), unless it is on the app already"
				st.After = []string{"app"}
				st.payload = offlineOnly{}
			case certificateOnApp(app, c.cert.Thumbprint) != nil:
				b.keepCertificate(st, *certificateOnApp(app, c.cert.Thumbprint), "from "+c.file+", already on the app")
			default:
				st.Action = ActCreate
				st.Detail = fmt.Sprintf("upload %s (public part only), expires %s", c.file, c.cert.NotAfter.UTC().Format("2006-01-02"))
				if app != nil && len(app.KeyCredentials) > 0 {
					st.Detail += "; the app's other certificates are kept"
				}
				st.After = b.afterApp()
				st.payload = &certUpload{file: c}
			}
			return
		}
		if !b.offline() && !b.opt.NewCredential {
			if k := validCertificate(app, now); k != nil {
				b.keepCertificate(st, *k, "valid; --new-credential adds another")
				if s.CertificateOut != "" && !s.CertificateOutDefault {
					b.p.Warnings = append(b.p.Warnings, fmt.Sprintf("--certificate-out %s is not used: the app's valid certificate is kept and no key pair is generated. Add --new-credential for a new one.", s.CertificateOut))
				}
				return
			}
		}
		if s.CertificateOut == "" {
			if b.opt.Verify {
				st.Action = ActCreate
				st.Detail = "the app has no valid certificate"
				return
			}
			chk := b.check("check/certificate", KindCertificateFile, "--certificate-file or --certificate-out", "which certificate the app gets")
			chk.Problem = "--certificate-file or --certificate-out: the app has no valid certificate, so say which certificate to upload (--certificate-file, e.g. the one " + b.p.Product + " gave you) or where to generate a new key pair (--certificate-out DIR)"
			st.Action = ActCreate
			return
		}
		b.generate(st)

	case profile.CredentialNone:
		// Nothing to add.
	}
}

// leftovers plans the removal of the secrets that earlier runs on this
// machine added to the app and never handed over (their journal records).
func (b *planner) leftovers() {
	if b.offline() || b.opt.Verify {
		return
	}
	b.left, b.p.stale = leftovers(b.t.App, b.t.Interrupted, b.opt.Now)
	for _, l := range b.left {
		c := CredentialInfo{Kind: KindSecret, KeyID: l.cred.KeyID, Hint: l.cred.Hint}
		b.add(&Step{ID: "leftover/" + strings.ToLower(l.cred.KeyID), Kind: KindClientSecret, Action: ActRemove,
			Target: c.Label(), Detail: leftoverDetail(l), payload: &leftoverRemove{l: l}})
	}
}

// withoutLeftovers is app without the secrets the run removes.
func withoutLeftovers(app *graph.Application, left []leftover) *graph.Application {
	if app == nil || len(left) == 0 {
		return app
	}
	c := *app
	c.PasswordCredentials = nil
	for _, pc := range app.PasswordCredentials {
		if !slices.ContainsFunc(left, func(l leftover) bool { return strings.EqualFold(l.cred.KeyID, pc.KeyID) }) {
			c.PasswordCredentials = append(c.PasswordCredentials, pc)
		}
	}
	return &c
}

// appNewOnly: a credential is added to the app object by its own request
// (addPassword), which needs only that the app exists.
func (b *planner) appNewOnly() []string {
	if b.appNew {
		return []string{"app"}
	}
	return nil
}

func (b *planner) keepCertificate(st *Step, k graph.KeyCredential, why string) {
	c := CredentialInfo{Kind: KindCertificate, KeyID: k.KeyID, Name: k.DisplayName, Start: k.StartDateTime, End: k.EndDateTime, Thumbprint: keyThumbprint(k)}
	b.p.KeptCertificate = &c
	st.Action = ActKeep
	st.Target = c.Label()
	st.Detail = fmt.Sprintf("%s; expires %s", why, k.EndDateTime.UTC().Format("2006-01-02"))
}

// generate plans a key pair made on this machine before any tenant write,
// its files checked first, written right before the upload.
func (b *planner) generate(st *Step) {
	s := b.s
	base := s.Profile.ID
	if base == "" {
		base = slug(s.DisplayName, 22) // an app that records no profile
	}
	dir := s.CertificateOut
	names := certs.FileNames(dir, base)
	chk := b.check("check/certificate-out", KindCertificateOut, "--certificate-out "+dir,
		fmt.Sprintf("can take %s.key.pem, .cert.pem, .pfx and .bundle.pem (new, or --force)", base))
	chk.Problem = checkCertificateOut(dir, names, b.opt.Force)
	if clash := sameFile(b.opt.OutputFile, names.KeyPath, names.CertPath, names.PFXPath, names.BundlePath); clash != "" {
		// One would overwrite the other: the key or the result lost.
		chk.Problem = fmt.Sprintf("--output-file %s is %s, one of the key pair's files in --certificate-out %s: choose another --output-file or --certificate-out", b.opt.OutputFile, clash, dir)
	}
	kp := &Step{ID: "key-pair", Kind: KindKeyPair, Action: ActCreate,
		Target:  "key pair and self-signed certificate (RSA 2048, valid " + certificateLifetime.Human() + ")",
		Detail:  "made on this machine before anything in the tenant changes; the private key is written to " + dir + " (0600) right before the certificate is uploaded",
		payload: &keyPairCreate{subject: "CN=" + s.DisplayName + " (entra-link)", lifetime: certificateLifetime}}
	// The key pair comes before the certificate it makes.
	i := slices.Index(b.steps, st)
	b.steps = slices.Insert(b.steps, i, kp)
	if b.offline() {
		kp.payload = offlineOnly{}
		if !b.opt.NewCredential {
			kp.Action = ActCreateOrUpdate
			kp.Detail = "made on this machine, unless the app has a valid certificate, before anything in the tenant changes; the private key is written to " + dir + " (0600) right before the certificate is uploaded"
		}
	}
	st.Target = "certificate generated in " + dir
	st.Action = ActCreate
	st.Detail = "upload the new certificate (public part); the private key stays in " + dir
	if b.offline() {
		st.Action = ActCreateOrUpdate
		st.Detail += ", unless the app has a valid certificate: that is kept (--new-credential adds one anyway)"
		if b.opt.NewCredential {
			st.Action = ActCreate
		}
		st.After = []string{"key-pair", "app"}
		st.payload = offlineOnly{}
		return
	}
	st.After = append([]string{"key-pair"}, b.afterApp()...)
	st.payload = &certUpload{generated: &generatedFiles{dir: dir, base: base, force: b.opt.Force, password: b.opt.PFXPassword}}
}

// consentCan reports whether the identity may consent to a resource's
// application permissions.
func (b *planner) consentCan(resourceAppID string) bool {
	if b.opt.Verify {
		return true
	}
	if strings.EqualFold(resourceAppID, catalog.GraphAppID) {
		return b.t.Can.ConsentGraph
	}
	return b.t.Can.ConsentOther
}

// after is what a consent or role step waits for: the service principal
// and the resource API, when this run creates them.
func (b *planner) after(resourceAppID string) []string {
	var out []string
	if b.spNew {
		out = append(out, "sp")
	}
	if resourceAppID != "" && b.resNew[strings.ToLower(resourceAppID)] {
		out = append(out, "resource/"+strings.ToLower(resourceAppID))
	}
	return out
}

func (b *planner) consents() {
	t := b.t
	wanted := map[string]bool{} // resource SP object id / app role id
	for _, perm := range b.s.Permissions {
		if perm.Type != catalog.Application {
			continue
		}
		id := "consent/" + permKey(perm.ResourceAppID, perm.Name, perm.Type)
		st := b.add(&Step{ID: id, Kind: KindConsent, Target: fmt.Sprintf("admin consent %s · %s", perm.Resource, perm.Name)})
		b.p.stepPerms[id] = []profile.Permission{perm}
		if b.offline() {
			st.Action, st.After, st.payload = ActCreateOrUpdate, b.after(""), offlineOnly{}
			continue
		}
		roleID := b.p.ids[permKey(perm.ResourceAppID, perm.Name, perm.Type)]
		res, resOK := t.resource(perm.ResourceAppID)
		if resOK {
			wanted[strings.ToLower(res.ID+"/"+roleID)] = true
		}
		if resOK && t.SP != nil && t.Unread[KindConsent] == "" && slices.ContainsFunc(t.Assignments, func(a graph.AppRoleAssignment) bool {
			return strings.EqualFold(a.ResourceID, res.ID) && strings.EqualFold(a.AppRoleID, roleID)
		}) {
			st.Action, st.Detail = ActKeep, "granted"
			continue
		}
		st.Action = ActCreate
		if u := t.Unread[KindConsent]; u != "" {
			st.Action, st.Unknown = ActCreateOrUpdate, u
		}
		st.After = b.after(perm.ResourceAppID)
		st.payload = &consentCreate{perm: perm, roleID: roleID}
		if !b.consentCan(perm.ResourceAppID) {
			st.Pending = "an admin must consent (see consentUrl)"
		}
	}
	if b.offline() || t.SP == nil {
		return
	}
	for _, a := range t.Assignments {
		if wanted[strings.ToLower(a.ResourceID+"/"+a.AppRoleID)] {
			continue
		}
		resAppID, resName := b.resourceByObjectID(a.ResourceID)
		target := "admin consent " + b.appRoleName(resAppID, resName, a.AppRoleID)
		id := "consent/extra/" + strings.ToLower(a.ID)
		if !b.opt.Prune {
			b.add(&Step{ID: id, Kind: KindConsent, Action: ActExtra, Target: target, Detail: b.extraWhy()})
			continue
		}
		st := b.add(&Step{ID: id, Kind: KindConsent, Action: ActRemove, Target: target, Detail: "not needed by " + b.p.Product,
			payload: &consentRemove{resourceID: a.ResourceID, assignmentID: a.ID}})
		if !b.consentCan(resAppID) {
			st.Pending = "a Global Administrator or Privileged Role Administrator must remove this consent (Enterprise applications > " + b.p.displayName() + " > Permissions)"
		}
	}
}

// resourceByObjectID names the resource API whose service principal has
// this object id ("" and "another API" when the plan does not know it).
func (b *planner) resourceByObjectID(objectID string) (appID, name string) {
	for id, sp := range b.t.Resources {
		if strings.EqualFold(sp.ID, objectID) {
			return id, resourceDisplayName(id, sp)
		}
	}
	return "", "another API"
}

func resourceDisplayName(appID string, sp graph.ServicePrincipal) string {
	if r := catalog.ResourceByAppID(appID); r != nil {
		return r.DisplayName
	}
	if sp.DisplayName != "" {
		return sp.DisplayName
	}
	return "another API"
}

// appRoleName names an application permission in words, never by its id.
func (b *planner) appRoleName(resAppID, resName, roleID string) string {
	if resAppID != "" {
		if sp, ok := b.t.resource(resAppID); ok {
			for _, r := range sp.AppRoles {
				if strings.EqualFold(r.ID, roleID) {
					return resName + " · " + r.Value
				}
			}
		}
		if cr := catalog.ResourceByAppID(resAppID); cr != nil {
			for _, r := range cr.AppRoles {
				if strings.EqualFold(r.ID, roleID) {
					return resName + " · " + r.Value
				}
			}
		}
	}
	return "to an application permission of " + resName + " that it no longer publishes"
}

// permissionName names a requested permission in words, never by its id.
func (b *planner) permissionName(resourceAppID, typ, id string) string {
	res := resourceName(resourceAppID)
	var sp graph.ServicePrincipal
	var spOK bool
	if b.t != nil {
		sp, spOK = b.t.resource(resourceAppID)
		if spOK {
			res = resourceDisplayName(strings.ToLower(resourceAppID), sp)
		}
	}
	if res == resourceAppID {
		res = "another API"
	}
	kind, app := "delegated", strings.EqualFold(typ, "Role")
	if app {
		kind = "application"
	}
	if spOK {
		if app {
			for _, r := range sp.AppRoles {
				if strings.EqualFold(r.ID, id) {
					return res + " · " + kind + " · " + r.Value
				}
			}
		} else {
			for _, s := range sp.Scopes {
				if strings.EqualFold(s.ID, id) {
					return res + " · " + kind + " · " + s.Value
				}
			}
		}
	}
	if cr := catalog.ResourceByAppID(resourceAppID); cr != nil {
		if app {
			for _, p := range cr.AppRoles {
				if strings.EqualFold(p.ID, id) {
					return res + " · " + kind + " · " + p.Value
				}
			}
		} else {
			for _, p := range cr.Scopes {
				if strings.EqualFold(p.ID, id) {
					return res + " · " + kind + " · " + p.Value
				}
			}
		}
	}
	return fmt.Sprintf("%s · %s · a permission %s does not publish", res, kind, res)
}

func (b *planner) grants() {
	t := b.t
	byRes := map[string][]profile.Permission{}
	var order []string
	for _, perm := range b.s.Permissions {
		if perm.Type != catalog.Delegated {
			continue
		}
		k := strings.ToLower(perm.ResourceAppID)
		if _, ok := byRes[k]; !ok {
			order = append(order, k)
		}
		byRes[k] = append(byRes[k], perm)
	}
	grantCan := b.opt.Verify || (t != nil && t.Can.GrantDelegated)
	const pending = "an admin must consent (see consentUrl)"
	handled := map[string]bool{} // grant ids
	for _, appID := range order {
		perms := byRes[appID]
		var scopes []string
		for _, p := range perms {
			scopes = append(scopes, p.Name)
		}
		resName := perms[0].Resource
		id := "grant/" + appID
		st := b.add(&Step{ID: id, Kind: KindGrant, Target: fmt.Sprintf("tenant-wide consent %s · %s", resName, strings.Join(scopes, " "))})
		b.p.stepPerms[id] = perms
		if b.offline() {
			st.Action = ActCreateOrUpdate
			st.Detail = "delegated permissions, for all users"
			st.After, st.payload = b.after(""), offlineOnly{}
			continue
		}
		res, resOK := t.resource(appID)
		var existing *graph.PermissionGrant
		if resOK && t.SP != nil {
			for i, g := range t.Grants {
				if strings.EqualFold(g.ResourceID, res.ID) && g.ConsentType == "AllPrincipals" {
					existing = &t.Grants[i]
				}
			}
		}
		if u := t.Unread[KindGrant]; u != "" {
			st.Action, st.Unknown = ActCreateOrUpdate, u
			st.After = b.after(appID)
			st.payload = &grantApply{resourceAppID: perms[0].ResourceAppID, scopes: scopes}
			if !grantCan {
				st.Pending = pending
			}
			continue
		}
		var have []string
		if existing != nil {
			have = strings.Fields(existing.Scope)
			handled[existing.ID] = true
		}
		var add, extra []string
		for _, sc := range scopes {
			if !containsFold(have, sc) {
				add = append(add, sc)
			}
		}
		for _, h := range have {
			if !containsFold(scopes, h) {
				extra = append(extra, h)
			}
		}
		final := union(have, scopes)
		if b.opt.Prune && len(extra) > 0 {
			final = union(nil, scopes)
			for _, h := range have {
				if containsFold(scopes, h) && !containsFold(final, h) {
					final = append(final, h)
				}
			}
		}
		var what []string
		if len(add) > 0 {
			what = append(what, "add "+strings.Join(add, " "))
		}
		for _, x := range extra {
			target := fmt.Sprintf("tenant-wide consent %s · %s", resName, x)
			if b.opt.Prune {
				b.add(&Step{ID: id + "/extra/" + x, Kind: KindGrant, Action: ActRemove, Target: target, Detail: "not needed by " + b.p.Product, PartOf: id})
			} else {
				b.add(&Step{ID: id + "/extra/" + x, Kind: KindGrant, Action: ActExtra, Target: target, Detail: b.extraWhy()})
			}
		}
		if b.opt.Prune && len(extra) > 0 {
			what = append(what, "remove "+strings.Join(extra, " "))
		}
		switch {
		case existing == nil:
			st.Action, st.Detail = ActCreate, "delegated permissions, for all users"
		case len(what) == 0:
			st.Action, st.Detail = ActKeep, "granted for all users"
			continue
		default:
			st.Action, st.Detail = ActUpdate, strings.Join(what, "; ")
		}
		st.After = b.after(appID)
		p := &grantApply{resourceAppID: perms[0].ResourceAppID, scopes: final}
		if existing != nil {
			p.existingID = existing.ID
		}
		st.payload = p
		if !grantCan {
			st.Pending = pending
		}
	}
	if b.offline() || t.SP == nil {
		return
	}
	// Tenant-wide grants on resources the profile asks nothing of.
	for _, g := range t.Grants {
		if g.ConsentType != "AllPrincipals" || handled[g.ID] {
			continue
		}
		_, resName := b.resourceByObjectID(g.ResourceID)
		scopes := strings.Fields(g.Scope)
		if !b.opt.Prune {
			for _, sc := range scopes {
				b.add(&Step{ID: "grant/extra/" + g.ID + "/" + sc, Kind: KindGrant, Action: ActExtra,
					Target: fmt.Sprintf("tenant-wide consent %s · %s", resName, sc), Detail: b.extraWhy()})
			}
			continue
		}
		st := b.add(&Step{ID: "grant/extra/" + g.ID, Kind: KindGrant, Action: ActRemove,
			Target: fmt.Sprintf("tenant-wide consent %s · %s", resName, strings.Join(scopes, " ")), Detail: "not needed by " + b.p.Product,
			payload: &grantRemove{grantID: g.ID}})
		if !grantCan {
			st.Pending = pending
		}
	}
}

func (b *planner) roles() {
	t := b.t
	assignCan := b.opt.Verify || (t != nil && t.Can.AssignRoles)
	wanted := map[string]bool{}
	for _, role := range b.s.Roles {
		id := "role/" + strings.ToLower(role.TemplateID)
		st := b.add(&Step{ID: id, Kind: KindRole, Target: "directory role " + role.Name})
		b.p.stepRoles[id] = role
		wanted[strings.ToLower(role.TemplateID)] = true
		if b.offline() {
			st.Action = ActCreateOrUpdate
			st.Detail = "assigned to the app, tenant-wide"
			st.After, st.payload = b.after(""), offlineOnly{}
			continue
		}
		if t.SP != nil && t.Unread[KindRole] == "" && slices.ContainsFunc(t.RoleAssignments, func(a graph.RoleAssignment) bool {
			return strings.EqualFold(a.RoleDefinitionID, role.TemplateID) && tenantWide(a)
		}) {
			st.Action, st.Detail = ActKeep, "assigned to the app, tenant-wide"
			continue
		}
		st.Action, st.Detail = ActCreate, "assign to the app, tenant-wide"
		if u := t.Unread[KindRole]; u != "" {
			st.Action, st.Unknown = ActCreateOrUpdate, u
		}
		st.After = b.after("")
		st.payload = &roleAssign{role: role}
		if !assignCan {
			st.Pending = "a Privileged Role Administrator must assign it"
		}
	}
	if b.offline() || t.SP == nil {
		return
	}
	var extras []graph.RoleAssignment
	for _, a := range t.RoleAssignments {
		if wanted[strings.ToLower(a.RoleDefinitionID)] && tenantWide(a) {
			continue
		}
		extras = append(extras, a)
	}
	sort.SliceStable(extras, func(i, j int) bool { return roleWords(extras[i]) < roleWords(extras[j]) })
	for _, a := range extras {
		id := "role/extra/" + strings.ToLower(a.ID)
		target := "directory role " + roleWords(a)
		if !b.opt.Prune {
			b.add(&Step{ID: id, Kind: KindRole, Action: ActExtra, Target: target, Detail: b.extraWhy()})
			continue
		}
		st := b.add(&Step{ID: id, Kind: KindRole, Action: ActRemove, Target: target, Detail: "not needed by " + b.p.Product,
			payload: &roleRemove{assignmentID: a.ID}})
		if !assignCan {
			st.Pending = "a Privileged Role Administrator must remove this assignment (Entra admin center > Roles and administrators)"
		}
	}
}

func tenantWide(a graph.RoleAssignment) bool {
	return a.DirectoryScopeID == "/" || a.DirectoryScopeID == ""
}

// roleWords names a role assignment in words, never by its ids.
func roleWords(a graph.RoleAssignment) string {
	name := "a custom directory role"
	if r, ok := catalog.RoleByTemplateID(a.RoleDefinitionID); ok {
		name = r.Name
	}
	if !tenantWide(a) {
		name += " (limited to part of the directory)"
	}
	return name
}

// outputs checks, once the credential is planned, that the result can be
// delivered as asked: the format can carry the values, the file can be
// written. A hand-over never carries a made-up value.
func (b *planner) outputs() {
	if b.opt.Verify {
		return
	}
	var cred *Step
	for _, st := range b.steps {
		if st.ID == "credential" {
			cred = st
		}
	}
	format := b.opt.OutputFormat
	if (format == output.FormatHandover || format == output.FormatEnv) && cred != nil {
		st := b.check("check/output", KindOutput, "--output "+format, "carries every value "+b.p.Product+" needs")
		switch {
		case cred.Action == ActCreateOrUpdate:
			st.Unknown = "checked once signed in: a kept secret cannot be handed over"
		case cred.Kind == KindClientSecret && cred.Action == ActKeep:
			st.Problem = fmt.Sprintf("--output %s needs the client secret's value, but this run keeps the app's existing secret (%s, valid until %s), whose value cannot be read back. Add --new-credential for a new secret (the old one keeps working), or use --output json or text",
				format, b.p.KeptSecret.hintOr(), b.p.KeptSecret.End.UTC().Format("2006-01-02"))
		case cred.Kind == KindKeyCredential && format == output.FormatEnv && !(cred.Action == ActCreate && slices.ContainsFunc(b.steps, func(s *Step) bool { return s.Kind == KindKeyPair })):
			st.Problem = "--output env needs a credential the environment can carry: only a key pair generated in this run (--certificate-out) gives AZURE_CLIENT_CERTIFICATE_PATH. Use --output json or text, or generate a new key pair with --certificate-out DIR --new-credential"
		}
	}
	if path := b.opt.OutputFile; path != "" {
		st := b.check("check/output-file", KindOutputFile, "--output-file "+path, "its directory exists and is writable; the file is new (or --force)")
		keeps := cred != nil && cred.Kind == KindClientSecret && cred.Action == ActKeep
		st.Problem = CheckOutputFile(path, b.opt.Force, keeps)
	}
}

func (c *CredentialInfo) hintOr() string {
	if c.Hint != "" {
		return c.Hint + "…"
	}
	return "key ID " + c.KeyID
}

func (b *planner) warnings() {
	p, t := b.p, b.t
	if t != nil && len(t.Lookalikes) > 0 && t.App == nil {
		ids := make([]string, 0, len(t.Lookalikes))
		for _, a := range t.Lookalikes {
			ids = append(ids, a.AppID)
		}
		p.Warnings = append(p.Warnings, fmt.Sprintf("an app named %q that entra-link did not create already exists (%s); entra-link makes its own. To configure that app instead, run setup with --app-id.",
			b.s.DisplayName, strings.Join(ids, ", ")))
	}
	if t != nil {
		p.Warnings = append(p.Warnings, t.Warnings...)
	}
	if n := len(p.Extras()); n > 0 && !b.opt.Verify {
		p.Warnings = append(p.Warnings, fmt.Sprintf("the app has %d thing(s) %s does not ask for (marked extra); setup keeps them. Run the same command with --prune to remove them.", n, p.Product))
	}
	if b.opt.Prune && b.offline() {
		p.Warnings = append(p.Warnings, "--prune removes what the app has and "+p.Product+" does not ask for; what that is depends on the tenant, which a dry run without --auth does not read.")
	}
}
