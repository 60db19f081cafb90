// Package journal is entra-link's local record of the credentials its runs
// add to apps, kept so that a secret a run created but could not hand over
// (the process was killed, the machine lost power, an answer never came) is
// found and removed by the next run instead of lingering in the tenant with
// nobody holding it.
//
// The journal is a directory under the user's state directory (0700), one
// file per credential (0600), named after the run's token. A file is a log
// of JSON lines, appended and never rewritten, so that a process killed
// mid-write leaves at most a torn last line:
//
//	{"event":"adding", "at":…, "tenantId":…, "appId":…, "applicationObjectId":…, "kind":"client-secret", "displayName":"entra-link entitle 2026-11-21 #3f9a0c1b2d4e", …}
//	{"event":"created", "at":…, "keyId":…}
//	{"event":"delivered", "at":…, "keyId":…, "to":"standard output"}
//	{"event":"settled", "at":…}   (just before the file is removed)
//
// Never the secret's value. The state of a record is "adding" until the
// secret has been written where the user asked (the --output-file written,
// standard output written, the hand-over screen drawn), then "delivered".
//
// The process that adds a credential holds an exclusive lock (flock, or
// LockFileEx on Windows) on its file for as long as it runs; the kernel
// drops it when the process ends, however it ends. So a record that another
// process can lock belongs to no running process: if it is still "adding",
// its credential was never handed over. That is what keeps concurrent runs
// on one machine from removing each other's secrets.
//
// Records of delivered credentials are kept: they say which credentials on
// an app entra-link delivered, when, by which command and where to, for a
// later step that retires old credentials.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Record states.
const (
	// StateAdding: the credential is being added, or was added and not yet
	// handed over.
	StateAdding = "adding"
	// StateDelivered: the secret was written where the user asked.
	StateDelivered = "delivered"
)

// KindClientSecret is the kind of a client secret's record.
const KindClientSecret = "client-secret"

// version is written into every "adding" line.
const version = 1

