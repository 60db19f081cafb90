package setup

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/crash"
	"github.com/entra-link/entra-link/internal/profile"
)

// Selector names the app a day-2 command works on: --app-id or --name.
type Selector struct {
	AppID string
	Name  string
}

// FoundApp is the app a Selector named, with what its tags say about it.
type FoundApp struct {
	App graph.Application
	// Tagged is true when entra-link made (or adopted) the app: it carries
	// the "entra-link" tag.
	Tagged bool
	// ProfileID is the profile recorded in the tags ("" if none).
	ProfileID string
	// Features are the optional profile features recorded in the tags.
	Features []string
}

func newFoundApp(a graph.Application) *FoundApp {
	return &FoundApp{
		App:       a,
		Tagged:    slices.Contains(a.Tags, profile.Tag),
		ProfileID: profile.ProfileFromTags(a.Tags),
		Features:  profile.FeaturesFromTags(a.Tags),
	}
}

// Label is how messages name the app: "Relution" (client ID …).
func (f *FoundApp) Label() string {
	return fmt.Sprintf("%q (client ID %s)", f.App.DisplayName, f.App.AppID)
}

// FindApp resolves sel. --app-id may name any app of the tenant; --name
// matches the display name (case-insensitively) among the apps entra-link
// tagged, so that an app someone else made is never picked by its name.
// Problems with the selection are *UsageError (exit 2).
func FindApp(ctx context.Context, g graph.API, sel Selector) (*FoundApp, error) {
	if sel.AppID != "" {
		app, err := g.ApplicationByAppID(ctx, sel.AppID)
		if graph.IsNotFound(err) {
			return nil, &UsageError{Msg: fmt.Sprintf("--app-id %s: no application with this application (client) ID exists in the tenant (entra-link apps list shows the apps entra-link made)", sel.AppID)}
		}
		if err != nil {
			return nil, fmt.Errorf("looking up --app-id %s: %w", sel.AppID, err)
		}
		return newFoundApp(app), nil
	}
	name := strings.TrimSpace(sel.Name)
	if name == "" {
		return nil, &UsageError{Msg: "name the app with --app-id or --name"}
	}
	// The tagged apps decide; the apps with exactly this name only make the
	// message better when no tagged app matches.
	var tagged, named []graph.Application
	var tagErr, nameErr error
	var wg crash.Group
	wg.Go(func() { tagged, tagErr = g.ApplicationsByTag(ctx, profile.Tag) })
	wg.Go(func() { named, nameErr = g.ApplicationsByName(ctx, name) })
	wg.Wait()
	if tagErr != nil {
		return nil, fmt.Errorf("looking for the apps entra-link made: %w", tagErr)
	}
	var matches []graph.Application
	for _, a := range tagged {
		if strings.EqualFold(strings.TrimSpace(a.DisplayName), name) {
			matches = append(matches, a)
		}
	}
	switch len(matches) {
	case 1:
		return newFoundApp(matches[0]), nil
	case 0:
		msg := fmt.Sprintf("--name %q: no app with this name was made by entra-link (searched the %d app(s) tagged %q in the tenant; entra-link apps list shows them)", name, len(tagged), profile.Tag)
		if nameErr == nil {
			var foreign []string
			for _, a := range named {
				if !slices.Contains(a.Tags, profile.Tag) {
					foreign = append(foreign, a.AppID)
				}
			}
			if len(foreign) > 0 {
				msg += fmt.Sprintf(". An app named %q that entra-link did not create exists (client ID %s): to work on it anyway, name it with --app-id", name, strings.Join(foreign, ", "))
			}
		}
		return nil, &UsageError{Msg: msg}
	}
	sort.Slice(matches, func(i, j int) bool { return matches[i].CreatedDateTime.Before(matches[j].CreatedDateTime) })
	list := make([]string, 0, len(matches))
	for _, a := range matches {
		d := a.AppID
		var about []string
		if p := profile.ProfileFromTags(a.Tags); p != "" {
			about = append(about, "profile "+p)
		}
		if !a.CreatedDateTime.IsZero() {
			about = append(about, "created "+a.CreatedDateTime.UTC().Format("2006-01-02 15:04"))
		}
		if len(about) > 0 {
			d += " (" + strings.Join(about, ", ") + ")"
		}
		list = append(list, d)
	}
	return nil, &UsageError{Msg: fmt.Sprintf("--name %q matches %d apps made by entra-link: %s; say which one with --app-id",
		name, len(matches), strings.Join(list, "; "))}
}

