package sandboxtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
)

// Browser stands in for a person at a web browser on the sandbox's sign-in
// pages: it opens the authorize URL, types the user name, accepts (or
// declines) the consent prompt, and lets the final page's form carry the
// answer to the application's redirect URI, the way a browser runs
// Entra's form_post page. It reads the pages it is shown — forms, their
// fields and buttons — and knows nothing else about the sandbox.
type Browser struct {
	// HTTP fetches pages; it must trust the sandbox CA.
	HTTP *http.Client
	// Login is the user name typed on the sign-in page.
	Login string
	// Decline presses Cancel on the consent prompt instead of Accept.
	Decline bool
	// Pages records the title of every page shown, in order.
	Pages []string
}

// LoopbackClient is an HTTP client for a browser on this machine: it
// trusts the CA in caPEM (nil: the system pool) and connects only to
// loopback addresses, so a test browser cannot reach the network.
func LoopbackClient(caPEM []byte) *http.Client {
	var pool *x509.CertPool
	if caPEM != nil {
		pool = x509.NewCertPool()
		pool.AppendCertsFromPEM(caPEM)
	}
	var d net.Dialer
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if !ip.IP.IsLoopback() {
					return nil, fmt.Errorf("browser: refusing to connect to %s (%s): not loopback", addr, ip.IP)
				}
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		// Like a browser, follow redirects (to the application's redirect URI too).
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("browser: too many redirects")
			}
			return nil
		}}
}

// Outcome is where the sign-in ended.
type Outcome struct {
	// URL is the last address the browser was at (the redirect URI when
	// the sign-in went back to the application).
	URL *url.URL
	// Status and Body are that page's answer.
	Status int
	Body   string
}

// Open signs in, starting at the authorize URL, and returns where it ended.
func (b *Browser) Open(ctx context.Context, authorizeURL string) (Outcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return Outcome{}, err
	}
	for step := 0; step < 10; step++ {
		resp, err := b.HTTP.Do(req)
		if err != nil {
			return Outcome{}, fmt.Errorf("browser: %s %s: %w", req.Method, req.URL.Redacted(), err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		if err != nil {
			return Outcome{}, err
		}
		out := Outcome{URL: resp.Request.URL, Status: resp.StatusCode, Body: string(raw)}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			return out, nil
		}
		doc, err := html.Parse(strings.NewReader(out.Body))
		if err != nil {
			return out, fmt.Errorf("browser: page at %s is not HTML: %w", out.URL.Redacted(), err)
		}
		b.Pages = append(b.Pages, text(find(doc, func(n *html.Node) bool { return n.Data == "title" })))
		next, err := b.act(ctx, doc, out.URL)
		if err != nil || next == nil {
			return out, err
		}
		req = next
	}
	return Outcome{}, errors.New("browser: the sign-in did not end after 10 pages")
}

// act decides what a person does on a page and returns the next request
// (nil when there is nothing to do: the page is the end).
func (b *Browser) act(ctx context.Context, doc *html.Node, at *url.URL) (*http.Request, error) {
	forms := findAll(doc, func(n *html.Node) bool { return n.Data == "form" })
	body := find(doc, func(n *html.Node) bool { return n.Data == "body" })
	// A page that submits itself on load (Entra's form_post page).
	if body != nil && strings.Contains(attr(body, "onload"), "submit()") && len(forms) > 0 {
		return submit(ctx, forms[0], at, nil)
	}
	for _, f := range forms {
		if login := find(f, func(n *html.Node) bool { return n.Data == "input" && attr(n, "name") == "login" }); login != nil {
			if msg := find(doc, func(n *html.Node) bool { return attr(n, "id") == "error" }); msg != nil && attr(login, "value") == b.Login {
				return nil, fmt.Errorf("browser: the sign-in page says: %s", text(msg))
			}
			return submit(ctx, f, at, map[string]string{"login": b.Login})
		}
		want := "accept"
		if b.Decline {
			want = "cancel"
		}
		for _, id := range []string{want, "return"} {
			if btn := find(f, func(n *html.Node) bool { return n.Data == "button" && attr(n, "id") == id }); btn != nil {
				return submit(ctx, f, at, map[string]string{attr(btn, "name"): attr(btn, "value")})
			}
		}
	}
	if msg := find(doc, func(n *html.Node) bool { return attr(n, "id") == "error" }); msg != nil {
		return nil, fmt.Errorf("browser: the page says: %s", text(msg))
	}
	return nil, nil
}

// submit builds the request a browser sends for a form: its inputs, the
// values typed, and the pressed button.
func submit(ctx context.Context, form *html.Node, at *url.URL, typed map[string]string) (*http.Request, error) {
	action, err := at.Parse(attr(form, "action"))
	if err != nil {
		return nil, fmt.Errorf("browser: form action: %w", err)
	}
	vals := url.Values{}
	for _, in := range findAll(form, func(n *html.Node) bool { return n.Data == "input" }) {
		name := attr(in, "name")
		if name == "" || attr(in, "type") == "submit" {
			continue
		}
		v := attr(in, "value")
		if t, ok := typed[name]; ok {
			v = t
		}
		vals.Set(name, v)
	}
	for k, v := range typed {
		if k != "" && !vals.Has(k) {
			vals.Set(k, v)
		}
	}
	if strings.EqualFold(attr(form, "method"), "get") {
		action.RawQuery = vals.Encode()
		return http.NewRequestWithContext(ctx, http.MethodGet, action.String(), nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	all := findAll(n, match)
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}
