package journal

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const (
	tenantID = "7a12f03f-cfc4-4db4-90a9-1c2af7ab1535"
	appObj   = "03ef14b0-ca33-4840-8f4f-d6e91916010e"
	keyID    = "f0b0b335-1d71-4883-8f98-567911bfdca6"
)

func entry(token string) Entry {
	return Entry{TenantID: tenantID, AppID: "631a96bc-a705-4eda-9f99-fdaf9f54f6a2", ApplicationObjectID: appObj, App: "Entitle",
		Kind: KindClientSecret, DisplayName: "entra-link entitle 2026-11-21 #" + token, Command: "setup", Profile: "entitle"}
}

// One run's record goes adding → created → delivered; while that run
// holds it, no other run sees it; once the run is gone, another takes it
// over with everything it recorded.
func TestRecordLifecycleAcrossRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	a := New(dir, nil)
	r, err := a.Begin(entry("0123456789ab"), "0123456789ab")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, r.path: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	b := New(dir, nil)
	if got, err := b.Interrupted(tenantID, appObj); err != nil || len(got) != 0 {
		t.Fatalf("another run sees a record its owner still holds: %+v, %v", got, err)
	}
	if err := r.Created(keyID); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Delivered(keyID, "standard output"); !ok || err != nil {
		t.Fatalf("Delivered: %v, %v", ok, err)
	}
	a.Close()

	got, err := b.Interrupted(tenantID, appObj)
	if err != nil || len(got) != 1 {
		t.Fatalf("after the run ended: %+v, %v", got, err)
	}
	g := got[0]
	if g.State != StateDelivered || g.KeyID != keyID || g.DeliveredTo != "standard output" || g.DisplayName != entry("0123456789ab").DisplayName || g.Command != "setup" {
		t.Errorf("record read back as %+v", g)
	}
	// b holds it: asked again, b gets it again; a third run does not.
	if again, _ := b.Interrupted(tenantID, appObj); len(again) != 1 || again[0] != g {
		t.Errorf("asked again, the run that took the record over got %+v", again)
	}
	if got, _ := New(dir, nil).Interrupted(tenantID, appObj); len(got) != 0 {
		t.Errorf("two runs took over one record")
	}
	// Another app's or tenant's records are not this app's.
	if got, _ := New(dir, nil).Interrupted(tenantID, "00000000-0000-0000-0000-000000000001"); len(got) != 0 {
		t.Errorf("a record of another app was returned")
	}
	if err := g.Settle(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.path); !os.IsNotExist(err) {
		t.Errorf("a settled record's file is still there: %v", err)
	}
	b.Close()
	if got, _ := New(dir, nil).Interrupted(tenantID, appObj); len(got) != 0 {
		t.Errorf("a settled record came back: %+v", got)
	}
}

// A record whose run ended before the credential's key id or delivery was
// written is "adding"; a torn last line (power loss mid-write) is ignored.
func TestInterruptedRecordIsAdding(t *testing.T) {
	dir := t.TempDir()
	a := New(dir, nil)
	r, err := a.Begin(entry("00000000aaaa"), "00000000aaaa")
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"event":"deliv`)
	_ = f.Close()
	got, err := New(dir, nil).Interrupted(tenantID, appObj)
	if err != nil || len(got) != 1 || got[0].State != StateAdding || got[0].KeyID != "" {
		t.Fatalf("got %+v, %v", got, err)
	}
}

func TestBeginRefusesWhatItCannotKeepPrivate(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := New(dir, nil).Begin(entry("0123456789ab"), "0123456789ab"); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Errorf("Begin in a world-writable directory: %v", err)
	}
	priv := t.TempDir()
	if _, err := New(priv, nil).Begin(entry("x"), "../x"); err == nil {
		t.Error("a token that is a path was accepted")
	}
	j := New(priv, nil)
	if _, err := j.Begin(entry("0123456789ab"), "0123456789ab"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Begin(entry("0123456789ab"), "0123456789ab"); err == nil {
		t.Error("two records with one token")
	}
}

// TestKilledProcessReleasesItsRecord: a process that began a record and
// was killed with SIGKILL (no deferred code, no cleanup) leaves it to the
// next run — the kernel dropped its lock.
func TestKilledProcessReleasesItsRecord(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL")
	}
	if os.Getenv("JOURNAL_TEST_CHILD") != "" {
		j := New(os.Getenv("JOURNAL_TEST_CHILD"), nil)
		if _, err := j.Begin(entry("c0ffee000000"), "c0ffee000000"); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("begun\n")
		time.Sleep(time.Hour)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestKilledProcessReleasesItsRecord$")
	cmd.Env = append(os.Environ(), "JOURNAL_TEST_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "begun" {
		_ = cmd.Process.Kill()
		t.Fatalf("the child did not begin a record: %q", sc.Text())
	}
	if got, _ := New(dir, nil).Interrupted(tenantID, appObj); len(got) != 0 {
		t.Fatal("a live process's record was taken over")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	got, err := New(dir, nil).Interrupted(tenantID, appObj)
	if err != nil || len(got) != 1 || got[0].State != StateAdding || got[0].Token != "c0ffee000000" {
		t.Fatalf("after kill -9: %+v, %v", got, err)
	}
}
