package cli

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// certToken signs in as the app with a certificate and its key (a PEM
// bundle), as Hire2Retire does: a token, and a sign-in in the logs.
func (tt *tenant) certToken(appID, bundlePath string) error {
	tt.t.Helper()
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		return err
	}
	certs, key, err := azidentity.ParseCertificates(data, nil)
	if err != nil {
		return err
	}
	cred, err := azidentity.NewClientCertificateCredential(tt.sb.Tenant().TenantID, appID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions: policy.ClientOptions{Transport: &http.Client{Transport: tt.sb.Transport()}, Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: graphLogin}},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	return err
}

func (s sbState) certKeys(t *testing.T, appID string) []string {
	t.Helper()
	var out []string
	for _, k := range s.Applications[s.app(t, appID)].KeyCredentials {
		out = append(out, k.KeyID)
	}
	slices.Sort(out)
	return out
}

// bundleOf is the PEM bundle (certificate and key) a run generated.
func bundleOf(t *testing.T, res map[string]any) string {
	t.Helper()
	p := str(res, "certificateBundlePath")
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle %q: %v %v", p, fi, err)
	}
	key := str(res, "certificateKeyPath")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key %q: %v %v", key, fi, err)
	}
	return p
}

// TestCertificateRotation: a Hire2Retire app with a generated certificate
// gets a second one (a key pair generated here); the new certificate gets a
// token and the old one still does; retire refuses while the old one is
// what the app last signed in with; once Hire2Retire signs in with the
// new one, retire removes the old one (one read-merge-PATCH of the app's
// keyCredentials), which then gets no token, while the new one does.
func TestCertificateRotation(t *testing.T) {
	tt := newTenant(t)
	logReader(t, tt)
	dir := t.TempDir()
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", filepath.Join(dir, "one"))
	appID, old := str(res, "clientId"), bundleOf(t, res)
	if err := tt.certToken(appID, old); err != nil {
		t.Fatalf("the first certificate does not work: %v", err)
	}
	oldKeys := tt.state().certKeys(t, appID)

	r := tt.day2(0, "rotate-certificate", "--app-id", appID, "--certificate-out", filepath.Join(dir, "two"), "--output", "json")
	j := decode(t, r.stdout)
	fresh := bundleOf(t, j)
	if str(j, "certificateThumbprint") == "" || str(j, "certificateExpiresAt") == "" || str(j, "profile") != "hire2retire" {
		t.Errorf("result %v", j)
	}
	mustContain(t, "stderr", r.stderr, "Add a new certificate to \"Hire2Retire\"", "other certificate(s) will be kept")
	mustContain(t, "warnings", strings.Join(toStrings(j["warnings"]), " "), "retire them: entra-link retire --app-id "+appID)
	if keys := tt.state().certKeys(t, appID); len(keys) != 2 || !slices.Contains(keys, oldKeys[0]) {
		t.Fatalf("certificates %v, want the old one and the new one", keys)
	}
	if err := tt.certToken(appID, fresh); err != nil {
		t.Errorf("the new certificate gets no token: %v", err)
	}
	if err := tt.certToken(appID, old); err != nil {
		t.Errorf("the old certificate stopped working before it was retired: %v", err)
	}

	// The old certificate signed in last: retire refuses.
	before := len(tt.sb.Requests())
	r = tt.day2(2, "retire", "--app-id", appID, "--yes")
	mustContain(t, "stderr", r.stderr, "last signed in with certificate", "Check that Hire2Retire uses the new certificate", "--force")
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("refused, yet changed: %v", w)
	}

	// Hire2Retire switches to the new certificate; the old one goes.
	if err := tt.certToken(appID, fresh); err != nil {
		t.Fatal(err)
	}
	before = len(tt.sb.Requests())
	r = tt.day2(0, "retire", "--app-id", appID, "--yes")
	mustContain(t, "stdout", r.stdout, "Retired 1 credential", "removed certificate")
	if w := tt.writes(before); !slices.Equal(w, []string{"PATCH /v1.0/applications/" + tt.state().Applications[tt.state().app(t, appID)].ID}) {
		t.Errorf("writes %v, want one PATCH of the app", w)
	}
	if keys := tt.state().certKeys(t, appID); len(keys) != 1 || slices.Contains(keys, oldKeys[0]) {
		t.Errorf("certificates %v after retire", keys)
	}
	if err := tt.certToken(appID, old); err == nil {
		t.Error("the retired certificate still gets a token")
	}
	if err := tt.certToken(appID, fresh); err != nil {
		t.Errorf("the new certificate stopped working: %v", err)
	}
}

