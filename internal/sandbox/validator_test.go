package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The response validator checks every body the sandbox produces in these
// tests against the Graph type definitions in schema/ (types.json is a
// verbatim copy of the project's reference). It is deliberately independent
// of the sandbox's own request validation code.

type vProp struct {
	typ      string
	nullable bool
}

type vType struct {
	base    string
	kind    string
	props   map[string]vProp
	members []string
}

var (
	vOnce  sync.Once
	vTypes map[string]*vType
)

func loadValidatorTypes(t *testing.T) map[string]*vType {
	vOnce.Do(func() {
		vTypes = map[string]*vType{}
		for _, f := range []string{"schema/types.json", "schema/extra-types.json"} {
			b, err := os.ReadFile(f)
			if err != nil {
				panic(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				panic(err)
			}
			for name, raw := range m {
				if strings.HasPrefix(name, "_") {
					continue
				}
				var d struct {
					Base    *string          `json:"base"`
					Kind    string           `json:"kind"`
					Props   map[string][]any `json:"props"`
					Members []string         `json:"members"`
				}
				if err := json.Unmarshal(raw, &d); err != nil {
					panic(err)
				}
				vt := &vType{kind: d.Kind, members: d.Members, props: map[string]vProp{}}
				if d.Base != nil {
					vt.base = *d.Base
				}
				for p, spec := range d.Props {
					vt.props[p] = vProp{typ: spec[0].(string), nullable: spec[1].(bool)}
				}
				vTypes[name] = vt
			}
		}
	})
	return vTypes
}

func (vt *vType) prop(types map[string]*vType, name string) (vProp, bool) {
	for cur := vt; cur != nil; cur = types[cur.base] {
		if p, ok := cur.props[name]; ok {
			return p, true
		}
		if cur.base == "" {
			break
		}
	}
	return vProp{}, false
}

var (
	guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// An ISO 8601 duration as Edm.Duration serialises it.
	isoDuration = regexp.MustCompile(`^-?P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$`)
	// Graph's DateTimeOffset pattern from openapi-subset.yaml.
	dtoPattern = regexp.MustCompile(`^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?(Z|[+-][0-9][0-9]:[0-9][0-9])$`)
)

// checkEntity validates obj as an instance of typ and returns the problems.
func checkEntity(types map[string]*vType, typ string, obj map[string]any, path string) []string {
	vt := types[typ]
	if vt == nil {
		return []string{fmt.Sprintf("%s: unknown type %s", path, typ)}
	}
	var problems []string
	for k, v := range obj {
		if strings.HasPrefix(k, "@odata.") {
			if k == "@odata.type" {
				s, _ := v.(string)
				if strings.TrimPrefix(s, "#microsoft.graph.") != typ {
					problems = append(problems, fmt.Sprintf("%s: @odata.type %q, validating as %s", path, s, typ))
				}
			}
			continue
		}
		p, ok := vt.prop(types, k)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s.%s: not a property of %s", path, k, typ))
			continue
		}
		problems = append(problems, checkValue(types, p.typ, p.nullable, v, path+"."+k)...)
	}
	return problems
}

