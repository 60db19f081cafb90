package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity/cache"

	"github.com/entra-link/entra-link/internal/securefile"
)

// Sign in once (design.md §1, auth status / auth logout). A browser or
// device-code sign-in is kept for later commands, per (cloud, tenant,
// login client) — a command for another tenant or cloud never reuses it:
//
//   - the tokens (access and refresh) in azidentity's persistent cache,
//     which encrypts them with a key held by the operating system: the
//     kernel keyring on Linux, the Keychain on macOS, DPAPI on Windows. Each
//     sign-in has a cache of its own, so logging out of one removes its
//     tokens and nothing else;
//   - where that store is not available (a container whose seccomp profile
//     refuses keyctl, a macOS build without cgo), the access token alone in
//     this package's 0600 file: the sign-in then lasts as long as the token
//     (about an hour), since azidentity offers no other place for the
//     refresh token;
//   - next to either, the account's AuthenticationRecord (who, which
//     tenant, which authority: no secret), which later commands give
//     azidentity with DisableAutomaticAuthentication, so that they use the
//     saved sign-in silently and interact only when it no longer works.

// Where saved tokens are kept.
const (
	// StorageProtected: azidentity's persistent cache, encrypted with a key
	// the operating system protects.
	StorageProtected = "protected"
	// StorageFile: the access token in a 0600 file of entra-link's.
	StorageFile = "file"
)

// SignInKey is what a saved sign-in is for. A command uses a saved sign-in
// only when all of it matches.
type SignInKey struct {
	// Cloud is the cloud's name (usgov and usgov-dod share a sign-in host
	// but are different clouds).
	Cloud string
	// AuthorityHost is the cloud's sign-in host, e.g. https://login.microsoftonline.com.
	AuthorityHost string
	// Tenant is --tenant as given (GUID or domain), or "organizations".
	Tenant string
	// LoginClientID is the public client signed in through.
	LoginClientID string
}

func (k SignInKey) id() string {
	h := sha256.Sum256([]byte(strings.ToLower(k.Cloud + "\x00" + strings.TrimRight(k.AuthorityHost, "/") + "\x00" + k.Tenant + "\x00" + k.LoginClientID)))
	return hex.EncodeToString(h[:8])
}

// SavedSignIn is one kept sign-in, as `auth status` shows it. It holds a
// token only with StorageFile (Tokens), and never prints it.
type SavedSignIn struct {
	Cloud         string `json:"cloud"`
	AuthorityHost string `json:"authorityHost"`
	Tenant        string `json:"tenant"`
	LoginClientID string `json:"loginClientId"`
	Method        string `json:"method"`
	// Record is azidentity's AuthenticationRecord: the account, its
	// tenant and the authority; no secret.
	Record     azidentity.AuthenticationRecord `json:"record"`
	SignedInAt time.Time                       `json:"signedInAt"`
	// AccessTokenExpiresOn is the expiry of the last access token issued.
	AccessTokenExpiresOn time.Time `json:"accessTokenExpiresOn"`
	Storage              string    `json:"storage"`
	// StorageNote says why the protected store could not be used.
	StorageNote string `json:"storageNote,omitempty"`
	// CacheName names azidentity's persistent cache (StorageProtected).
	CacheName string `json:"cacheName,omitempty"`
	// Tokens are the access tokens (StorageFile only).
	Tokens []savedToken `json:"tokens,omitempty"`

	path string
}

type savedToken struct {
	Key       string    `json:"key"`
	Token     string    `json:"token"`
	ExpiresOn time.Time `json:"expiresOn"`
}

// Path is the file the sign-in is described in.
func (s *SavedSignIn) Path() string { return s.path }

// User is who signed in ("" before the first sign-in completed).
func (s *SavedSignIn) User() string { return s.Record.Username }

// Renewable reports whether later commands can renew the access token
// without a sign-in (a refresh token is kept).
func (s *SavedSignIn) Renewable() bool { return s.Storage == StorageProtected }

// StorageWords says where the tokens are kept, in words.
func (s *SavedSignIn) StorageWords() string {
	if s.Storage == StorageFile {
		return s.path + " (mode 0600)"
	}
	return protectedStoreName()
}

// CacheFile is the (encrypted) file of azidentity's persistent cache, ""
// for StorageFile.
func (s *SavedSignIn) CacheFile() string {
	if s.CacheName == "" {
		return ""
	}
	return cacheFile(s.CacheName)
}

