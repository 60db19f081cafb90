package securefile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const secret = "s3cr3t-Value~that-must-never-appear-in-errors"

// assertNoLeak fails when an error message carries the written data.
func assertNoLeak(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), secret) {
		t.Fatalf("error message contains the data: %v", err)
	}
}

// assertOnly checks that dir holds exactly the named entries: in particular
// no temporary file was left behind.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("directory holds %q, want %q", got, names)
	}
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFileCreates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := WriteFile(path, []byte(secret), false); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != secret {
		t.Fatalf("content %q, want %q", got, secret)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, path); m != 0o600 {
			t.Fatalf("mode %v, want -rw-------", m)
		}
	}
	assertOnly(t, dir, "out.json")
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("rel.txt", []byte("x"), false); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, filepath.Join(dir, "rel.txt")); got != "x" {
		t.Fatalf("content %q", got)
	}
	assertOnly(t, dir, "rel.txt")
}

func TestWriteFileExisting(t *testing.T) {
	tests := []struct {
		name    string
		force   bool
		wantErr bool
		want    string
	}{
		{name: "refused without force", force: false, wantErr: true, want: "old"},
		{name: "replaced with force", force: true, want: secret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.env")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := WriteFile(path, []byte(secret), tt.force)
			assertNoLeak(t, err)
			if tt.wantErr {
				if !errors.Is(err, ErrExists) {
					t.Fatalf("err = %v, want ErrExists", err)
				}
				for _, part := range []string{path, "--force"} {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q does not mention %q", err, part)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := readString(t, path); got != tt.want {
				t.Fatalf("content %q, want %q", got, tt.want)
			}
			if tt.force && runtime.GOOS != "windows" {
				// The old file was 0644; a forced replacement must not inherit that.
				if m := mode(t, path); m != 0o600 {
					t.Fatalf("mode after force %v, want -rw-------", m)
				}
			}
			assertOnly(t, dir, "out.env")
		})
	}
}

func TestWriteFileRefusesNonRegularEvenWithForce(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, force := range []bool{false, true} {
		err := WriteFile(sub, []byte(secret), force)
		if err == nil {
			t.Fatalf("force=%v: wrote over a directory", force)
		}
		assertNoLeak(t, err)
		if !strings.Contains(err.Error(), sub) {
			t.Errorf("error %q does not name the path", err)
		}
		if fi, err := os.Lstat(sub); err != nil || !fi.IsDir() {
			t.Fatalf("directory was disturbed: %v %v", fi, err)
		}
	}
}

func TestWriteFileSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	tests := []struct {
		name     string
		dangling bool
		force    bool
	}{
		{name: "refused without force"},
		{name: "dangling refused without force", dangling: true},
		{name: "link replaced with force", force: true},
		{name: "dangling link replaced with force", dangling: true, force: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "target")
			if !tt.dangling {
				if err := os.WriteFile(target, []byte("victim"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(dir, "link")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			err := WriteFile(link, []byte(secret), tt.force)
			assertNoLeak(t, err)
			if !tt.force {
				if !errors.Is(err, ErrExists) {
					t.Fatalf("err = %v, want ErrExists", err)
				}
				if m := mode(t, link); m&fs.ModeSymlink == 0 {
					t.Fatalf("link was replaced without force: %v", m)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if m := mode(t, link); !m.IsRegular() || m.Perm() != 0o600 {
					t.Fatalf("path is %v, want a regular 0600 file", m)
				}
				if got := readString(t, link); got != secret {
					t.Fatalf("content %q", got)
				}
			}
			// Whatever the link pointed to is never written through it.
			if tt.dangling {
				if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("the dangling link's target was created: %v", err)
				}
			} else if got := readString(t, target); got != "victim" {
				t.Fatalf("link target was written: %q", got)
			}
		})
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "out.json")
	err := WriteFile(path, []byte(secret), false)
	if err == nil {
		t.Fatal("wrote into a missing directory")
	}
	assertNoLeak(t, err)
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestWriteFileEmptyName(t *testing.T) {
	if err := WriteFile("", []byte(secret), true); err == nil {
		t.Fatal("accepted an empty file name")
	}
}

func TestWriteFileModeExact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cert.pem")
	if err := WriteFileMode(path, []byte("public"), 0o644, false); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, path); m != 0o644 {
			t.Fatalf("mode %v, want -rw-r--r--", m)
		}
	}
	if err := WriteFileMode(path, []byte("x"), fs.ModeSetuid|0o755, true); err == nil {
		t.Fatal("accepted a setuid mode")
	}
}