func checkValue(types map[string]*vType, typ string, nullable bool, v any, path string) []string {
	if v == nil {
		if nullable {
			return nil
		}
		return []string{path + ": null for non-nullable " + typ}
	}
	if strings.HasPrefix(typ, "Collection(") {
		elem := strings.TrimSuffix(strings.TrimPrefix(typ, "Collection("), ")")
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %T for %s", path, v, typ)}
		}
		var out []string
		for i, x := range arr {
			out = append(out, checkValue(types, elem, false, x, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	bad := func() []string { return []string{fmt.Sprintf("%s: %v (%T) is not a valid %s", path, v, v, typ)} }
	switch typ {
	case "Edm.String":
		if _, ok := v.(string); !ok {
			return bad()
		}
	case "Edm.Boolean":
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case "Edm.Duration":
		if s, ok := v.(string); !ok || !isoDuration.MatchString(s) {
			return bad()
		}
	case "Edm.Double":
		if _, ok := v.(float64); !ok {
			return bad()
		}
	case "Edm.Int32", "Edm.Int64":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return bad()
		}
	case "Edm.Guid":
		if s, ok := v.(string); !ok || !guidPattern.MatchString(s) {
			return bad()
		}
	case "Edm.DateTimeOffset":
		s, ok := v.(string)
		if !ok || !dtoPattern.MatchString(s) {
			return bad()
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return bad()
		}
	case "Edm.Binary":
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return bad()
		}
	case "Edm.Stream":
		return []string{path + ": stream properties are never inlined"}
	default:
		vt := types[typ]
		if vt == nil {
			return []string{path + ": unknown type " + typ}
		}
		if vt.kind == "Enum" {
			s, ok := v.(string)
			if !ok {
				return bad()
			}
			for _, m := range vt.members {
				if m == s {
					return nil
				}
			}
			return []string{fmt.Sprintf("%s: %q is not a member of %s", path, s, typ)}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		return checkEntity(types, typ, obj, path)
	}
	return nil
}

// validateEntity checks a single-entity response of type typ.
func validateEntity(t *testing.T, typ string, body map[string]any) {
	t.Helper()
	types := loadValidatorTypes(t)
	if ctx, _ := body["@odata.context"].(string); !strings.Contains(ctx, "/v1.0/$metadata#") {
		t.Errorf("@odata.context %q is not a v1.0 metadata URL", ctx)
	}
	for _, p := range checkEntity(types, typ, body, typ) {
		t.Errorf("schema: %s", p)
	}
}

// validateCollection checks a collection response: @odata.context, value[]
// items of typ, optional @odata.nextLink / @odata.count, nothing else.
func validateCollection(t *testing.T, typ string, body map[string]any) []map[string]any {
	t.Helper()
	types := loadValidatorTypes(t)
	var items []map[string]any
	for k, v := range body {
		switch k {
		case "@odata.context":
			if s, _ := v.(string); !strings.Contains(s, "/v1.0/$metadata#") {
				t.Errorf("@odata.context %q", s)
			}
		case "@odata.nextLink":
			if s, _ := v.(string); !strings.Contains(s, "$skiptoken=") {
				t.Errorf("@odata.nextLink %q has no $skiptoken", s)
			}
		case "@odata.count":
			if _, ok := v.(float64); !ok {
				t.Errorf("@odata.count %v is not a number", v)
			}
		case "value":
			arr, ok := v.([]any)
			if !ok {
				t.Fatalf("value is %T", v)
			}
			for i, x := range arr {
				obj, ok := x.(map[string]any)
				if !ok {
					t.Fatalf("value[%d] is %T", i, x)
				}
				for _, p := range checkEntity(types, typ, obj, fmt.Sprintf("%s[%d]", typ, i)) {
					t.Errorf("schema: %s", p)
				}
				items = append(items, obj)
			}
		default:
			t.Errorf("unexpected collection property %q", k)
		}
	}
	if _, ok := body["value"]; !ok {
		t.Errorf("collection response without value: %v", body)
	}
	return items
}

var errorDatePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$`)

// validateError checks Graph's error body and headers (endpoints.md §8.1).
func validateError(t *testing.T, r response) {
	t.Helper()
	e, _ := r.body["error"].(map[string]any)
	if len(r.body) != 1 || e == nil {
		t.Fatalf("error body must be exactly {error: …}: %s", r.raw)
	}
	allowed := map[string]bool{"code": true, "message": true, "innerError": true, "details": true, "target": true}
	for k := range e {
		if !allowed[k] {
			t.Errorf("error.%s is not part of Graph's error shape", k)
		}
	}
	if _, ok := e["code"].(string); !ok {
		t.Errorf("error.code missing")
	}
	if m, _ := e["message"].(string); m == "" {
		t.Errorf("error.message missing (the SDK panics without it)")
	}
	inner, _ := e["innerError"].(map[string]any)
	if inner == nil {
		t.Fatalf("error.innerError missing: %s", r.raw)
	}
	if d, _ := inner["date"].(string); !errorDatePattern.MatchString(d) {
		t.Errorf("innerError.date %q must be UTC without offset", d)
	}
	rid, _ := inner["request-id"].(string)
	if !guidPattern.MatchString(rid) || r.header.Get("request-id") != rid {
		t.Errorf("innerError.request-id %q vs header %q", rid, r.header.Get("request-id"))
	}
	if inner["client-request-id"] == nil || r.header.Get("client-request-id") == "" {
		t.Errorf("client-request-id missing from innerError or headers")
	}
	if details, ok := e["details"].([]any); ok {
		for _, d := range details {
			dm, _ := d.(map[string]any)
			if dm["code"] == nil || dm["message"] == nil {
				t.Errorf("error.details entry without code/message: %v", d)
			}
		}
	}
}

// TestValidatorCatchesProblems proves the validator fails on what it must.
func TestValidatorCatchesProblems(t *testing.T) {
	types := loadValidatorTypes(t)
	cases := []struct {
		name string
		typ  string
		obj  map[string]any
	}{
		{"unknown property", "application", map[string]any{"displayNme": "x"}},
		{"wrong primitive", "application", map[string]any{"displayName": 3.0}},
		{"null collection", "application", map[string]any{"tags": nil}},
		{"bad guid", "appRoleAssignment", map[string]any{"appRoleId": "not-a-guid"}},
		{"offset-less DateTimeOffset", "application", map[string]any{"createdDateTime": "2024-01-01T00:00:00"}},
		{"nested unknown", "application", map[string]any{"web": map[string]any{"redirectUri": []any{}}}},
		{"bad enum", "organization", map[string]any{"partnerTenantType": "ResellerPartnerDelegatedAdmin"}},
		{"collection of wrong type", "application", map[string]any{"identifierUris": []any{1.0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if p := checkEntity(types, tc.typ, tc.obj, tc.typ); len(p) == 0 {
				t.Errorf("validator accepted %v as %s", tc.obj, tc.typ)
			}
		})
	}
	good := map[string]any{"displayName": "x", "tags": []any{"a"}, "web": map[string]any{"redirectUris": []any{}, "homePageUrl": nil}}
	if p := checkEntity(types, "application", good, "application"); len(p) != 0 {
		t.Errorf("validator rejected a valid application: %v", p)
	}
}