// Entry is what a run records before it adds a credential.
type Entry struct {
	TenantID            string `json:"tenantId"`
	Cloud               string `json:"cloud,omitempty"`
	AppID               string `json:"appId"`
	ApplicationObjectID string `json:"applicationObjectId"`
	// App is the app's display name, for people reading the journal.
	App string `json:"app,omitempty"`
	// Kind is KindClientSecret.
	Kind string `json:"kind"`
	// DisplayName is the credential's display name, unique to the run: the
	// way a credential whose key id never reached the run is recognised.
	DisplayName string `json:"displayName"`
	// Command is the entra-link command that added it ("setup", "rotate-secret").
	Command string    `json:"command"`
	Profile string    `json:"profile,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
}

// Record is one credential's entry as it stands.
type Record struct {
	Entry
	// Token names the record (the file) and appears in DisplayName.
	Token string
	// KeyID is the credential's key id once the run learnt it ("" if it
	// never did).
	KeyID   string
	State   string
	Started time.Time
	// DeliveredTo says where the secret went ("standard output", …).
	DeliveredTo string
	DeliveredAt time.Time

	j     *Journal
	path  string
	f     *os.File // open, locked; nil once released
	taken bool     // taken over from an ended run (not begun here)
}

// event is one line of a record's file.
type event struct {
	Event   string    `json:"event"`
	At      time.Time `json:"at"`
	Version int       `json:"version,omitempty"`
	*Entry
	KeyID string `json:"keyId,omitempty"`
	To    string `json:"to,omitempty"`
}

// Journal is the journal in one directory, as one process uses it: the
// records it began or took over, locked until Close.
type Journal struct {
	dir string
	now func() time.Time

	mu   sync.Mutex
	held map[string]*Record // by path
}

// New returns the journal in dir; nothing is read or created until it is
// used. now nil means time.Now.
func New(dir string, now func() time.Time) *Journal {
	if now == nil {
		now = time.Now
	}
	return &Journal{dir: dir, now: now, held: map[string]*Record{}}
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

var tokenPattern = regexp.MustCompile(`^[0-9a-f]{8,32}$`)

// Begin records, before the credential is added, that this run is adding
// it, and keeps the record locked until Close. token (lower-case hex) names
// the record and must be the one in e.DisplayName.
func (j *Journal) Begin(e Entry, token string) (*Record, error) {
	if !tokenPattern.MatchString(token) {
		return nil, fmt.Errorf("journal: invalid token %q", token)
	}
	if err := os.MkdirAll(j.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", j.dir, err)
	}
	if fi, err := os.Stat(j.dir); err == nil && fi.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("%s is writable by others (mode %v); make it private (chmod 700) for entra-link to keep its journal there", j.dir, fi.Mode().Perm())
	}
	path := filepath.Join(j.dir, token+".jsonl")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if ok, err := tryLock(f); err != nil || !ok {
		_ = f.Close()
		_ = os.Remove(path)
		if err == nil {
			err = errors.New("locked by another process")
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	r := &Record{Entry: e, Token: token, State: StateAdding, Started: j.now().UTC(), j: j, path: path, f: f}
	if err := r.append(event{Event: "adding", At: r.Started, Version: version, Entry: &r.Entry}); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, err
	}
	syncDir(j.dir)
	j.mu.Lock()
	j.held[path] = r
	j.mu.Unlock()
	return r, nil
}

// append writes one line with a single write and syncs it.
func (r *Record) append(ev event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if r.f == nil {
		return fmt.Errorf("journal record %s is no longer held", r.Token)
	}
	if _, err := r.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", r.path, err)
	}
	return nil
}

// Created records the key id Graph gave the credential.
func (r *Record) Created(keyID string) error {
	r.j.mu.Lock()
	defer r.j.mu.Unlock()
	r.KeyID = keyID
	return r.append(event{Event: "created", At: r.j.now().UTC(), KeyID: keyID})
}

// Delivered marks the credential with this key id, which this process
// added, as handed over (to: where, in words). It reports whether this
// process holds such a record.
func (j *Journal) Delivered(keyID, to string) (bool, error) {
	if keyID == "" {
		return false, nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range j.held {
		if !strings.EqualFold(r.KeyID, keyID) || r.State == StateDelivered {
			continue
		}
		now := j.now().UTC()
		if err := r.append(event{Event: "delivered", At: now, KeyID: r.KeyID, To: to}); err != nil {
			return true, err
		}
		r.State, r.DeliveredTo, r.DeliveredAt = StateDelivered, to, now
		return true, nil
	}
	return false, nil
}

// Settle ends the record: nothing of it remains in the tenant (the add was
// refused, or its credential was removed). Its file is removed.
func (r *Record) Settle() error {
	r.j.mu.Lock()
	defer r.j.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.append(event{Event: "settled", At: r.j.now().UTC()})
	if !removeNeedsClose {
		if rerr := os.Remove(r.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	r.release()
	if removeNeedsClose {
		_ = os.Remove(r.path)
	}
	syncDir(r.j.dir)
	return err
}

// release unlocks the record and forgets it. Callers hold j.mu.
func (r *Record) release() {
	if r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
	delete(r.j.held, r.path)
}

// Release lets go of the record, which stays as it is for a later run.
func (r *Record) Release() {
	r.j.mu.Lock()
	defer r.j.mu.Unlock()
	r.release()
}

// Close lets go of every record this process holds.
func (j *Journal) Close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, r := range j.held {
		r.release()
	}
}

// Interrupted returns the records of this tenant's app that no running
// process holds — a run that ended, one way or another — and takes them
// over (locked until released, settled or Close). Records still "adding"
// belong to runs that never handed their credential over; delivered ones
// name the one credential of theirs that was. Records this process took
// over before are returned again; the ones it began are not. A journal
// that does not exist yet has none.
func (j *Journal) Interrupted(tenantID, appObjectID string) ([]*Record, error) {
	names, err := filepath.Glob(filepath.Join(j.dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []*Record
	var errs []error
	for _, path := range names {
		j.mu.Lock()
		held, mine := j.held[path]
		j.mu.Unlock()
		if mine {
			if held.taken && strings.EqualFold(held.TenantID, tenantID) && strings.EqualFold(held.ApplicationObjectID, appObjectID) {
				out = append(out, held)
			}
			continue
		}
		r, err := j.take(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if r == nil {
			continue
		}
		if r.State == "" || !strings.EqualFold(r.TenantID, tenantID) || !strings.EqualFold(r.ApplicationObjectID, appObjectID) {
			j.mu.Lock()
			r.release()
			j.mu.Unlock()
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// take locks and reads the record at path; nil when another process holds
// it, or it has gone or was settled.
func (j *Journal) take(path string) (*Record, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	ok, err := tryLock(f)
	if err != nil || !ok {
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return nil, nil
	}
	// Removed between the listing and the lock: settled by its owner.
	fi, err := f.Stat()
	if cur, serr := os.Stat(path); err != nil || serr != nil || !os.SameFile(fi, cur) {
		_ = f.Close()
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	r := &Record{Token: strings.TrimSuffix(filepath.Base(path), ".jsonl"), j: j, path: path, f: f, taken: true}
	settled := r.replay(data)
	j.mu.Lock()
	defer j.mu.Unlock()
	if settled {
		_ = os.Remove(path)
		_ = f.Close()
		return nil, nil
	}
	j.held[path] = r
	return r, nil
}

// replay rebuilds the record from its lines (a torn last line is ignored)
// and reports whether it was settled.
func (r *Record) replay(data []byte) (settled bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		var ev event
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch ev.Event {
		case "adding":
			if ev.Entry != nil {
				r.Entry = *ev.Entry
			}
			r.State, r.Started = StateAdding, ev.At
		case "created":
			r.KeyID = ev.KeyID
		case "delivered":
			r.State, r.DeliveredTo, r.DeliveredAt = StateDelivered, ev.To, ev.At
			if ev.KeyID != "" {
				r.KeyID = ev.KeyID
			}
		case "settled":
			return true
		}
	}
	return false
}

// Held reports whether this process still holds the record.
func (r *Record) Held() bool {
	r.j.mu.Lock()
	defer r.j.mu.Unlock()
	return r.f != nil
}

func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// JournalDir is the directory of the journal the record is in.
func (r *Record) JournalDir() string { return r.j.dir }
