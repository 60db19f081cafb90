package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

// TestPFXPasswordFile: --pfx-password-file protects the generated PFX, the
// hand-over says which file Hire2Retire takes, and the password appears
// nowhere in the output.
func TestPFXPasswordFile(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pfx-password")
	const password = "correct horse battery staple"
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "h2r")
	r := tt.run("setup", "--auth", "env", "--yes", "--profile", "hire2retire", "--certificate-out", out, "--pfx-password-file", pwFile)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	pfx := filepath.Join(out, "hire2retire.pfx")
	data, err := os.ReadFile(pfx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := pkcs12.DecodeChain(data, password); err != nil {
		t.Errorf("the PFX does not open with the password: %v", err)
	}
	if _, _, _, err := pkcs12.DecodeChain(data, ""); err == nil {
		t.Error("the PFX opens without a password")
	}
	mustContain(t, "hand-over", r.stdout, "Next steps",
		"Hire2Retire signs in as this app with the private key of this certificate: give Hire2Retire the file "+pfx+" (key and certificate, PKCS#12; its password is the one in --pfx-password-file).",
		"If it asks for PEM, give it "+filepath.Join(out, "hire2retire.bundle.pem")+" instead.")
	if strings.Contains(r.stdout+r.stderr, password) {
		t.Error("the password is printed")
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if len([]rune(l)) > 80 && strings.Contains(strings.TrimSpace(l), " ") {
			t.Errorf("line of %d columns: %q", len([]rune(l)), l)
		}
	}
}

// TestPFXPasswordFileBadInput: a password file that cannot protect
// anything, or cannot be read, is bad input found before the tenant is
// touched.
func TestPFXPasswordFileBadInput(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "hire2retire", "--certificate-file", "testdata/hire2retire.cer", "--pfx-password-file", pw}, "with --certificate-file nothing is generated"},
		{[]string{"--profile", "entitle", "--pfx-password-file", pw}, "this run adds a secret, not a certificate"},
		{[]string{"--profile", "hire2retire", "--certificate-out", dir, "--pfx-password-file", filepath.Join(dir, "missing")}, "--pfx-password-file: " + filepath.Join(dir, "missing") + " does not exist"},
		{[]string{"--profile", "hire2retire", "--certificate-out", dir, "--pfx-password-file", empty}, "is empty; put the password in it"},
		{[]string{"--profile", "hire2retire", "--certificate-out", dir, "--pfx-password-file", dir}, "is a directory"},
		// --force or not, the result would overwrite the PFX's only password.
		{[]string{"--profile", "hire2retire", "--certificate-out", filepath.Join(dir, "k"), "--pfx-password-file", pw, "--output-file", dir + "/./pw", "--force"},
			"--output-file " + dir + "/./pw is the file of --pfx-password-file"},
	} {
		before := len(tt.sb.Requests())
		r := tt.run(append([]string{"setup", "--auth", "env", "--yes"}, tc.args...)...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", tc.args, r.code, r.stderr)
		}
		mustContain(t, "stderr", r.stderr, tc.want)
		if w := tt.writes(before); len(w) != 0 {
			t.Errorf("%v: wrote to the tenant: %v", tc.args, w)
		}
	}
}
