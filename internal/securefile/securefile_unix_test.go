//go:build unix

package securefile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withUmask runs fn under umask u. The umask is process-wide, so tests that
// use it must not run in parallel.
func withUmask(t *testing.T, u int, fn func()) {
	t.Helper()
	old := syscall.Umask(u)
	defer syscall.Umask(old)
	fn()
}

func TestModesUnderUmask(t *testing.T) {
	tests := []struct {
		umask int
		perm  fs.FileMode // 0 means WriteFile
		want  fs.FileMode
	}{
		{umask: 0o000, want: 0o600},
		{umask: 0o077, want: 0o600},
		{umask: 0o022, want: 0o600},
		{umask: 0o000, perm: 0o644, want: 0o644},
		{umask: 0o077, perm: 0o644, want: 0o644},
	}
	for _, tt := range tests {
		for _, force := range []bool{false, true} {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if force {
				// An existing wide file must not pass its mode on.
				if err := os.WriteFile(path, []byte("old"), 0o666); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, 0o666); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			withUmask(t, tt.umask, func() {
				if tt.perm == 0 {
					err = WriteFile(path, []byte(secret), force)
				} else {
					err = WriteFileMode(path, []byte(secret), tt.perm, force)
				}
			})
			if err != nil {
				t.Fatalf("umask %03o perm %v force %v: %v", tt.umask, tt.perm, force, err)
			}
			if m := mode(t, path); m != tt.want {
				t.Errorf("umask %03o perm %v force %v: mode %v, want %v", tt.umask, tt.perm, force, m, tt.want)
			}
		}
	}
	// Replace too, under the most permissive umask.
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	withUmask(t, 0, func() {
		if err := WriteFile(path, []byte("1"), false); err != nil {
			t.Fatal(err)
		}
		if err := Replace(path, []byte("2")); err != nil {
			t.Fatal(err)
		}
	})
	if m := mode(t, path); m != 0o600 {
		t.Errorf("Replace under umask 0: mode %v, want -rw-------", m)
	}
}

func TestRefusesFIFOEvenWithForce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	err := WriteFile(path, []byte(secret), true)
	if err == nil || !strings.Contains(err.Error(), "named pipe") || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want a refusal naming the pipe", err)
	}
	if m := mode(t, path); m&fs.ModeNamedPipe == 0 {
		t.Fatalf("fifo was replaced: %v", m)
	}
}