// Credential kinds in summaries.
const (
	KindSecret      = "secret"
	KindCertificate = "certificate"
)

// CredentialInfo is one secret or certificate of an app, without its value.
type CredentialInfo struct {
	Kind  string    `json:"type"`
	KeyID string    `json:"keyId"`
	Name  string    `json:"displayName,omitempty"`
	Hint  string    `json:"hint,omitempty"`
	Start time.Time `json:"startDateTime"`
	End   time.Time `json:"endDateTime"`
	// Thumbprint identifies a certificate.
	Thumbprint string `json:"thumbprint,omitempty"`
}

// Label names the credential in messages: client secret "abc…" (key ID …).
func (c CredentialInfo) Label() string {
	if c.Kind == KindCertificate {
		if c.Thumbprint != "" {
			return "certificate " + c.Thumbprint
		}
		return "certificate (key ID " + c.KeyID + ")"
	}
	s := "client secret"
	if c.Hint != "" {
		s += " " + c.Hint + "…"
	}
	return s + " (key ID " + c.KeyID + ")"
}

// Credentials lists an app's secrets and certificates, soonest expiry first.
func Credentials(a graph.Application) []CredentialInfo {
	var out []CredentialInfo
	for _, p := range a.PasswordCredentials {
		out = append(out, CredentialInfo{Kind: KindSecret, KeyID: p.KeyID, Name: p.DisplayName, Hint: p.Hint, Start: p.StartDateTime, End: p.EndDateTime})
	}
	for _, k := range a.KeyCredentials {
		out = append(out, CredentialInfo{Kind: KindCertificate, KeyID: k.KeyID, Name: k.DisplayName, Start: k.StartDateTime, End: k.EndDateTime, Thumbprint: keyThumbprint(k)})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].End.Before(out[j].End) })
	return out
}

// DaysUntil is the number of days from now to t, rounded to the nearest
// day as the setup output counts them (negative once t has passed).
func DaysUntil(now, t time.Time) int {
	return int(math.Round(t.Sub(now).Hours() / 24))
}

// AppSummary is one line of `entra-link apps list`.
type AppSummary struct {
	DisplayName         string    `json:"displayName"`
	ClientID            string    `json:"clientId"`
	ApplicationObjectID string    `json:"applicationObjectId"`
	Profile             string    `json:"profile"`
	Features            []string  `json:"features,omitempty"`
	CreatedDateTime     time.Time `json:"createdDateTime"`
	ServicePrincipal    bool      `json:"servicePrincipal"`
	Credentials         int       `json:"credentials"`
	// NearestExpiry is the credential that expires next among the valid
	// ones, or the one that expired last when none is valid; nil when the
	// app has no credential.
	NearestExpiry *CredentialExpiry `json:"nearestCredentialExpiry"`
}

// CredentialExpiry says when a credential expires.
type CredentialExpiry struct {
	Type    string    `json:"type"`
	KeyID   string    `json:"keyId"`
	At      time.Time `json:"endDateTime"`
	Days    int       `json:"days"`
	Expired bool      `json:"expired"`
}

// nearestExpiry picks the credential to warn about first.
func nearestExpiry(creds []CredentialInfo, now time.Time) *CredentialExpiry {
	var next, last *CredentialInfo
	for i := range creds {
		c := &creds[i]
		if c.End.After(now) {
			if next == nil || c.End.Before(next.End) {
				next = c
			}
		} else if last == nil || c.End.After(last.End) {
			last = c
		}
	}
	best := next
	if best == nil {
		best = last
	}
	if best == nil {
		return nil
	}
	return &CredentialExpiry{Type: best.Kind, KeyID: best.KeyID, At: best.End.UTC(), Days: DaysUntil(now, best.End), Expired: !best.End.After(now)}
}

// AppList is what ListApps found.
type AppList struct {
	Org  graph.Organization
	Apps []AppSummary
}