// TestRotateCertificateUpload: the certificate Hire2Retire gave is uploaded
// next to the existing one; the same file again changes nothing; the dry
// run shows the plan and changes nothing.
func TestRotateCertificateUpload(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", filepath.Join(t.TempDir(), "h2r"))
	appID := str(res, "clientId")
	before := len(tt.sb.Requests())
	r := tt.day2(0, "rotate-certificate", "--name", "Hire2Retire", "--certificate-file", "testdata/hire2retire.cer", "--dry-run")
	mustContain(t, "dry run", r.stdout, "upload testdata/hire2retire.cer (public part only), expires 2075-12-20",
		"keeps working until retired", "(entra-link retire --app-id "+appID+" --auth env)")
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("a dry run changed the tenant: %v", w)
	}
	r = tt.day2(0, "rotate-certificate", "--name", "Hire2Retire", "--certificate-file", "testdata/hire2retire.cer", "--no-input")
	mustContain(t, "stdout", r.stdout, "New certificate for Hire2Retire", "Client ID", appID)
	if keys := tt.state().certKeys(t, appID); len(keys) != 2 {
		t.Fatalf("certificates %v, want two", keys)
	}
	before = len(tt.sb.Requests())
	r = tt.day2(0, "rotate-certificate", "--name", "Hire2Retire", "--certificate-file", "testdata/hire2retire.cer")
	mustContain(t, "stderr", r.stderr, "already trusts certificate", "nothing to add")
	if w := tt.writes(before); len(w) != 0 {
		t.Errorf("the same certificate again changed the tenant: %v", w)
	}
}