// TestNoClobberRace covers the window between the Lstat in WriteFile and the
// final move: a file that appears there must not be overwritten.
func TestNoClobberRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := os.WriteFile(path, []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := writeAtomic(path, []byte(secret), SecretPerm, false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	if got := readString(t, path); got != "theirs" {
		t.Fatalf("the late file was overwritten: %q", got)
	}
	assertOnly(t, dir, "out.json")
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := WriteFile(path, []byte("first"), false); err != nil {
		t.Fatal(err)
	}
	// Somebody widened the mode in between; the rewrite narrows it again.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Replace(path, []byte(secret)); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != secret {
		t.Fatalf("content %q", got)
	}
	if runtime.GOOS != "windows" {
		if m := mode(t, path); m != 0o600 {
			t.Fatalf("mode %v, want -rw-------", m)
		}
	}
	assertOnly(t, dir, "out.json")
}

func TestReplaceRefuses(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	err := Replace(missing, []byte(secret))
	assertNoLeak(t, err)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Replace of a missing file: err = %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Lstat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Replace created a missing file")
	}

	if runtime.GOOS == "windows" {
		return
	}
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("victim"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	err = Replace(link, []byte(secret))
	assertNoLeak(t, err)
	if err == nil || !strings.Contains(err.Error(), link) {
		t.Fatalf("Replace through a symlink: err = %v, want a refusal naming %s", err, link)
	}
	if got := readString(t, target); got != "victim" {
		t.Fatalf("symlink target written: %q", got)
	}
	if m := mode(t, link); m&fs.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v", m)
	}
}

// TestReplaceIsAtomic rewrites a file many times while readers keep opening
// it: every read must be one complete version, never empty or a mix.
func TestReplaceIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	versions := [][]byte{
		bytes.Repeat([]byte("a"), 1<<20),
		bytes.Repeat([]byte("b"), 3<<19),
	}
	if err := WriteFile(path, versions[0], false); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	reads := 0
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, err := os.ReadFile(path)
				mu.Lock()
				reads++
				if err != nil {
					bad = append(bad, err.Error())
				} else if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					bad = append(bad, "partial or mixed content of length "+strconv.Itoa(len(b)))
				}
				mu.Unlock()
			}
		})
	}
	for i := range 60 {
		if err := Replace(path, versions[i%2]); err != nil {
			t.Error(err)
			break
		}
	}
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d of %d reads saw a broken file, first: %s", len(bad), reads, bad[0])
	}
	if reads == 0 {
		t.Fatal("readers never ran")
	}
	assertOnly(t, dir, "out.json")
}

func TestWriteFileWithoutHardLinks(t *testing.T) {
	orig := hardLink
	hardLink = func(string, string) error { return &os.LinkError{Op: "link", Err: errors.ErrUnsupported} }
	defer func() { hardLink = orig }()

	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := WriteFile(path, []byte(secret), false); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, path); got != secret {
		t.Fatalf("content %q", got)
	}
	err := writeAtomic(path, []byte("second"), SecretPerm, false)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	if got := readString(t, path); got != secret {
		t.Fatalf("existing file overwritten: %q", got)
	}
	assertOnly(t, dir, "out.json")
}

// TestErrorsInWords: a failed write says why in words, naming the path the
// user gave, never a temporary file or a Go error chain.
func TestErrorsInWords(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ path, want string }{
		{filepath.Join(dir, "nope", "x.json"), "cannot write " + filepath.Join(dir, "nope", "x.json") + ": the directory " + filepath.Join(dir, "nope") + " does not exist"},
		{filepath.Join(file, "x.json"), "cannot write " + filepath.Join(file, "x.json") + ": " + file + " is a file, not a directory"},
	}
	if runtime.GOOS != "windows" && os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct{ path, want string }{filepath.Join(ro, "x.json"), "you may not create files in the directory " + ro})
	}
	for _, tc := range cases {
		err := WriteFile(tc.path, []byte(secret), false)
		if err == nil {
			t.Fatalf("%s: written", tc.path)
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.want) {
			t.Errorf("got  %q\nwant %q", msg, tc.want)
		}
		for _, bad := range []string{".tmp-", "open ", "create temporary", "no such file or directory"} {
			if strings.Contains(msg, bad) {
				t.Errorf("%q shows %q", msg, bad)
			}
		}
	}
}
