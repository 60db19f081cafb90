package setup

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/entra-link/entra-link/graph"
	"github.com/entra-link/entra-link/internal/journal"
)

// What keeps a run's credentials and apps from being orphaned or
// duplicated: the app's unique name (the upsert key), a display name unique
// to the run on every secret it adds, and the journal of those secrets.

// UniqueName is the unique name (Graph's alternate key, used for the
// upsert) of the app entra-link makes for a profile and display name. Two
// runs for the same product and name compute the same key and so meet on
// one app. Display names are compared ignoring case, as preflight finds
// apps, so the key hashes the lower-cased name; the readable part says what
// it is for. Only [a-z0-9-], nothing to escape in a URL or OData literal,
// and at most 63 characters with keySequence's suffix (Graph documents no
// limit; short is safe).
func UniqueName(profileID, displayName string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(profileID) + "\x00" + strings.ToLower(strings.TrimSpace(displayName))))
	return "entra-link-" + slug(profileID, 16) + "-" + slug(displayName, 22) + "-" + hex.EncodeToString(sum[:5])
}

func slug(s string, n int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > n {
		out = strings.TrimRight(out[:n], "-")
	}
	if out == "" {
		return "app"
	}
	return out
}

// keyAttempts is how many unique names a new app tries when deleted apps
// in the recycle bin hold the first ones.
const keyAttempts = 5

// keySequence is the unique names an app tries, in order: the key, then
// key-2, key-3, …. A deleted app keeps its unique name for 30 days, and a
// new app for the same product and name takes the next free one; runs
// walking the same sequence still meet on one app.
func keySequence(key string) []string {
	out := []string{key}
	for i := 2; i <= keyAttempts; i++ {
		out = append(out, fmt.Sprintf("%s-%d", key, i))
	}
	return out
}

// keyHeldWarning says why the app got a later unique name.
func keyHeldWarning(held []string, got, name string) string {
	return fmt.Sprintf("deleted apps in the recycle bin still hold the unique name %s (Entra keeps a deleted app's unique name for 30 days, e.g. after entra-link delete), so this app's unique name is %s; restoring a deleted one would make two apps named %q",
		strings.Join(held, ", "), got, name)
}

// newToken is a run's token: 12 hex digits, in the display name of the
// secret it adds and the name of its journal record.
func newToken() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand: " + err.Error()) // never fails on supported systems
	}
	return hex.EncodeToString(b[:])
}

// secretName is the display name of a secret a run adds: what added it,
// when, and the run's token, which makes it unique to the run.
func secretName(what string, now time.Time, token string) string {
	return fmt.Sprintf("entra-link %s %s #%s", what, now.UTC().Format("2006-01-02"), token)
}

// journalAge is how old a record must be before the absence of its
// credential from a read of the app is believed (a credential added a
// moment ago may not have replicated to the replica that answered).
const journalAge = time.Hour

// leftover is a secret on the app that a run of this machine added and
// nobody holds: its run ended before handing it over, or it was made by an
// attempt whose answer never came.
type leftover struct {
	cred graph.PasswordCredential
	rec  *journal.Record
	// settles: removing the leftovers of rec ends rec (nothing of it stays).
	settles bool
	// left counts rec's leftovers not yet removed (shared by them).
	left *atomic.Int32
}

// leftovers compares the journal's records of ended runs with the app's
// secrets. A secret named like a record is a leftover unless it is the one
// that record delivered. Records with nothing left in the tenant are stale
// (settled by the run, locally).
func leftovers(app *graph.Application, recs []*journal.Record, now time.Time) (out []leftover, stale []*journal.Record) {
	if app == nil {
		return nil, nil
	}
	for _, rec := range recs {
		var found []graph.PasswordCredential
		deliveredThere := false
		for _, pc := range app.PasswordCredentials {
			if pc.DisplayName != rec.DisplayName {
				continue
			}
			if rec.State == journal.StateDelivered && strings.EqualFold(pc.KeyID, rec.KeyID) {
				deliveredThere = true
				continue
			}
			found = append(found, pc)
		}
		left := new(atomic.Int32)
		left.Store(int32(len(found)))
		for _, pc := range found {
			out = append(out, leftover{cred: pc, rec: rec, settles: !deliveredThere, left: left})
		}
		if len(found) == 0 && !deliveredThere && now.Sub(rec.Started) > journalAge {
			stale = append(stale, rec)
		}
	}
	return out, stale
}