// ListApps lists the apps entra-link tagged, by display name, each with
// whether its service principal exists and its nearest credential expiry.
// Two round trips whatever the number of apps: the apps with the tenant,
// then every app's service principal in one batched read.
func ListApps(ctx context.Context, env *Env) (*AppList, error) {
	apps, org, err := taggedApps(ctx, env)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(apps))
	for i, a := range apps {
		ids[i] = a.AppID
	}
	sps, err := env.Graph.ServicePrincipalsByAppIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("looking up the apps' service principals: %w", err)
	}
	now := env.Now().UTC()
	out := make([]AppSummary, len(apps))
	for i, a := range apps {
		creds := Credentials(a)
		_, hasSP := sps[strings.ToLower(a.AppID)]
		out[i] = AppSummary{
			DisplayName: a.DisplayName, ClientID: a.AppID, ApplicationObjectID: a.ID,
			Profile: profile.ProfileFromTags(a.Tags), Features: profile.FeaturesFromTags(a.Tags),
			CreatedDateTime: a.CreatedDateTime.UTC(), ServicePrincipal: hasSP,
			Credentials: len(creds), NearestExpiry: nearestExpiry(creds, now),
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := strings.ToLower(out[i].DisplayName), strings.ToLower(out[j].DisplayName)
		if a != b {
			return a < b
		}
		return out[i].CreatedDateTime.Before(out[j].CreatedDateTime)
	})
	return &AppList{Org: org, Apps: out}, nil
}

// taggedApps reads, concurrently, the apps entra-link tagged and the tenant.
func taggedApps(ctx context.Context, env *Env) ([]graph.Application, graph.Organization, error) {
	var (
		apps          []graph.Application
		org           graph.Organization
		appsErr, oErr error
		wg            crash.Group
	)
	wg.Go(func() { apps, appsErr = env.Graph.ApplicationsByTag(ctx, profile.Tag) })
	wg.Go(func() { org, oErr = tenantOf(ctx, env.Graph) })
	wg.Wait()
	if appsErr != nil {
		return nil, org, fmt.Errorf("listing the apps entra-link made: %w", appsErr)
	}
	if oErr != nil {
		return nil, org, fmt.Errorf("reading the tenant: %w", oErr)
	}
	return apps, org, nil
}

// future is a value being read concurrently.
type future[T any] struct {
	done  chan struct{}
	v     T
	err   error
	panic *crash.Panic // raised by get
}

func goFuture[T any](fn func() (T, error)) *future[T] {
	f := &future[T]{done: make(chan struct{})}
	go func() {
		defer close(f.done)
		defer func() {
			if v := recover(); v != nil {
				f.panic = crash.Recovered(v)
			}
		}()
		f.v, f.err = fn()
	}()
	return f
}

func (f *future[T]) get() (T, error) {
	<-f.done
	if f.panic != nil {
		panic(f.panic)
	}
	return f.v, f.err
}

// prefetch holds the reads a day-2 command can start before the app is
// found: the tenant always, the service principal when --app-id names the
// app. They run in the same round trip as the app lookup.
type prefetch struct {
	appID string
	sp    *future[*graph.ServicePrincipal]
	org   *future[graph.Organization]
}

func startPrefetch(ctx context.Context, env *Env, sel Selector) *prefetch {
	p := &prefetch{appID: sel.AppID}
	p.org = goFuture(func() (graph.Organization, error) { return tenantOf(ctx, env.Graph) })
	if sel.AppID != "" {
		p.sp = goFuture(func() (*graph.ServicePrincipal, error) { return lookupSP(ctx, env.Graph, sel.AppID) })
	}
	return p
}

// servicePrincipal returns the app's service principal (nil if it has
// none), prefetched when it could be.
func (p *prefetch) servicePrincipal(ctx context.Context, g graph.API, appID string) (*graph.ServicePrincipal, error) {
	if p != nil && p.sp != nil && strings.EqualFold(p.appID, appID) {
		return p.sp.get()
	}
	return lookupSP(ctx, g, appID)
}

// knownSP records appID's service principal, found by another read (by
// name), so that it is not looked up again.
func (p *prefetch) knownSP(appID string, sp graph.ServicePrincipal) {
	f := &future[*graph.ServicePrincipal]{done: make(chan struct{}), v: &sp}
	close(f.done)
	p.appID, p.sp = appID, f
}

// spFuture is the prefetched read of appID's service principal, or nil.
func (p *prefetch) spFuture(appID string) *future[*graph.ServicePrincipal] {
	if p != nil && p.sp != nil && strings.EqualFold(p.appID, appID) {
		return p.sp
	}
	return nil
}

func (p *prefetch) tenant(ctx context.Context, g graph.API) (graph.Organization, error) {
	if p != nil {
		return p.org.get()
	}
	return tenantOf(ctx, g)
}

// lookupSP is the service principal of appID, nil (no error) if it has none.
func lookupSP(ctx context.Context, g graph.API, appID string) (*graph.ServicePrincipal, error) {
	sp, err := g.ServicePrincipalByAppID(ctx, appID)
	switch {
	case err == nil:
		return &sp, nil
	case graph.IsNotFound(err):
		return nil, nil
	}
	return nil, err
}
