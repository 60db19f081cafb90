package auth

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// expiryMargin renews a cached token this long before it expires, so a
// token never runs out in the middle of a request.
const expiryMargin = 5 * time.Minute

// cachingCredential keeps one token per scope set for the life of the
// process and lets only one caller sign in at a time per scope set: setup
// sends independent requests in parallel, and without this each would start
// its own sign-in (a second browser tab, a second device code, another
// `az` process). azidentity's MSAL-based credentials cache in memory too,
// but the Azure CLI credential spawns `az` on every call.
type cachingCredential struct {
	inner     azcore.TokenCredential
	hints     hintContext
	net       *netRecorder            // the sign-in's transport (nil: azcore's default)
	mapScopes func([]string) []string // nil = as requested
	now       func() time.Time        // tests

	mu      sync.Mutex
	entries map[string]*cacheEntry
}

type cacheEntry struct {
	lock chan struct{} // 1-slot semaphore: held while fetching
	tok  azcore.AccessToken
}

// GetToken implements azcore.TokenCredential.
func (c *cachingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if c.mapScopes != nil {
		o.Scopes = c.mapScopes(o.Scopes)
	}
	e := c.entry(cacheKey(o))
	select {
	case e.lock <- struct{}{}:
	case <-ctx.Done():
		return azcore.AccessToken{}, c.hints.explain(ctx.Err())
	}
	defer func() { <-e.lock }()
	// A claims challenge demands a new token: never one from the cache.
	// The new token then replaces the cached one, so that the requests
	// after it carry what it says (a role activated since the sign-in).
	if o.Claims == "" && c.fresh(e.tok) {
		return e.tok, nil
	}
	tok, err := c.fetch(ctx, o)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	e.tok = tok
	return tok, nil
}

// fetch asks the inner credential and explains a failure. azidentity
// reports a cancelled sign-in or a request that got no response only as
// text, so the context and the transport are asked what really happened.
func (c *cachingCredential) fetch(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	mark := c.net.mark()
	tok, err := c.inner.GetToken(ctx, o)
	if err == nil {
		return tok, nil
	}
	if ctx.Err() != nil {
		return azcore.AccessToken{}, c.hints.explain(errors.Join(ctx.Err(), err))
	}
	if f := c.net.failureSince(mark); f != nil {
		return azcore.AccessToken{}, &SignInError{Method: c.hints.method, Hint: c.hints.networkHint(f), Err: errors.Join(f.err, err)}
	}
	return azcore.AccessToken{}, c.hints.explain(err)
}

func (c *cachingCredential) entry(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		e = &cacheEntry{lock: make(chan struct{}, 1)}
		c.entries[key] = e
	}
	return e
}

func (c *cachingCredential) fresh(t azcore.AccessToken) bool {
	if t.Token == "" {
		return false
	}
	now := time.Now()
	if c.now != nil {
		now = c.now()
	}
	if !t.RefreshOn.IsZero() && !now.Before(t.RefreshOn) {
		return false
	}
	return now.Add(expiryMargin).Before(t.ExpiresOn)
}

func cacheKey(o policy.TokenRequestOptions) string {
	s := append([]string(nil), o.Scopes...)
	for i := range s {
		s[i] = strings.ToLower(s[i])
	}
	sort.Strings(s)
	cae := "0"
	if o.EnableCAE {
		cae = "1"
	}
	return o.TenantID + "\x00" + cae + "\x00" + strings.Join(s, " ")
}
