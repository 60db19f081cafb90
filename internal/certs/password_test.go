package certs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

func TestReadPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ content, want string }{
		{"hunter2\n", "hunter2"},
		{"hunter2\r\n", "hunter2"},
		{"with spaces \t", "with spaces \t"},
	} {
		got, err := ReadPasswordFile(write("ok", tc.content))
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v", tc.content, got, err)
		}
	}
	for _, tc := range []struct{ path, says string }{
		{write("empty", "\n"), "is empty"},
		{write("two", "line one\nline two\n"), "more than one line"},
		{write("big", strings.Repeat("x", MaxPasswordBytes+1)), "longer than 1024 bytes"},
		{filepath.Join(dir, "missing"), "does not exist"},
		{dir, "is a directory"},
	} {
		_, err := ReadPasswordFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: err %v, want one saying %q", tc.path, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), "line one") {
			t.Errorf("the error shows the file's content: %v", err)
		}
	}
}

// TestPFXPassword: the PFX opens with the password it was given, and only
// with it.
func TestPFXPassword(t *testing.T) {
	kp := *generated(t)
	kp.PFXPassword = "s3cret pfx"
	w, err := kp.WriteFiles(t.TempDir(), "app", false)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(w.PFXPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, cert, _, err := pkcs12.DecodeChain(data, "s3cret pfx"); err != nil || cert.SerialNumber.Cmp(kp.Cert.SerialNumber) != 0 {
		t.Errorf("decode with the password: %v", err)
	}
	if _, _, _, err := pkcs12.DecodeChain(data, ""); err == nil {
		t.Error("the PFX opens without its password")
	}
}