func protectedStoreName() string {
	switch runtime.GOOS {
	case "darwin":
		return "the macOS Keychain"
	case "windows":
		return "Windows DPAPI"
	}
	return "the kernel keyring"
}

// SignInStore keeps sign-ins in Dir (0700; one 0600 file per sign-in).
type SignInStore struct {
	Dir string
	// NewCache makes azidentity's persistent cache (default cache.New);
	// tests make it fail to exercise the file store.
	NewCache func(name string) (azidentity.Cache, error)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (s *SignInStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// newCache returns the persistent cache for name, or why there is none.
func (s *SignInStore) newCache(name string) (azidentity.Cache, error) {
	if s.NewCache != nil {
		return s.NewCache(name)
	}
	return cache.New(&cache.Options{Name: name})
}

// open returns the saved sign-in for k (a new, empty one if there is none)
// and, for StorageProtected, its persistent cache.
func (s *SignInStore) open(k SignInKey, method string) (*SavedSignIn, azidentity.Cache) {
	path := filepath.Join(s.Dir, k.id()+".json")
	saved := &SavedSignIn{}
	if b, err := os.ReadFile(path); err != nil || json.Unmarshal(b, saved) != nil || saved.Cloud != k.Cloud ||
		!strings.EqualFold(saved.AuthorityHost, k.AuthorityHost) || saved.Tenant != k.Tenant || !strings.EqualFold(saved.LoginClientID, k.LoginClientID) {
		saved = &SavedSignIn{}
	}
	saved.path = path
	saved.Cloud, saved.AuthorityHost, saved.Tenant, saved.LoginClientID = k.Cloud, k.AuthorityHost, k.Tenant, k.LoginClientID
	if saved.Method == "" {
		saved.Method = method
	}
	// The record is only trusted for the client and tenant it was made for.
	if !strings.EqualFold(saved.Record.ClientID, k.LoginClientID) || isGUIDLike(k.Tenant) && !strings.EqualFold(saved.Record.TenantID, k.Tenant) {
		saved.Record = azidentity.AuthenticationRecord{}
	}
	// One cache per sign-in (and per state directory, so that separate
	// homes never share one).
	h := sha256.Sum256([]byte(s.Dir + "\x00" + k.id()))
	name := "entra-link-" + hex.EncodeToString(h[:8])
	c, err := s.newCache(name)
	if err != nil {
		saved.Storage, saved.CacheName = StorageFile, ""
		saved.StorageNote = protectedStoreName() + " is not available: " + firstLine(err.Error())
		return saved, azidentity.Cache{}
	}
	if saved.Storage != StorageProtected {
		saved.Tokens = nil // never keep a token in a file once the protected store works
	}
	saved.Storage, saved.StorageNote, saved.CacheName = StorageProtected, "", name
	return saved, c
}

func isGUIDLike(s string) bool {
	return len(s) == 36 && strings.Count(s, "-") == 4
}

// save writes saved to its file (0600, atomically).
func (s *SignInStore) save(saved *SavedSignIn) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("keeping the sign-in: %w", err)
	}
	b, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	if err := securefile.WriteFile(saved.path, b, true); err != nil {
		return fmt.Errorf("keeping the sign-in: %w", err)
	}
	return nil
}

// List returns the saved sign-ins, by cloud, tenant and user.
func (s *SignInStore) List() ([]*SavedSignIn, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the saved sign-ins in %s: %w", s.Dir, err)
	}
	var out []*SavedSignIn
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(s.Dir, e.Name())
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		saved := &SavedSignIn{}
		if json.Unmarshal(b, saved) != nil || saved.Record.Username == "" {
			continue // not (yet) a completed sign-in
		}
		saved.path = p
		out = append(out, saved)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Cloud != b.Cloud {
			return a.Cloud < b.Cloud
		}
		if a.Tenant != b.Tenant {
			return a.Tenant < b.Tenant
		}
		return a.Record.Username < b.Record.Username
	})
	return out, nil
}

// Forget removes the saved sign-ins match accepts (nil: all of them):
// their files, their persistent caches and the keys that encrypt those.
// It returns what it removed.
func (s *SignInStore) Forget(match func(*SavedSignIn) bool) ([]*SavedSignIn, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var gone []*SavedSignIn
	var errs []error
	for _, saved := range all {
		if match != nil && !match(saved) {
			continue
		}
		if saved.CacheName != "" {
			errs = append(errs, forgetCache(saved.CacheName))
		}
		if err := os.Remove(saved.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		gone = append(gone, saved)
	}
	return gone, errors.Join(errs...)
}

// cacheFile is where azidentity's persistent cache keeps name's data
// (encrypted): $XDG_CACHE_HOME or ~/.cache, then .IdentityService.
func cacheFile(name string) string {
	d := os.Getenv("XDG_CACHE_HOME")
	if d == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(".IdentityService", name)
		}
		d = filepath.Join(home, ".cache")
	}
	return filepath.Join(d, ".IdentityService", name)
}

