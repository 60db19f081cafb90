package auth

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entra-link/entra-link/internal/cloud"
	"github.com/entra-link/entra-link/internal/sandbox"
	"github.com/entra-link/entra-link/internal/sandbox/sandboxtest"
)

// signInRun is one command's device-code sign-in against the sandbox,
// with the store shared between runs (as between processes).
type signInRun struct {
	t     *testing.T
	s     *sandbox.Server
	store *SignInStore

	mu      sync.Mutex
	prompts int
	notes   []string
}

func (r *signInRun) token(tenant string, c cloud.Cloud) (string, error) {
	r.t.Helper()
	cred, err := NewCredential(Options{
		Method: MethodDeviceCode, Tenant: tenant, Cloud: c, HTTPClient: sandboxtest.Client(r.s), Getenv: env(nil), SignIns: r.store,
		DeviceCodePrompt: func(context.Context, string) error { r.mu.Lock(); r.prompts++; r.mu.Unlock(); return nil },
		Notify:           func(m string) { r.mu.Lock(); r.notes = append(r.notes, m); r.mu.Unlock() },
	})
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.GraphScope()}})
	return tok.Token, err
}

func (r *signInRun) counts() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.prompts, strings.Join(r.notes, "\n")
}

// tokenRequests counts the sign-in requests the sandbox served since mark.
func tokenRequests(s *sandbox.Server, mark int) (all, interactive int) {
	for _, rec := range s.Requests()[mark:] {
		if rec.Kind == "token" {
			all++
			if strings.HasSuffix(rec.Path, "/devicecode") {
				interactive++
			}
		}
	}
	return all, interactive
}

