package setup

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/profile"
)

// Apps as the portal makes them: the service principal carries the tag
// that puts it in the Entra admin center's Enterprise applications list
// (endpoints.md §12), the app's notes say who set it up with what, an
// optional service management reference links it to the service
// catalogue, and owners are added when asked for (never by default to an
// app that holds privileges: profile.Privileges). Existing apps get the
// notes and the tag on their next run; verify reports their absence.

// PortalTag is the service principal tag of apps the portal lists as
// enterprise applications.
const PortalTag = "WindowsAzureActiveDirectoryIntegratedApp"

// notesMarker starts the line entra-link writes into an app's notes.
const notesMarker = "Set up by entra-link"

// notesMax is the longest notes Entra accepts.
const notesMax = 1024

// Owner is a requested owner of the app, resolved to its object id.
type Owner struct {
	// Given is the --owner value.
	Given string
	ID    string
	// Name is how the owner is shown (a user principal name).
	Name string
	// Unchecked says why the owner's existence could not be checked.
	Unchecked string
}

// resolveOwner finds the user an --owner value names: the signed-in
// identity for "me", else a user by object id or user principal name.
func resolveOwner(ctx context.Context, g graph.API, id graph.Identity, given string) (Owner, error) {
	if given == profile.OwnerMe {
		if id.ObjectID == "" {
			return Owner{}, &UsageError{Msg: "--owner me: the sign-in does not say who you are (no oid claim); give your user principal name instead (nothing was changed)"}
		}
		return Owner{Given: given, ID: strings.ToLower(id.ObjectID), Name: identityLabel(id)}, nil
	}
	u, err := g.User(ctx, given)
	switch {
	case err == nil:
		name := u.UserPrincipalName
		if name == "" {
			name = u.DisplayName
		}
		return Owner{Given: given, ID: strings.ToLower(u.ID), Name: name}, nil
	case graph.IsNotFound(err):
		return Owner{}, &UsageError{Msg: fmt.Sprintf("--owner %s: the tenant has no such user (nothing was changed)", given)}
	case graph.IsForbidden(err) && profile.IsGUID(given):
		return Owner{Given: given, ID: given, Name: given, Unchecked: "whether this user exists could not be checked (that needs User.ReadBasic.All)"}, nil
	case graph.IsForbidden(err):
		return Owner{}, &UsageError{Msg: fmt.Sprintf("--owner %s: looking a user up by name needs User.ReadBasic.All, which entra-link does not ask for; give the user's object ID instead (Entra admin center > Users > the user > Object ID), or --owner me (nothing was changed)", given)}
	}
	return Owner{}, err
}

// notesLine is what entra-link writes into a new app's notes.
func (b *planner) notesLine() string {
	version := b.opt.Version
	if version == "" {
		version = "(development build)"
	}
	who := "an unknown admin"
	if b.t != nil && identityLabel(b.t.Identity) != "" {
		who = identityLabel(b.t.Identity)
		if b.t.Identity.AppOnly {
			who = "the app " + who
		}
	}
	return fmt.Sprintf("%s %s for %s (profile %s) on %s by %s.", notesMarker, version, b.p.Product, b.s.Profile.ID, b.opt.Now.Format("2006-01-02"), who)
}

// hasNotes reports whether an app's notes carry entra-link's line.
func hasNotes(notes string) bool {
	for _, l := range strings.Split(notes, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), notesMarker) {
			return true
		}
	}
	return false
}

// appProperties plans the app's own properties entra-link sets: its notes
// and service management reference. cur is nil for a new app (then app
// gets them) and offline; otherwise the changes go into u.
func (b *planner) appProperties(cur *graph.Application, app *graph.Application, u *graph.ApplicationUpdate, part func(id string, kind Kind, action Action, target, detail string) *Step) bool {
	s := b.s
	changed := false
	const notesTarget = "notes: who set the app up, for what"
	switch {
	case b.offline():
		part("notes", KindNotes, ActCreateOrUpdate, notesTarget, "added unless the app has them")
	case cur == nil:
		app.Notes = b.notesLine()
		part("notes", KindNotes, ActCreate, notesTarget, app.Notes)
	case hasNotes(cur.Notes):
		part("notes", KindNotes, ActKeep, notesTarget, "the app's notes say so")
	default:
		line := b.notesLine()
		notes := line
		if strings.TrimSpace(cur.Notes) != "" {
			notes = strings.TrimRight(cur.Notes, "\n") + "\n" + line
		}
		if len([]rune(notes)) > notesMax {
			part("notes", KindNotes, ActKeep, notesTarget, "the app's own notes leave no room for entra-link's line")
			break
		}
		detail := "add: " + line
		if strings.TrimSpace(cur.Notes) != "" {
			detail += " (the app's own notes are kept)"
		}
		part("notes", KindNotes, ActUpdate, notesTarget, detail)
		u.Notes = &notes
		changed = true
	}
	ref := s.ServiceManagementReference
	if ref == "" {
		return changed
	}
	const refTarget = "service management reference"
	switch {
	case b.offline():
		part("service-management-reference", KindServiceManagementReference, ActCreateOrUpdate, refTarget, ref)
	case cur == nil:
		app.ServiceManagementReference = ref
		part("service-management-reference", KindServiceManagementReference, ActCreate, refTarget, ref)
	case cur.ServiceManagementReference == ref:
		part("service-management-reference", KindServiceManagementReference, ActKeep, refTarget, ref)
	default:
		detail := ref
		if cur.ServiceManagementReference != "" {
			detail = cur.ServiceManagementReference + " → " + ref
		}
		part("service-management-reference", KindServiceManagementReference, ActUpdate, refTarget, detail)
		u.ServiceManagementReference = &ref
		changed = true
	}
	return changed
}