// forgetCache removes a persistent cache: its files (the CAE cache and
// the lock files too) and, where there is one, the key that encrypts it.
func forgetCache(name string) error {
	var errs []error
	for _, n := range []string{name, name + ".lockfile", name + ".cae", name + ".cae.lockfile"} {
		if err := os.Remove(cacheFile(n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	forgetKey(name)
	forgetKey(name + ".cae")
	return errors.Join(errs...)
}

// persistentCred keeps a browser or device-code sign-in between commands:
// the inner credential uses the saved record silently
// (DisableAutomaticAuthentication) and signs in interactively only when
// that fails; each completed sign-in is saved.
type persistentCred struct {
	inner interface {
		azcore.TokenCredential
		Authenticate(context.Context, *policy.TokenRequestOptions) (azidentity.AuthenticationRecord, error)
	}
	store  *SignInStore
	notify func(string)

	mu       sync.Mutex
	saved    *SavedSignIn
	told     bool // the reuse of a saved sign-in was mentioned
	saveFail bool // a failure to save was mentioned
}

// GetToken implements azcore.TokenCredential.
func (p *persistentCred) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := cacheKey(o)
	if p.saved.Storage == StorageFile && o.Claims == "" {
		for _, t := range p.saved.Tokens {
			if t.Key == key && t.Token != "" && p.store.now().Add(expiryMargin).Before(t.ExpiresOn) {
				p.mention()
				return azcore.AccessToken{Token: t.Token, ExpiresOn: t.ExpiresOn}, nil
			}
		}
	}
	tok, err := p.inner.GetToken(ctx, o)
	var need *azidentity.AuthenticationRequiredError
	switch {
	case errors.As(err, &need):
		// No saved sign-in, or it no longer works: sign in.
		rec, err := p.inner.Authenticate(ctx, &o)
		if err != nil {
			return azcore.AccessToken{}, err
		}
		if tok, err = p.inner.GetToken(ctx, o); err != nil {
			return azcore.AccessToken{}, err
		}
		p.saved.Record, p.saved.SignedInAt, p.told = rec, p.store.now().UTC(), true
		p.keep(key, tok)
		msg := fmt.Sprintf("Signed in as %s. Later commands for this tenant and cloud reuse the sign-in, kept in %s (entra-link auth logout forgets it).",
			rec.Username, p.saved.StorageWords())
		if p.saved.Storage == StorageFile {
			msg += fmt.Sprintf(" Only the access token is kept, until %s, because %s.", tok.ExpiresOn.Local().Format("15:04"), p.saved.StorageNote)
		}
		p.say(msg)
		return tok, nil
	case err != nil:
		return azcore.AccessToken{}, err
	}
	p.mention()
	p.keep(key, tok)
	return tok, nil
}

// mention says once that a saved sign-in is in use, and whose.
func (p *persistentCred) mention() {
	if p.told {
		return
	}
	p.told = true
	p.say(fmt.Sprintf("Using the saved sign-in of %s (entra-link auth status shows it; auth logout forgets it).", p.saved.Record.Username))
}

// keep records the token's expiry (and, in the file store, the token).
func (p *persistentCred) keep(key string, tok azcore.AccessToken) {
	p.saved.AccessTokenExpiresOn = tok.ExpiresOn.UTC()
	if p.saved.Storage == StorageFile {
		var kept []savedToken
		for _, t := range p.saved.Tokens {
			if t.Key != key && p.store.now().Before(t.ExpiresOn) {
				kept = append(kept, t)
			}
		}
		p.saved.Tokens = append(kept, savedToken{Key: key, Token: tok.Token, ExpiresOn: tok.ExpiresOn.UTC()})
	}
	if err := p.store.save(p.saved); err != nil && !p.saveFail {
		p.saveFail = true
		p.say("Note: the sign-in could not be kept for later commands: " + err.Error())
	}
}

func (p *persistentCred) say(msg string) {
	if p.notify != nil {
		p.notify(msg)
	}
}