// leftoverDetail says in a plan line why a leftover is removed.
func leftoverDetail(l leftover) string {
	when := l.rec.Started.UTC().Format("2006-01-02 15:04 UTC")
	if l.rec.State == journal.StateDelivered {
		return fmt.Sprintf("made by a failed attempt of a run (%s, %s) that handed over another secret; nobody has its value", l.rec.Command, when)
	}
	return fmt.Sprintf("an interrupted run (%s, %s) created it and could not hand it over; nobody has its value", l.rec.Command, when)
}

// leftoverRemoved is the result's note once leftovers were removed.
func leftoverRemoved(newSecret bool) string {
	if newSecret {
		return "The previous run was interrupted after creating a secret it could not hand over; that secret was removed and a new one created."
	}
	return "The previous run was interrupted after creating a secret it could not hand over; that secret was removed."
}

// removeLeftover removes one leftover secret; the record is settled once
// nothing of it is left (a record left behind is tried again next run).
func removeLeftover(ctx context.Context, g graph.API, appObjectID string, l leftover) error {
	err := g.RemovePassword(ctx, appObjectID, l.cred.KeyID)
	if err != nil && !graph.IsNotFound(err) {
		return err
	}
	if l.left.Add(-1) == 0 && l.settles {
		_ = l.rec.Settle()
	}
	return nil
}

// journalEntry begins the journal record of a secret about to be added;
// nil (and a warning in words) when there is no journal or it cannot be
// written: the secret is still added, but an interrupted run could not be
// cleaned up after.
func (e *Env) journalEntry(tenantID string, app graph.Application, name, token, command, profileID string, end time.Time) (*journal.Record, string) {
	if e.Journal == nil {
		return nil, ""
	}
	rec, err := e.Journal.Begin(journal.Entry{
		TenantID: tenantID, Cloud: e.Cloud.Name, AppID: app.AppID, ApplicationObjectID: app.ID, App: app.DisplayName,
		Kind: journal.KindClientSecret, DisplayName: name, Command: command, Profile: profileID, Expires: end.UTC(),
	}, token)
	if err != nil {
		return nil, fmt.Sprintf("entra-link could not record the new secret in its journal (%v); if this run is stopped before the secret is handed over, the next run cannot remove it", err)
	}
	return rec, ""
}

// secretContext is the context an addPassword runs in. Once requested, a
// secret must reach the user: a stop (ctx) does not cancel the request,
// only its time limit does — or the user insisting on stopping
// (Env.StopWaiting), since the journal covers a secret nobody got.
func (e *Env) secretContext(ctx context.Context) (context.Context, func()) {
	bounded, cancelBound := context.WithTimeout(context.WithoutCancel(ctx), addPasswordTimeout)
	sctx, cancel := context.WithCancelCause(bounded)
	release := func() bool { return false }
	if e.StopWaiting != nil {
		release = context.AfterFunc(e.StopWaiting, func() { cancel(graph.ErrStoppedWaiting) })
	}
	return sctx, func() {
		release()
		cancel(nil)
		cancelBound()
	}
}

// StoppedWaitingError is an addPassword the user stopped waiting for: whether
// Entra created the secret is unknown, and nobody has its value.
type StoppedWaitingError struct{ Msg string }

func (e *StoppedWaitingError) Error() string { return e.Msg }

// addFailed words a failed addPassword (sctx: its secretContext): refused
// (nothing was added), unknown (the attempt may have created a secret that
// the read-back could not find), or not waited for, and what becomes of
// that.
func addFailed(sctx context.Context, err error, name string, rec *journal.Record) error {
	if errors.Is(context.Cause(sctx), graph.ErrStoppedWaiting) {
		// The record stays open: the next run removes what Entra made.
		if rec != nil {
			return &StoppedWaitingError{Msg: fmt.Sprintf("stopped waiting for Entra's answer, so whether it created the secret is unknown; if it did, nobody has its value, and the next entra-link run for this app on this machine removes it and adds a new one (its journal, in %s, keeps the secret's name %q)", rec.JournalDir(), name)}
		}
		return &StoppedWaitingError{Msg: fmt.Sprintf("stopped waiting for Entra's answer, so whether it created the secret is unknown; if it did, nobody has its value: remove the secret named %q (App registrations > the app > Certificates & secrets)", name)}
	}
	if !graph.MayHaveTakenEffect(err) {
		if rec != nil {
			_ = rec.Settle()
		}
		return err
	}
	if rec != nil {
		return fmt.Errorf("%w. Whether Entra created the secret anyway could not be checked; if it did, the next entra-link run for this app on this machine removes it (its journal, in %s, keeps the secret's name %q)", err, rec.JournalDir(), name)
	}
	return fmt.Errorf("%w. Whether Entra created the secret anyway could not be checked; if it did, remove the secret named %q (App registrations > the app > Certificates & secrets)", err, name)
}