// TestSignInOnce: a device-code sign-in is kept; the next command (a new
// credential, as a new process makes) signs in without a prompt; another
// tenant or another cloud never reuses it; auth logout forgets it. In
// whatever store this machine offers: the protected one where keyctl
// works, else the file.
func TestSignInOnce(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // azidentity's cache files
	s := sandboxtest.New(t, sandboxtest.Tenants("Fabrikam"))
	info := s.Tenant()
	other := info.Tenants[0].TenantID
	r := &signInRun{t: t, s: s, store: &SignInStore{Dir: t.TempDir()}}

	first, err := r.token(info.TenantID, cloud.Global)
	if err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	prompts, notes := r.counts()
	if prompts != 1 || !strings.Contains(notes, "Signed in as admin@") || !strings.Contains(notes, "(entra-link auth logout forgets it)") {
		t.Fatalf("first sign-in: %d prompts, notes:\n%s", prompts, notes)
	}
	saved, err := r.store.List()
	if err != nil || len(saved) != 1 {
		t.Fatalf("saved %v, %v", saved, err)
	}
	sv := saved[0]
	fi, err := os.Stat(sv.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v", sv.Path(), err, fi)
	}
	b, _ := os.ReadFile(sv.Path())
	t.Logf("kept in %s %s", sv.StorageWords(), sv.CacheFile())
	if sv.Storage == StorageProtected && strings.Contains(string(b), first) {
		t.Error("the record file holds the access token although the protected store is used")
	}
	if sv.Tenant != strings.ToLower(info.TenantID) || sv.Cloud != "global" || sv.Record.TenantID != info.TenantID || !strings.HasPrefix(sv.User(), "admin@") {
		t.Errorf("saved %+v", sv)
	}

	// The next command: no prompt, no device code.
	mark := len(s.Requests())
	if _, err := r.token(info.TenantID, cloud.Global); err != nil {
		t.Fatalf("second command: %v", err)
	}
	prompts, notes = r.counts()
	if _, dc := tokenRequests(s, mark); prompts != 1 || dc != 0 {
		t.Errorf("the second command signed in again: %d prompts, %d device codes", prompts, dc)
	}
	if !strings.Contains(notes, "Using the saved sign-in of admin@") {
		t.Errorf("the reuse is not said:\n%s", notes)
	}

	// Another cloud (also one sharing the sign-in host), another tenant:
	// new sign-ins, each kept on its own.
	if _, err := r.token(info.TenantID, cloud.USGov); err != nil {
		t.Fatal(err)
	}
	if _, err := r.token(info.TenantID, cloud.USGovDoD); err != nil {
		t.Fatal(err)
	}
	if _, err := r.token(other, cloud.Global); err != nil {
		t.Fatal(err)
	}
	if prompts, _ = r.counts(); prompts != 4 {
		t.Errorf("%d prompts, want a sign-in each for two other clouds and another tenant", prompts)
	}
	if saved, _ = r.store.List(); len(saved) != 4 {
		t.Fatalf("%d saved sign-ins", len(saved))
	}

	// auth logout of one: that one signs in again, the others do not.
	gone, err := r.store.Forget(func(s *SavedSignIn) bool { return s.Cloud == "global" && s.Tenant == strings.ToLower(info.TenantID) })
	if err != nil || len(gone) != 1 {
		t.Fatalf("forget: %v %v", gone, err)
	}
	if _, err := os.Stat(sv.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the record is still there: %v", err)
	}
	if sv.CacheName != "" {
		if _, err := os.Stat(cacheFile(sv.CacheName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the token cache is still there: %v", err)
		}
	}
	if _, err := r.token(other, cloud.Global); err != nil {
		t.Fatal(err)
	}
	if prompts, _ = r.counts(); prompts != 4 {
		t.Errorf("logging out of one tenant signed another out")
	}
	if _, err := r.token(info.TenantID, cloud.Global); err != nil {
		t.Fatal(err)
	}
	if prompts, _ = r.counts(); prompts != 5 {
		t.Errorf("after logout: %d prompts, want a new sign-in", prompts)
	}
	if gone, err = r.store.Forget(nil); err != nil || len(gone) != 4 {
		t.Errorf("forget all: %d, %v", len(gone), err)
	}
}

// TestSignInKeptInFileWithoutProtectedStore: where the protected store is
// not available the access token is kept in the 0600 file, the user is
// told so and why, and the next command uses it without any sign-in
// request until it expires.
func TestSignInKeptInFileWithoutProtectedStore(t *testing.T) {
	s := sandboxtest.New(t)
	info := s.Tenant()
	store := &SignInStore{Dir: t.TempDir(), NewCache: func(string) (azidentity.Cache, error) {
		return azidentity.Cache{}, errors.New(`persistent storage isn't available due to error "operation not permitted"`)
	}}
	r := &signInRun{t: t, s: s, store: store}
	tok, err := r.token(info.TenantID, cloud.Global)
	if err != nil {
		t.Fatal(err)
	}
	_, notes := r.counts()
	mustHave := []string{"(mode 0600)", "Only the access token is kept, until ", "because the kernel keyring is not available: persistent storage isn't available"}
	if r := protectedStoreName(); r != "the kernel keyring" {
		mustHave[2] = "because " + r + " is not available"
	}
	for _, w := range mustHave {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
	saved, _ := store.List()
	if len(saved) != 1 || saved[0].Storage != StorageFile || saved[0].Renewable() {
		t.Fatalf("saved %+v", saved)
	}
	fi, err := os.Stat(saved[0].Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi, err)
	}

	mark := len(s.Requests())
	again, err := r.token(info.TenantID, cloud.Global)
	if err != nil || again != tok {
		t.Fatalf("second command: %v (same token %v)", err, again == tok)
	}
	if all, _ := tokenRequests(s, mark); all != 0 {
		t.Errorf("the second command made %d sign-in requests", all)
	}

	// Expired: a new sign-in, kept again.
	store.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if _, err := r.token(info.TenantID, cloud.Global); err != nil {
		t.Fatal(err)
	}
	if prompts, _ := r.counts(); prompts != 2 {
		t.Errorf("%d prompts after the saved token expired, want 2", prompts)
	}
}
