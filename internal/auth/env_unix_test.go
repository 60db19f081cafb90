//go:build unix

package auth

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A FIFO as AZURE_CLIENT_CERTIFICATE_PATH would block the open for ever;
// it is refused as bad input instead.
func TestEnvCertificateFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "cert.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewCredential(Options{Method: MethodEnv, Getenv: env(map[string]string{
		"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": fifo})})
	var se *SignInError
	want := "the certificate in AZURE_CLIENT_CERTIFICATE_PATH (" + fifo + ") is a named pipe (FIFO), not a file"
	if !errors.As(err, &se) || !se.Input || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
}
