package setup

import (
	"context"
	"errors"
	"fmt"

	"github.com/entra-link/entra-link/graph"
)

// cannotRead is the one sentence for an identity that may not read app
// registrations (Graph's 403 on them), for every command: what it lacks,
// what would be needed, that nothing was changed. why finishes "which …"
// ("setup must see before it changes anything"); write says the command
// goes on to change the app, which needs more than reading.
func (t *Tenant) cannotRead(why string, write bool) string {
	var need string
	switch {
	case t.Identity.AppOnly && write:
		need = "the Application.ReadWrite.All application permission"
	case t.Identity.AppOnly:
		need = "the Application.Read.All or Application.ReadWrite.All application permission"
	case write:
		need = "the Application.ReadWrite.All scope and the Application Administrator, Cloud Application Administrator or Global Administrator role"
	default:
		need = "a role that may read them, such as Global Reader, Application Administrator or Cloud Application Administrator"
	}
	return fmt.Sprintf("the signed-in identity may not read app registrations and enterprise applications, which %s: that needs %s; %s. Nothing was changed.", why, need, t.has())
}

// cannotChange is the sentence for an identity that may read an app but
// not change it (Graph's 403 on a write): what it lacks, what would be
// needed. what names the change ("add a client secret to …").
func (t *Tenant) cannotChange(what string) string {
	need := "the Application.ReadWrite.All application permission (or, to change only apps it owns, Application.ReadWrite.OwnedBy and ownership of the app)"
	if !t.Identity.AppOnly {
		need = "the Application Administrator, Cloud Application Administrator or Global Administrator role, or ownership of the app"
	}
	return fmt.Sprintf("the signed-in identity may not %s: that needs %s; %s", what, need, t.has())
}

// dayTwoReads says, per day-2 command, why it must read the apps and
// whether it goes on to change one.
var dayTwoReads = map[string]struct {
	why   string
	write bool
}{
	"apps list":          {"apps list lists", false},
	"verify":             {"verify checks", false},
	"verify --all":       {"verify --all checks", false},
	"rotate-secret":      {"rotate-secret must find before it adds a secret", true},
	"delete":             {"delete must find before it deletes anything", true},
	"retire":             {"retire must find before it removes a credential", true},
	"rotate-certificate": {"rotate-certificate must find before it adds a certificate", true},
}

// Denied turns Graph's refusal (403) of what a day-2 command reads first
// into the words setup uses: what the signed-in identity lacks, what it
// would need, that nothing was changed. It reads who is signed in (the
// token's claims, and its directory roles: one more request, made only
// here). Any other error is returned as it is.
func Denied(ctx context.Context, env *Env, command string, err error) error {
	var fe *ForbiddenError
	var ue *UsageError
	if !graph.IsForbidden(err) || errors.As(err, &fe) || errors.As(err, &ue) {
		return err
	}
	r, ok := dayTwoReads[command]
	if !ok {
		r.why, r.write = command+" must read", true
	}
	t := env.whoIs(ctx)
	return &ForbiddenError{Msg: t.cannotRead(r.why, r.write), Err: err}
}

// whoIs is what the sentences about privileges need to know of the
// signed-in identity: its token's claims and its directory roles.
func (e *Env) whoIs(ctx context.Context) *Tenant {
	id, err := e.Graph.WhoAmI(ctx)
	t := &Tenant{Identity: id, cloud: e.Cloud}
	if err != nil {
		t.setRoles(nil, err)
		return t
	}
	roles, err := e.Graph.MyDirectoryRoles(ctx, id)
	t.setRoles(roles, err)
	return t
}
