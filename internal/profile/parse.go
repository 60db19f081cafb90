package profile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/entra-link/entra-link/internal/catalog"
	"github.com/entra-link/entra-link/internal/inputfile"
)

// FileError is an error in a profile file, pointing at a line and field.
type FileError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxProfileSize bounds a profile file; real ones are a few KiB.
const maxProfileSize = 1 << 20

// LoadFile reads and validates a profile file.
func LoadFile(path string) (*Profile, error) {
	data, err := inputfile.Read(path, maxProfileSize)
	var ie *inputfile.Error
	switch {
	case errors.As(err, &ie) && errors.Is(err, inputfile.ErrTooLarge):
		return nil, &FileError{File: path, Msg: "file is larger than 1 MiB; a profile is a small YAML file"}
	case errors.As(err, &ie):
		return nil, &FileError{File: path, Msg: ie.Msg + "; give a profile file (YAML)"}
	case err != nil:
		return nil, fmt.Errorf("cannot read profile file: %w", err)
	}
	p, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	p.Source = path
	return p, nil
}

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	templateVarRef = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_-]+)\s*\}\}`)
)

// Builtin template variables available to handover fields and URIs.
var builtinVars = []string{
	"clientId", "tenantId", "tenantDomain", "clientSecret", "clientSecretExpiresAt", "cloud", "cloudTitle",
	"displayName", "certificateThumbprint", "certificateExpiresAt", "authorityHost", "graphEndpoint", "exchangeResource", "commandFlags",
}

// Parse parses and validates a profile document. name is used in errors.
func Parse(data []byte, name string) (*Profile, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FileError{File: name, Msg: "the file is empty; a profile needs at least id, product and permissions"}
		}
		return nil, yamlError(name, err)
	}
	// A second document in the same file is almost certainly a mistake.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, &FileError{File: name, Line: line, Msg: "a profile file holds one YAML document; found a second one (---)"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	w := &walker{file: name, root: root}
	p := w.profile(root)
	if w.err != nil {
		return nil, w.err
	}
	return p, nil
}

func yamlError(name string, err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		if i := strings.Index(msg, ":"); i >= 0 {
			msg = strings.TrimSpace(msg[i+1:])
		}
	}
	return &FileError{File: name, Line: line, Msg: "not valid YAML: " + msg}
}

// walker turns a YAML node tree into a Profile, keeping the first error.
type walker struct {
	file string
	err  error
	root *yaml.Node
}

func (w *walker) fail(n *yaml.Node, field, format string, a ...any) {
	if w.err != nil {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	w.err = &FileError{File: w.file, Line: line, Field: field, Msg: fmt.Sprintf(format, a...)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

// mapping checks that n is a mapping with only the allowed keys and returns
// the value nodes by key.
func (w *walker) mapping(n *yaml.Node, field string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if w.err != nil || n == nil {
		return out
	}
	out[selfKey] = n
	if n.Kind != yaml.MappingNode {
		w.fail(n, field, "expected a mapping of %s, got %s", strings.Join(allowed, ", "), kindName(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		path := join(field, key)
		if k.Kind != yaml.ScalarNode {
			w.fail(k, field, "keys must be plain names")
			return out
		}
		if !slices.Contains(allowed, key) {
			hint := ""
			if s := catalog.Suggest(key, allowed, 1); len(s) > 0 {
				hint = fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			w.fail(k, path, "unknown field%s; valid fields here: %s", hint, strings.Join(allowed, ", "))
			return out
		}
		if _, dup := out[key]; dup {
			w.fail(k, path, "given twice")
			return out
		}
		out[key] = v
	}
	return out
}

// selfKey holds, in the map mapping returns, the mapping node itself, so
// that a missing field can be reported at its parent's line.
const selfKey = "\x00"

// strIn reads m[key]; a missing required key is reported at m's line.
func (w *walker) strIn(m map[string]*yaml.Node, key, field string, required bool) string {
	if n, ok := m[key]; ok {
		return w.str(n, field, required)
	}
	if required {
		w.fail(m[selfKey], field, "is required")
	}
	return ""
}

func join(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (w *walker) str(n *yaml.Node, field string, required bool) string {
	if w.err != nil {
		return ""
	}
	if n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		if required {
			w.fail(n, field, "is required")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float") {
		w.fail(n, field, "expected text, got %s", kindName(n))
		return ""
	}
	v := strings.TrimSpace(n.Value)
	if required && v == "" {
		w.fail(n, field, "must not be empty")
	}
	return v
}

func (w *walker) boolean(n *yaml.Node, field string) *bool {
	if w.err != nil || n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		w.fail(n, field, "expected true or false, got %s", kindName(n))
		return nil
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		w.fail(n, field, "expected true or false, got %s", kindName(n))
		return nil
	}
	return &b
}

// strList accepts a list of strings, or a single string as a one-item list.
func (w *walker) strList(n *yaml.Node, field string) ([]string, []*yaml.Node) {
	if w.err != nil || n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{w.str(n, field, true)}, []*yaml.Node{n}
	}
	if n.Kind != yaml.SequenceNode {
		w.fail(n, field, "expected a list, got %s", kindName(n))
		return nil, nil
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		out = append(out, w.str(item, fmt.Sprintf("%s[%d]", field, i), true))
	}
	return out, n.Content
}

func (w *walker) list(n *yaml.Node, field string) []*yaml.Node {
	if w.err != nil || n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		w.fail(n, field, "expected a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

func (w *walker) oneOf(n *yaml.Node, field, v string, valid ...string) {
	if w.err != nil || v == "" {
		return
	}
	if !slices.Contains(valid, v) {
		w.fail(n, field, "invalid value %q; valid values: %s", v, strings.Join(valid, ", "))
	}
}

func (w *walker) profile(root *yaml.Node) *Profile {
	m := w.mapping(root, "", "id", "product", "description", "guide", "displayName", "audience", "credential",
		"inputs", "permissions", "directoryRoles", "web", "identifierUris", "features", "handover")
	p := &Profile{Source: "built-in"}
	if w.err != nil {
		return p
	}
	p.ID = w.strIn(m, "id", "id", true)
	if w.err == nil && !idPattern.MatchString(p.ID) {
		w.fail(m["id"], "id", "%q is not a valid profile id: use lower-case letters, digits and dashes (at most 40), e.g. my-product", p.ID)
	}
	p.Product = w.strIn(m, "product", "product", true)
	p.Description = w.strIn(m, "description", "description", true)
	p.Guide = w.strIn(m, "guide", "guide", false)
	p.DisplayName = w.strIn(m, "displayName", "displayName", true)
	if w.err == nil && len(p.DisplayName) > 120 {
		w.fail(m["displayName"], "displayName", "is longer than 120 characters")
	}
	w.audience(p, m["audience"])
	w.credential(p, m["credential"])
	w.inputs(p, m["inputs"])
	p.Permissions = w.permissions(m["permissions"], "permissions", "")
	p.DirectoryRoles = w.roles(m["directoryRoles"], "directoryRoles", "")
	w.web(p, m["web"])
	var uriNodes []*yaml.Node
	p.IdentifierURIs, uriNodes = w.strList(m["identifierUris"], "identifierUris")
	for i, u := range p.IdentifierURIs {
		w.template(uriNodes[i], fmt.Sprintf("identifierUris[%d]", i), u, p, false)
	}
	w.features(p, m["features"])
	fields := w.handover(p, m["handover"])
	if w.err == nil && len(p.Permissions) == 0 {
		w.fail(root, "permissions", "a profile must request at least one permission")
	}
	// A secret exists only in the run that creates it: a hand-over without
	// it would deliver a credential nobody can use.
	if w.err == nil && p.AllowsCredential(CredentialSecret) && !slices.ContainsFunc(p.Handover.Fields, func(f HandoverField) bool {
		return strings.Contains(f.Value, "{{clientSecret}}")
	}) {
		w.fail(fields, "handover.fields", "the profile creates client secrets (credential: %s), but no field hands the secret over: add a field with value \"{{clientSecret}}\"",
			strings.Join(p.Credential.Allowed, ", "))
	}
	return p
}

func (w *walker) audience(p *Profile, n *yaml.Node) {
	p.Audience = Audience{Default: AudienceSingleTenant, Choices: []string{AudienceSingleTenant}}
	if n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode {
		p.Audience.Default = w.str(n, "audience", true)
		w.oneOf(n, "audience", p.Audience.Default, AudienceSingleTenant, AudienceMultiTenant)
		p.Audience.Choices = []string{p.Audience.Default}
		return
	}
	m := w.mapping(n, "audience", "default", "choices")
	if d := w.strIn(m, "default", "audience.default", false); d != "" {
		p.Audience.Default = d
		w.oneOf(m["default"], "audience.default", d, AudienceSingleTenant, AudienceMultiTenant)
	}
	choices, nodes := w.strList(m["choices"], "audience.choices")
	for i, c := range choices {
		w.oneOf(nodes[i], fmt.Sprintf("audience.choices[%d]", i), c, AudienceSingleTenant, AudienceMultiTenant)
	}
	if len(choices) == 0 {
		choices = []string{p.Audience.Default}
	}
	if w.err == nil && !slices.Contains(choices, p.Audience.Default) {
		w.fail(m["default"], "audience.default", "%q is not one of audience.choices (%s)", p.Audience.Default, strings.Join(choices, ", "))
	}
	p.Audience.Choices = choices
}

// fixedNow is the reference date for comparing calendar lifetimes in
// profile files, so that validation does not depend on the day it runs.
var fixedNow = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	defaultSecretExpiry = Lifetime{N: 1, Unit: 'y'}
	maxSecretExpiry     = Lifetime{N: 2, Unit: 'y'}
)

func (w *walker) credential(p *Profile, n *yaml.Node) {
	p.Credential = CredentialPolicy{Default: CredentialSecret, SecretExpiry: defaultSecretExpiry, MaxSecretExpiry: maxSecretExpiry}
	m := w.mapping(n, "credential", "default", "allowed", "secretExpiry", "maxSecretExpiry")
	if d := w.strIn(m, "default", "credential.default", false); d != "" {
		p.Credential.Default = d
		w.oneOf(m["default"], "credential.default", d, CredentialSecret, CredentialCertificate, CredentialNone)
	}
	allowed, nodes := w.strList(m["allowed"], "credential.allowed")
	for i, a := range allowed {
		w.oneOf(nodes[i], fmt.Sprintf("credential.allowed[%d]", i), a, CredentialSecret, CredentialCertificate, CredentialNone)
	}
	if len(allowed) == 0 {
		allowed = []string{p.Credential.Default}
	}
	if w.err == nil && !slices.Contains(allowed, p.Credential.Default) {
		w.fail(m["default"], "credential.default", "%q is not one of credential.allowed (%s)", p.Credential.Default, strings.Join(allowed, ", "))
	}
	p.Credential.Allowed = allowed
	for _, k := range []string{"maxSecretExpiry", "secretExpiry"} {
		s := w.str(m[k], "credential."+k, false)
		if s == "" || w.err != nil {
			continue
		}
		l, err := ParseLifetime(s)
		if err != nil {
			w.fail(m[k], "credential."+k, "%v", err)
			continue
		}
		if l.Exceeds(maxSecretExpiry, fixedNow) {
			w.fail(m[k], "credential."+k, "%s is longer than the 2 years Entra allows for client secrets", s)
			continue
		}
		if k == "maxSecretExpiry" {
			p.Credential.MaxSecretExpiry = l
		} else {
			p.Credential.SecretExpiry = l
		}
	}
	if w.err == nil && p.Credential.SecretExpiry.Exceeds(p.Credential.MaxSecretExpiry, fixedNow) {
		w.fail(m["secretExpiry"], "credential.secretExpiry", "%s is longer than credential.maxSecretExpiry (%s)",
			p.Credential.SecretExpiry, p.Credential.MaxSecretExpiry)
	}
}

func (w *walker) inputs(p *Profile, n *yaml.Node) {
	for i, item := range w.list(n, "inputs") {
		field := fmt.Sprintf("inputs[%d]", i)
		m := w.mapping(item, field, "id", "label", "help", "example", "type", "required", "verifiedDomain")
		in := Input{
			ID:      w.strIn(m, "id", field+".id", true),
			Label:   w.strIn(m, "label", field+".label", true),
			Help:    w.strIn(m, "help", field+".help", false),
			Example: w.strIn(m, "example", field+".example", false),
			Type:    w.strIn(m, "type", field+".type", false),
		}
		if w.err == nil && !idPattern.MatchString(in.ID) {
			w.fail(m["id"], field+".id", "%q is not a valid input id: use lower-case letters, digits and dashes", in.ID)
		}
		if w.err == nil && slices.Contains(builtinVars, in.ID) {
			w.fail(m["id"], field+".id", "%q is a built-in value and cannot be an input", in.ID)
		}
		if in.Type == "" {
			in.Type = InputString
		}
		w.oneOf(m["type"], field+".type", in.Type, InputURL, InputURLList, InputString)
		if b := w.boolean(m["required"], field+".required"); b != nil {
			in.Required = *b
		}
		if b := w.boolean(m["verifiedDomain"], field+".verifiedDomain"); b != nil {
			in.VerifiedDomain = *b
			if *b && in.Type == InputString {
				w.fail(m["verifiedDomain"], field+".verifiedDomain", "applies only to url and url-list inputs")
			}
		}
		if w.err == nil && p.HasInput(in.ID) {
			w.fail(m["id"], field+".id", "input %q is declared twice", in.ID)
		}
		p.Inputs = append(p.Inputs, in)
	}
}

func (w *walker) permissions(n *yaml.Node, field, feature string) []Permission {
	var out []Permission
	seen := map[string]bool{}
	for i, item := range w.list(n, field) {
		f := fmt.Sprintf("%s[%d]", field, i)
		m := w.mapping(item, f, "resource", "application", "delegated")
		resName := w.strIn(m, "resource", f+".resource", true)
		if w.err != nil {
			return out
		}
		res, err := catalog.LookupResource(resName)
		if err != nil {
			w.fail(m["resource"], f+".resource", "%v", err)
			return out
		}
		for _, typ := range []catalog.PermissionType{catalog.Application, catalog.Delegated} {
			key := string(typ)
			names, nodes := w.strList(m[key], f+"."+key)
			for j, name := range names {
				pf := fmt.Sprintf("%s.%s[%d]", f, key, j)
				perm, err := res.Permission(name, typ)
				if err != nil {
					w.fail(nodes[j], pf, "%v", err)
					return out
				}
				id := perm.ResourceAppID + "/" + perm.ID
				if seen[id] {
					w.fail(nodes[j], pf, "%s %s is listed twice", perm.Name, typ)
					return out
				}
				seen[id] = true
				out = append(out, Permission{Permission: perm, Feature: feature})
			}
		}
		if w.err == nil && m["application"] == nil && m["delegated"] == nil {
			w.fail(item, f, "lists no permissions: add application: [...] or delegated: [...]")
		}
	}
	return out
}

func (w *walker) roles(n *yaml.Node, field, feature string) []Role {
	names, nodes := w.strList(n, field)
	var out []Role
	for i, name := range names {
		r, err := catalog.LookupRole(name)
		if err != nil {
			w.fail(nodes[i], fmt.Sprintf("%s[%d]", field, i), "%v", err)
			return out
		}
		for _, have := range out {
			if have.TemplateID == r.TemplateID {
				w.fail(nodes[i], fmt.Sprintf("%s[%d]", field, i), "%s is listed twice", r.Name)
				return out
			}
		}
		out = append(out, Role{DirectoryRole: r, Feature: feature})
	}
	return out
}

func (w *walker) web(p *Profile, n *yaml.Node) {
	m := w.mapping(n, "web", "redirectUris", "idTokenIssuance")
	var nodes []*yaml.Node
	p.Web.RedirectURIs, nodes = w.strList(m["redirectUris"], "web.redirectUris")
	for i, u := range p.Web.RedirectURIs {
		w.template(nodes[i], fmt.Sprintf("web.redirectUris[%d]", i), u, p, false)
	}
	p.Web.IDTokenIssuance = w.boolean(m["idTokenIssuance"], "web.idTokenIssuance")
}

func (w *walker) features(p *Profile, n *yaml.Node) {
	for i, item := range w.list(n, "features") {
		f := fmt.Sprintf("features[%d]", i)
		m := w.mapping(item, f, "id", "title", "description", "permissions", "directoryRoles")
		feat := Feature{
			ID:          w.strIn(m, "id", f+".id", true),
			Title:       w.strIn(m, "title", f+".title", true),
			Description: w.strIn(m, "description", f+".description", true),
		}
		if w.err == nil && !idPattern.MatchString(feat.ID) {
			w.fail(m["id"], f+".id", "%q is not a valid feature id: use lower-case letters, digits and dashes", feat.ID)
		}
		if _, dup := p.Feature(feat.ID); w.err == nil && dup {
			w.fail(m["id"], f+".id", "feature %q is declared twice", feat.ID)
		}
		perms := w.permissions(m["permissions"], f+".permissions", feat.ID)
		for _, np := range perms {
			for _, have := range p.Permissions {
				if w.err == nil && have.ResourceAppID == np.ResourceAppID && have.ID == np.ID {
					w.fail(m["permissions"], f+".permissions", "%s %s is already requested by the profile", np.Name, np.Type)
				}
			}
		}
		p.Permissions = append(p.Permissions, perms...)
		roles := w.roles(m["directoryRoles"], f+".directoryRoles", feat.ID)
		p.DirectoryRoles = append(p.DirectoryRoles, roles...)
		if w.err == nil && len(perms) == 0 && len(roles) == 0 {
			w.fail(item, f, "adds no permissions and no directory roles")
		}
		p.Features = append(p.Features, feat)
	}
}

// handover reads the hand-over and returns the node of its fields (for
// messages about them).
func (w *walker) handover(p *Profile, n *yaml.Node) *yaml.Node {
	m := w.mapping(n, "handover", "format", "fields", "nextSteps")
	p.Handover.Format = w.strIn(m, "format", "handover.format", false)
	if p.Handover.Format == "" {
		p.Handover.Format = "text"
	}
	w.oneOf(m["format"], "handover.format", p.Handover.Format, "text", "json")
	for i, item := range w.list(m["fields"], "handover.fields") {
		f := fmt.Sprintf("handover.fields[%d]", i)
		fm := w.mapping(item, f, "label", "value")
		hf := HandoverField{Label: w.strIn(fm, "label", f+".label", true), Value: w.strIn(fm, "value", f+".value", true)}
		w.template(fm["value"], f+".value", hf.Value, p, true)
		for _, have := range p.Handover.Fields {
			if w.err == nil && have.Label == hf.Label {
				w.fail(fm["label"], f+".label", "label %q is used twice", hf.Label)
			}
		}
		p.Handover.Fields = append(p.Handover.Fields, hf)
	}
	if w.err == nil && len(p.Handover.Fields) == 0 {
		w.fail(w.root, "handover.fields", "a profile must say which values the product needs (at least one field)")
	}
	p.Handover.NextSteps, _ = w.strList(m["nextSteps"], "handover.nextSteps")
	if f := m["fields"]; f != nil {
		return f
	}
	if n != nil {
		return n
	}
	return w.root
}

// template checks that every {{var}} in s names an input or a built-in value.
func (w *walker) template(n *yaml.Node, field, s string, p *Profile, allowBuiltins bool) {
	if w.err != nil {
		return
	}
	for _, m := range templateVarRef.FindAllStringSubmatch(s, -1) {
		v := m[1]
		if p.HasInput(v) {
			continue
		}
		if allowBuiltins && slices.Contains(builtinVars, v) {
			continue
		}
		valid := make([]string, 0, len(p.Inputs)+len(builtinVars))
		for _, in := range p.Inputs {
			valid = append(valid, in.ID)
		}
		if allowBuiltins {
			valid = append(valid, builtinVars...)
		}
		hint := "no inputs are declared"
		if len(valid) > 0 {
			hint = "valid names: " + strings.Join(valid, ", ")
		}
		w.fail(n, field, "unknown value {{%s}}; %s", v, hint)
		return
	}
	if strings.Count(s, "{{") != len(templateVarRef.FindAllString(s, -1)) {
		w.fail(n, field, "malformed template %q: write values as {{name}}", s)
	}
}