// TestRotateCertificatePolicy: the tenant allows certificates valid 90 days
// at most (asymmetricKeyLifetime P90D). A generated one is made shorter and
// the plan says so; an uploaded one valid for 50 years is refused before
// anything changes (the rules of setup's plan, policy.go).
func TestRotateCertificatePolicy(t *testing.T) {
	tt := newTenant(t)
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", filepath.Join(t.TempDir(), "h2r"))
	appID := str(res, "clientId")
	sandboxtest.DefaultAppManagementPolicy(t, tt.sb, "", `{"isEnabled": true, "applicationRestrictions": {"keyCredentials": [
		{"restrictionType": "asymmetricKeyLifetime", "maxLifetime": "P90D", "restrictForAppsCreatedAfterDateTime": null}]}}`)
	policyReader(t, tt)
	before := len(tt.sb.Requests())
	r := tt.day2(2, "rotate-certificate", "--app-id", appID, "--certificate-file", "testdata/hire2retire.cer")
	mustContain(t, "stderr", r.stderr, "--certificate-file testdata/hire2retire.cer is valid from", "longer than the tenant's default app management policy allows",
		"asymmetricKeyLifetime P90D", "nothing was changed")
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("refused, yet changed: %v", w)
	}
	// Generated, its PFX protected by the password in a file.
	pw := filepath.Join(t.TempDir(), "pfx-password")
	if err := os.WriteFile(pw, []byte("s3cret pfx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = tt.day2(0, "rotate-certificate", "--app-id", appID, "--certificate-out", filepath.Join(t.TempDir(), "short"), "--pfx-password-file", pw, "--output", "json")
	mustContain(t, "stderr", r.stderr, "shortened from 1 year to the longest the tenant's default app management policy allows")
	j := decode(t, r.stdout)
	exp, err := time.Parse(time.RFC3339, str(j, "certificateExpiresAt"))
	if err != nil || exp.After(time.Now().AddDate(0, 0, 90)) || exp.Before(time.Now().AddDate(0, 0, 89)) {
		t.Errorf("certificateExpiresAt %v (%v), want 90 days from now", exp, err)
	}
	pfx, err := os.ReadFile(str(j, "certificatePfxPath"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := pkcs12.DecodeChain(pfx, "s3cret pfx"); err != nil {
		t.Errorf("the PFX does not open with the password: %v", err)
	}
	if strings.Contains(r.stdout+r.stderr, "s3cret pfx") {
		t.Error("the password is printed")
	}
}

// TestRotateCertificateAsTheAppItself: signed in as the Hire2Retire app
// with its own certificate (it may not update its registration), the new
// certificate is added with addKey, proven by that certificate; retire
// removes the old one with removeKey once signed in with the new one, and
// never the certificate it is signed in with.
func TestRotateCertificateAsTheAppItself(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", filepath.Join(dir, "one"))
	appID, old := str(res, "clientId"), bundleOf(t, res)
	objectID := str(res, "applicationObjectId")
	tt.env = map[string]string{"AZURE_TENANT_ID": tt.env["AZURE_TENANT_ID"], "AZURE_CLIENT_ID": appID,
		"AZURE_CLIENT_CERTIFICATE_PATH": old, "XDG_STATE_HOME": tt.env["XDG_STATE_HOME"]}

	before := len(tt.sb.Requests())
	r := tt.day2(0, "rotate-certificate", "--app-id", appID, "--certificate-out", filepath.Join(dir, "two"), "--output", "json")
	fresh := bundleOf(t, decode(t, r.stdout))
	mustContain(t, "stderr", r.stderr, "added with addKey, proven by the certificate entra-link signed in with")
	if w := tt.writes(before); !slices.Equal(w, []string{"POST /v1.0/applications/" + objectID + "/addKey"}) {
		t.Errorf("writes %v, want one addKey", w)
	}
	if err := tt.certToken(appID, fresh); err != nil {
		t.Errorf("the new certificate gets no token: %v", err)
	}

	// Signed in with the old certificate, retire will not remove it.
	before = len(tt.sb.Requests())
	r = tt.day2(2, "retire", "--app-id", appID, "--yes")
	mustContain(t, "stderr", r.stderr, "is the certificate entra-link is signed in with", "it cannot retire itself")
	if w := tt.writes(before); len(w) != 0 {
		t.Fatalf("refused, yet changed: %v", w)
	}
	tt.env["AZURE_CLIENT_CERTIFICATE_PATH"] = fresh
	before = len(tt.sb.Requests())
	r = tt.day2(0, "retire", "--app-id", appID, "--yes")
	mustContain(t, "stderr", r.stderr, "the sign-in logs could not be read", "removed with removeKey")
	if w := tt.writes(before); len(w) != 1 || !strings.HasSuffix(w[0], "/removeKey") {
		t.Errorf("writes %v, want one removeKey", w)
	}
	if err := tt.certToken(appID, old); err == nil {
		t.Error("the retired certificate still gets a token")
	}
	if err := tt.certToken(appID, fresh); err != nil {
		t.Errorf("the new certificate stopped working: %v", err)
	}
}

// TestRotateCertificateBadInput: each mistake is exit 2, says what is
// wrong, and changes nothing.
func TestRotateCertificateBadInput(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	h2r, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", filepath.Join(dir, "h2r"))
	entitle, _ := tt.setup(0, "--profile", "entitle")
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	appID := str(h2r, "clientId")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"both sources", []string{"--app-id", appID, "--certificate-file", "testdata/hire2retire.cer", "--certificate-out", dir}, []string{"give either --certificate-file", "or --certificate-out", "not both"}},
		{"no source, runbook style", []string{"--app-id", appID, "--no-input"}, []string{"--certificate-file or --certificate-out"}},
		{"password for an upload", []string{"--app-id", appID, "--certificate-file", "testdata/hire2retire.cer", "--pfx-password-file", pw}, []string{"with --certificate-file nothing is generated"}},
		{"output over the password", []string{"--app-id", appID, "--certificate-out", filepath.Join(dir, "o"), "--pfx-password-file", pw, "--output-file", pw, "--force"}, []string{"--output-file " + pw + " is the file of --pfx-password-file", "nothing was changed"}},
		{"secret-only product", []string{"--app-id", str(entitle, "clientId"), "--certificate-out", filepath.Join(dir, "e")}, []string{"Entitle authenticates with a secret, not a certificate", "entra-link rotate-secret --app-id"}},
		{"files exist", []string{"--app-id", appID, "--certificate-out", filepath.Join(dir, "h2r")}, []string{"--certificate-out " + filepath.Join(dir, "h2r") + " already holds hire2retire.key.pem", "--force", "nothing was changed"}},
		{"not a certificate", []string{"--app-id", appID, "--certificate-file", pw}, []string{"--certificate-file: certificate " + pw, "the file is not a certificate"}},
		{"dry run as env", []string{"--app-id", appID, "--certificate-out", filepath.Join(dir, "x"), "--dry-run", "--output", "env"}, []string{"--output env needs the values of a real run"}},
		{"env for an upload", []string{"--app-id", appID, "--certificate-file", "testdata/hire2retire.cer", "--output", "env"}, []string{"--output env needs a credential the environment can carry", "generate a new key pair with --certificate-out DIR (nothing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tt.sb.Requests())
			r := tt.day2(2, append([]string{"rotate-certificate"}, tc.args...)...)
			mustContain(t, "stderr", r.stderr, tc.want...)
			if strings.Contains(r.stderr, "--new-credential") || strings.Contains(r.stderr, "has no valid certificate") {
				t.Errorf("says setup's words (a flag rotate-certificate lacks, an untrue reason):\n%s", r.stderr)
			}
			if w := tt.writes(before); len(w) != 0 {
				t.Errorf("changed the tenant: %v", w)
			}
		})
	}
}

// TestRotateCertificateInterrupted: Ctrl-C while the new certificate is
// being uploaded: the key pair was written first, the upload is seen
// through, the result says where the files are, exit 130.
func TestRotateCertificateInterrupted(t *testing.T) {
	tt := newTenant(t)
	dir := t.TempDir()
	res, _ := tt.setup(0, "--profile", "hire2retire", "--certificate-out", filepath.Join(dir, "one"))
	appID := str(res, "clientId")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	patch := regexp.MustCompile(`^/v1\.0/applications/[0-9a-f-]+$`)
	tt.wrap = func(next http.RoundTripper) http.RoundTripper {
		return transportFunc(func(r *http.Request) (*http.Response, error) {
			if r.Method == http.MethodPatch && patch.MatchString(r.URL.Path) {
				cancel() // Ctrl-C while the certificate is uploaded
			}
			return next.RoundTrip(r)
		})
	}
	out := filepath.Join(dir, "result.json")
	r := tt.runCtx(ctx, "rotate-certificate", "--auth", "env", "--app-id", appID, "--certificate-out", filepath.Join(dir, "two"), "--output", "json", "--output-file", out)
	tt.wrap = nil
	if r.code != 130 {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("result not delivered: %v\n%s", err, r.stderr)
	}
	j := decode(t, string(data))
	mustContain(t, "result", str(j, "error"), "interrupted")
	if err := tt.certToken(appID, bundleOf(t, j)); err != nil {
		t.Errorf("the delivered key pair does not work: %v", err)
	}
	if n := len(tt.state().certKeys(t, appID)); n != 2 {
		t.Errorf("%d certificates, want the old and the new", n)
	}
}