// servicePrincipalTags plans the portal tag on the app's service
// principal: part of its creation, or a change of an existing one.
func (b *planner) servicePrincipalTags(sp *Step) {
	const target = "tag " + PortalTag + " on the enterprise application"
	const why = "the Entra admin center lists the app under Enterprise applications"
	st := &Step{ID: "sp-tags", Kind: KindSPTags, Target: target, Detail: why}
	switch {
	case b.offline():
		st.Action, st.PartOf = ActCreateOrUpdate, sp.ID
	case b.t.SP == nil:
		st.Action, st.PartOf = ActCreate, sp.ID
	case slices.Contains(b.t.SP.Tags, PortalTag):
		st.Action = ActKeep
	default:
		st.Action = ActUpdate
		st.payload = &spTagsUpdate{tags: append(append([]string(nil), b.t.SP.Tags...), PortalTag)}
	}
	i := slices.Index(b.steps, sp)
	b.steps = slices.Insert(b.steps, i+1, st)
}

// spTags are the tags a new service principal gets.
func (b *planner) spTags() []string {
	// The inputs tag is the app's: verify reads it there, and a re-run with
	// other inputs updates the app's tags, not these.
	tags := slices.DeleteFunc(slices.Clone(b.s.Tags), profile.IsInputsTag)
	return append(tags, PortalTag)
}

// owners plans the requested owners: added, or kept when they are owners.
func (b *planner) owners() {
	if len(b.s.Owners) == 0 {
		return
	}
	for i, given := range b.s.Owners {
		st := b.add(&Step{ID: "owner/" + strings.ToLower(given), Kind: KindOwner, Target: "owner " + given,
			Detail: "may change the app and add credentials to it"})
		if b.offline() {
			st.Action, st.After, st.payload = ActCreateOrUpdate, []string{"app"}, offlineOnly{}
			continue
		}
		o := b.t.Owners[i]
		st.ID, st.Target = "owner/"+o.ID, "owner "+o.Name
		if o.Name != given {
			st.Target += " (" + given + ")"
		}
		switch {
		case b.t.App != nil && b.t.ownersUnread == "" && slices.ContainsFunc(b.t.AppOwners, func(d graph.DirectoryObject) bool { return strings.EqualFold(d.ID, o.ID) }):
			st.Action, st.Detail = ActKeep, "is an owner"
			continue
		case b.t.App != nil && b.t.ownersUnread != "":
			st.Action, st.Unknown = ActCreateOrUpdate, b.t.ownersUnread
		default:
			st.Action = ActCreate
		}
		if o.Unchecked != "" {
			st.Unknown = strings.TrimPrefix(st.Unknown+"; "+o.Unchecked, "; ")
		}
		st.After = b.appNewOnly()
		st.payload = &ownerAdd{id: o.ID}
	}
}

// spTagsUpdate sets the portal tag on an existing service principal.
type spTagsUpdate struct{ tags []string }

func (a *spTagsUpdate) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	sp, err := r.principal()
	if err != nil {
		return "", err
	}
	return "", r.env.Graph.UpdateServicePrincipalTags(ctx, sp.ID, a.tags)
}

// ownerAdd makes a user an owner of the app.
type ownerAdd struct{ id string }

func (a *ownerAdd) apply(ctx context.Context, r *run, _ *Step) (string, error) {
	err := r.env.Graph.AddApplicationOwner(ctx, r.appObject().ID, a.id)
	switch {
	case err == nil, graph.IsConflict(err):
		return "", nil
	case graph.IsNotFound(err):
		return "", &UsageError{Msg: fmt.Sprintf("owner %s: the tenant has no user or service principal with this object ID", a.id)}
	}
	return "", err
}
