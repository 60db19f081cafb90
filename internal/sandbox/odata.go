package sandbox

import (
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// filterSpec lists the properties a collection supports in $filter and their
// kinds: "string", "guid", "bool", "datetime" (eq, ne, gt, ge, lt, le with an
// unquoted DateTimeOffset) or "collection" (a string collection, filtered
// with any()).
type filterSpec struct {
	resource string // resource name used in error messages, e.g. "application"
	props    map[string]string
}

// filterExpr is a parsed $filter.
type filterExpr interface {
	eval(obj map[string]any) bool
}

type andExpr struct{ l, r filterExpr }
type orExpr struct{ l, r filterExpr }
type notExpr struct{ e filterExpr }

func (e andExpr) eval(o map[string]any) bool { return e.l.eval(o) && e.r.eval(o) }
func (e orExpr) eval(o map[string]any) bool  { return e.l.eval(o) || e.r.eval(o) }
func (e notExpr) eval(o map[string]any) bool { return !e.e.eval(o) }

// cmpExpr compares a property with literals (eq, ne, in, startswith, endswith).
type cmpExpr struct {
	prop string
	op   string
	lits []literalValue
}

// anyExpr is prop/any(x: x eq 'v') (or startswith(x, 'v')).
type anyExpr struct {
	prop string
	op   string
	lit  literalValue
}

type literalValue struct {
	null bool
	s    string // strings, GUIDs, numbers as text
	b    *bool
	t    *time.Time
}

func valueMatches(v any, op string, lit literalValue) bool {
	if lit.t != nil {
		s, _ := v.(string)
		got, ok := parseGraphTime(s)
		if !ok {
			return op == "ne"
		}
		switch op {
		case "eq":
			return got.Equal(*lit.t)
		case "ne":
			return !got.Equal(*lit.t)
		case "gt":
			return got.After(*lit.t)
		case "ge":
			return !got.Before(*lit.t)
		case "lt":
			return got.Before(*lit.t)
		case "le":
			return !got.After(*lit.t)
		}
		return false
	}
	if lit.null {
		if op == "ne" {
			return v != nil
		}
		return v == nil
	}
	if lit.b != nil {
		b, ok := v.(bool)
		eq := ok && b == *lit.b
		if op == "ne" {
			return !eq
		}
		return eq
	}
	s, isStr := v.(string)
	if !isStr {
		return op == "ne"
	}
	a, l := strings.ToLower(s), strings.ToLower(lit.s)
	switch op {
	case "eq":
		return a == l
	case "ne":
		return a != l
	case "startswith":
		return strings.HasPrefix(a, l)
	case "endswith":
		return strings.HasSuffix(a, l)
	}
	return false
}

func (e cmpExpr) eval(o map[string]any) bool {
	v := o[e.prop]
	if e.op == "in" {
		for _, l := range e.lits {
			if valueMatches(v, "eq", l) {
				return true
			}
		}
		return false
	}
	return valueMatches(v, e.op, e.lits[0])
}

func (e anyExpr) eval(o map[string]any) bool {
	arr, _ := o[e.prop].([]any)
	for _, v := range arr {
		if valueMatches(v, e.op, e.lit) {
			return true
		}
	}
	return false
}

type filterParser struct {
	src      string
	toks     []token
	pos      int
	spec     filterSpec
	advanced bool // ConsistencyLevel: eventual and $count=true were sent
	clauses  int  // comparisons, each value of an in() counting as one
}

// maxFilterClauses is Graph's limit on the expressions of a filter without
// advanced query parameters ("When using the in operator, the request is
// limited to 15 expressions in the filter clause by default", Graph known
// issues, query parameters).
const maxFilterClauses = 15

// dateTimeLiteral matches an unquoted DateTimeOffset literal.
var dateTimeLiteral = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})`)

type token struct {
	kind string // ident, string, number, punct
	text string
	at   int
}

func tokenize(s string) ([]token, int) {
	var out []token
	i := 0
	for i < len(s) {
		c := rune(s[i])
		if m := dateTimeLiteral.FindString(s[i:]); m != "" {
			out = append(out, token{"datetime", m, i})
			i += len(m)
			continue
		}
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'':
			j := i + 1
			var sb strings.Builder
			for {
				if j >= len(s) {
					return nil, i
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						sb.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(s[j])
				j++
			}
			out = append(out, token{"string", sb.String(), i})
			i = j + 1
		case strings.ContainsRune("(),/:", c):
			out = append(out, token{"punct", string(c), i})
			i++
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '-' || c == '.' || c == '@' || c == '$':
			j := i
			for j < len(s) {
				r := rune(s[j])
				if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.' || r == '@' || r == '$' {
					j++
					continue
				}
				break
			}
			out = append(out, token{"ident", s[i:j], i})
			i = j
		default:
			return nil, i
		}
	}
	return out, -1
}

// parseFilter parses a $filter expression. advanced enables the operators
// Graph only accepts in advanced queries (ne, not, endswith).
func parseFilter(src string, spec filterSpec, advanced bool) (filterExpr, *graphError) {
	toks, bad := tokenize(src)
	p := &filterParser{src: src, toks: toks, spec: spec, advanced: advanced}
	if bad >= 0 {
		return nil, p.syntaxErr(bad)
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.syntaxErr(p.toks[p.pos].at)
	}
	if !advanced && p.clauses > maxFilterClauses {
		// Observed body for more than 15 OR-ed clauses (an in() is one
		// clause per value).
		return nil, errUnsupportedQuery("Too many child clauses specified in search filter expression containing 'OR' operators: %d. Max allowed: %d.", p.clauses, maxFilterClauses)
	}
	return e, nil
}

func (p *filterParser) syntaxErr(at int) *graphError {
	return gerr(http.StatusBadRequest, "BadRequest", "Invalid filter clause: Syntax error at position %d in '%s'.", at, p.src)
}

func (p *filterParser) peek() *token {
	if p.pos < len(p.toks) {
		return &p.toks[p.pos]
	}
	return nil
}

func (p *filterParser) next() *token {
	t := p.peek()
	if t != nil {
		p.pos++
	}
	return t
}

func (p *filterParser) expect(text string) *graphError {
	t := p.next()
	if t == nil || !strings.EqualFold(t.text, text) {
		at := len(p.src)
		if t != nil {
			at = t.at
		}
		return p.syntaxErr(at)
	}
	return nil
}

func (p *filterParser) isKeyword(word string) bool {
	t := p.peek()
	return t != nil && t.kind == "ident" && strings.EqualFold(t.text, word)
}

func (p *filterParser) parseOr() (filterExpr, *graphError) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *filterParser) parseAnd() (filterExpr, *graphError) {
	l, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.isKeyword("and") {
		p.next()
		r, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *filterParser) advancedOnly(op string) *graphError {
	if p.advanced {
		return nil
	}
	return errUnsupportedQuery("Operator '%s' is not supported because the required parameters might be missing. Try adding $count with a value of true and the ConsistencyLevel header with a value of eventual.", op)
}

func (p *filterParser) parseUnary() (filterExpr, *graphError) {
	if p.isKeyword("not") {
		p.next()
		if err := p.advancedOnly("not"); err != nil {
			return nil, err
		}
		e, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notExpr{e}, nil
	}
	return p.parsePrimary()
}

func (p *filterParser) parsePrimary() (filterExpr, *graphError) {
	t := p.next()
	if t == nil {
		return nil, p.syntaxErr(len(p.src))
	}
	if t.kind == "punct" && t.text == "(" {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		return e, nil
	}
	if t.kind != "ident" {
		return nil, p.syntaxErr(t.at)
	}
	fn := strings.ToLower(t.text)
	if (fn == "startswith" || fn == "endswith" || fn == "contains") && p.peek() != nil && p.peek().text == "(" {
		p.next()
		prop := p.next()
		if prop == nil || prop.kind != "ident" {
			return nil, p.syntaxErr(t.at)
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		lit, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		name, kind, perr := p.property(prop.text)
		if perr != nil {
			return nil, perr
		}
		if fn == "contains" || kind != "string" {
			return nil, p.unsupported(name)
		}
		if fn == "endswith" {
			if err := p.advancedOnly("endsWith"); err != nil {
				return nil, err
			}
		}
		p.clauses++
		return cmpExpr{prop: name, op: fn, lits: []literalValue{lit}}, nil
	}
	// prop/any(x:x eq 'v')
	if p.peek() != nil && p.peek().text == "/" {
		p.next()
		if err := p.expect("any"); err != nil {
			return nil, err
		}
		if err := p.expect("("); err != nil {
			return nil, err
		}
		v := p.next()
		if v == nil || v.kind != "ident" {
			return nil, p.syntaxErr(t.at)
		}
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		name, kind, perr := p.property(t.text)
		if perr != nil {
			return nil, perr
		}
		if kind != "collection" {
			return nil, p.unsupported(name)
		}
		var op string
		var lit literalValue
		if p.isKeyword("startswith") {
			p.next()
			if err := p.expect("("); err != nil {
				return nil, err
			}
			if err := p.expect(v.text); err != nil {
				return nil, err
			}
			if err := p.expect(","); err != nil {
				return nil, err
			}
			l, err := p.parseLiteral()
			if err != nil {
				return nil, err
			}
			if err := p.expect(")"); err != nil {
				return nil, err
			}
			op, lit = "startswith", l
		} else {
			if err := p.expect(v.text); err != nil {
				return nil, err
			}
			o := p.next()
			if o == nil || !strings.EqualFold(o.text, "eq") && !strings.EqualFold(o.text, "ne") {
				at := len(p.src)
				if o != nil {
					at = o.at
				}
				return nil, p.syntaxErr(at)
			}
			l, err := p.parseLiteral()
			if err != nil {
				return nil, err
			}
			op, lit = strings.ToLower(o.text), l
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		p.clauses++
		return anyExpr{prop: name, op: op, lit: lit}, nil
	}
	name, kind, perr := p.property(t.text)
	if perr != nil {
		return nil, perr
	}
	if kind == "collection" {
		return nil, p.unsupported(name)
	}
	o := p.next()
	if o == nil || o.kind != "ident" {
		at := len(p.src)
		if o != nil {
			at = o.at
		}
		return nil, p.syntaxErr(at)
	}
	switch op := strings.ToLower(o.text); op {
	case "eq", "ne":
		if op == "ne" && kind != "datetime" {
			if err := p.advancedOnly("ne"); err != nil {
				return nil, err
			}
		}
		lit, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		if (kind == "datetime") != (lit.t != nil) && !lit.null {
			return nil, p.unsupported(name)
		}
		p.clauses++
		return cmpExpr{prop: name, op: op, lits: []literalValue{lit}}, nil
	case "in":
		if err := p.expect("("); err != nil {
			return nil, err
		}
		var lits []literalValue
		for {
			lit, err := p.parseLiteral()
			if err != nil {
				return nil, err
			}
			lits = append(lits, lit)
			if nt := p.peek(); nt != nil && nt.text == "," {
				p.next()
				continue
			}
			break
		}
		if err := p.expect(")"); err != nil {
			return nil, err
		}
		p.clauses += len(lits)
		return cmpExpr{prop: name, op: "in", lits: lits}, nil
	case "gt", "ge", "lt", "le":
		if kind != "datetime" {
			return nil, p.unsupported(name)
		}
		lit, err := p.parseLiteral()
		if err != nil {
			return nil, err
		}
		if lit.t == nil {
			return nil, p.unsupported(name)
		}
		p.clauses++
		return cmpExpr{prop: name, op: op, lits: []literalValue{lit}}, nil
	}
	return nil, p.syntaxErr(o.at)
}

func (p *filterParser) parseLiteral() (literalValue, *graphError) {
	t := p.next()
	if t == nil {
		return literalValue{}, p.syntaxErr(len(p.src))
	}
	if t.kind == "string" {
		return literalValue{s: t.text}, nil
	}
	if t.kind == "datetime" {
		v, ok := parseGraphTime(t.text)
		if !ok {
			return literalValue{}, p.syntaxErr(t.at)
		}
		return literalValue{t: &v}, nil
	}
	if t.kind == "ident" {
		switch strings.ToLower(t.text) {
		case "null":
			return literalValue{null: true}, nil
		case "true", "false":
			b := strings.EqualFold(t.text, "true")
			return literalValue{b: &b}, nil
		}
		// GUIDs and numbers may be written unquoted.
		if isGUID(t.text) || strings.Trim(t.text, "0123456789-.") == "" {
			return literalValue{s: t.text}, nil
		}
	}
	return literalValue{}, p.syntaxErr(t.at)
}

// property resolves a property name (case-insensitively) against the spec.
func (p *filterParser) property(name string) (string, string, *graphError) {
	for prop, kind := range p.spec.props {
		if strings.EqualFold(prop, name) {
			return prop, kind, nil
		}
	}
	return "", "", p.unsupported(name)
}

func (p *filterParser) unsupported(prop string) *graphError {
	return errUnsupportedQuery("Unsupported or invalid query filter clause specified for property '%s' of resource '%s'.", prop, p.spec.resource)
}
