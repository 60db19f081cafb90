package profile

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// TagInputsPrefix starts the tag that records a fingerprint of the inputs
// setup applied to the app's URIs (its server URL, its redirect URIs):
// verify tells from it a URI added or replaced after setup from one setup
// put there, which the app's URIs alone cannot say.
const TagInputsPrefix = "entra-link:inputs:"

// URIInputs are the ids of p's inputs that the app's identifier or
// redirect URIs are made of: a URI template that is exactly "{{id}}".
// Their values can be read back from the app.
func URIInputs(p *Profile) []string {
	var out []string
	for _, in := range p.Inputs {
		ref := "{{" + in.ID + "}}"
		if slices.Contains(p.IdentifierURIs, ref) || slices.Contains(p.Web.RedirectURIs, ref) {
			out = append(out, in.ID)
		}
	}
	slices.Sort(out)
	return out
}

// InputsTag is the tag recording values of p's URI inputs; "" when p has
// none or none has a value. A list's order does not count (the app's
// lists are sets), nor do case and a trailing slash (Entra's URI lists
// match that way, and so do setup's plan and verify).
func InputsTag(p *Profile, values map[string][]string) string {
	h := sha256.New()
	some := false
	for _, id := range URIInputs(p) {
		vs := make([]string, 0, len(values[id]))
		for _, v := range values[id] {
			vs = append(vs, strings.ToLower(strings.TrimSuffix(v, "/")))
		}
		slices.Sort(vs)
		vs = slices.Compact(vs)
		some = some || len(vs) > 0
		h.Write([]byte(id + "=" + strings.Join(vs, "\x00") + "\n"))
	}
	if !some {
		return ""
	}
	return TagInputsPrefix + hex.EncodeToString(h.Sum(nil))[:12]
}

// InputsTagOf returns the inputs tag among an app's tags ("" if none).
func InputsTagOf(tags []string) string {
	for _, t := range tags {
		if strings.HasPrefix(t, TagInputsPrefix) {
			return t
		}
	}
	return ""
}

// IsInputsTag reports whether tag is an inputs tag.
func IsInputsTag(tag string) bool { return strings.HasPrefix(tag, TagInputsPrefix) }

// URIInputFlags names the flags of p's URI inputs, for words about the
// inputs tag: "--server-url", "--redirect-uri", "--input portal-url".
func URIInputFlags(p *Profile) string {
	var flags []string
	for _, id := range URIInputs(p) {
		if in, ok := p.Input(id); ok {
			flags = append(flags, strings.TrimSuffix(in.Flag(), "=…"))
		}
	}
	return strings.Join(flags, ", ")
}
