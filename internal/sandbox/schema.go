package sandbox

import (
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// The Graph type definitions the sandbox validates request bodies against:
// schema/types.json is a verbatim copy of the project's reference
// (/work/shared/reference/graph/types.json, converted from Microsoft's CSDL);
// schema/extra-types.json adds the few types it lacks.
//
//go:embed schema/types.json schema/extra-types.json
var schemaFS embed.FS

// propDef is one declared property: its EDM type and nullability.
type propDef struct {
	Type     string
	Nullable bool
}

// typeDef is one entity, complex or enum type.
type typeDef struct {
	Name    string
	Base    string
	Kind    string // EntityType, ComplexType, Enum
	Open    bool
	Props   map[string]propDef
	Members []string
}

var (
	schemaOnce  sync.Once
	schemaTypes map[string]*typeDef
)

func loadSchema() {
	schemaTypes = map[string]*typeDef{}
	for _, f := range []string{"schema/types.json", "schema/extra-types.json"} {
		raw, err := schemaFS.ReadFile(f)
		if err != nil {
			panic(fmt.Sprintf("sandbox: embedded %s: %v", f, err))
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			panic(fmt.Sprintf("sandbox: embedded %s: %v", f, err))
		}
		for name, v := range m {
			if strings.HasPrefix(name, "_") {
				continue
			}
			var t struct {
				Base    *string          `json:"base"`
				Kind    string           `json:"kind"`
				Open    *bool            `json:"open"`
				Props   map[string][]any `json:"props"`
				Members []string         `json:"members"`
			}
			if err := json.Unmarshal(v, &t); err != nil {
				panic(fmt.Sprintf("sandbox: embedded %s type %s: %v", f, name, err))
			}
			td := &typeDef{Name: name, Kind: t.Kind, Members: t.Members, Props: map[string]propDef{}}
			if t.Base != nil {
				td.Base = *t.Base
			}
			if t.Open != nil {
				td.Open = *t.Open
			}
			for p, spec := range t.Props {
				if len(spec) != 2 {
					panic(fmt.Sprintf("sandbox: embedded %s: bad property %s.%s", f, name, p))
				}
				typ, _ := spec[0].(string)
				nullable, _ := spec[1].(bool)
				td.Props[p] = propDef{Type: typ, Nullable: nullable}
			}
			schemaTypes[name] = td
		}
	}
}

// schemaType returns the named type (without the microsoft.graph. prefix).
func schemaType(name string) *typeDef {
	schemaOnce.Do(loadSchema)
	return schemaTypes[strings.TrimPrefix(name, "microsoft.graph.")]
}

// lookupProp finds p on typ or one of its base types.
func lookupProp(typ, p string) (propDef, bool) {
	for t := schemaType(typ); t != nil; t = schemaType(t.Base) {
		if d, ok := t.Props[p]; ok {
			return d, true
		}
		if t.Base == "" {
			break
		}
	}
	return propDef{}, false
}

// propNames lists every declared property of typ including inherited ones.
func propNames(typ string) []string {
	var out []string
	for t := schemaType(typ); t != nil; t = schemaType(t.Base) {
		for p := range t.Props {
			out = append(out, p)
		}
		if t.Base == "" {
			break
		}
	}
	sort.Strings(out)
	return out
}

// collectionElem returns T for "Collection(T)".
func collectionElem(t string) (string, bool) {
	if strings.HasPrefix(t, "Collection(") && strings.HasSuffix(t, ")") {
		return t[len("Collection(") : len(t)-1], true
	}
	return "", false
}

func qualified(t string) string {
	if strings.HasPrefix(t, "Edm.") {
		return t
	}
	if e, ok := collectionElem(t); ok {
		return "Collection(" + qualified(e) + ")"
	}
	return "microsoft.graph." + t
}

// nodeKind names a decoded JSON value the way the OData reader does in its
// error messages.
func nodeKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "StartObject"
	case []any:
		return "StartArray"
	default:
		return "PrimitiveValue"
	}
}

func unexpectedNode(v any, want string) *graphError {
	return errBadRequest("An unexpected '%s' node was found when reading from the JSON reader. A '%s' node was expected.", nodeKind(v), want)
}

func nullNotAllowed(prop, typ string) *graphError {
	q := qualified(typ)
	if prop == "" {
		return errBadRequest("A null value was found with the expected type '%s[Nullable=False]'. The expected type '%s[Nullable=False]' does not allow null values.", q, q)
	}
	return errBadRequest("A null value was found for the property named '%s', which has the expected type '%s[Nullable=False]'. The expected type '%s[Nullable=False]' does not allow null values.", prop, q, q)
}

func literal(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// requestInstanceAnnotations are the OData annotations a request body may
// carry on an object besides @odata.type (checked separately): the
// control information OData's reader accepts and ignores in a request
// (OData JSON format §4.5: context, id, etag). Any other "odata." term is
// refused; annotations of other namespaces are custom and ignored, as
// OData readers ignore them.
var requestInstanceAnnotations = map[string]bool{"odata.context": true, "odata.id": true, "odata.etag": true}

// checkAnnotation decides an annotation key "prop@term" (prop empty for
// an instance annotation "@term").
func checkAnnotation(typ string, t *typeDef, prop, term string) *graphError {
	if prop == "" {
		if strings.HasPrefix(term, "odata.") && !requestInstanceAnnotations[term] {
			return unknownProperty(typ, t, "@"+term)
		}
		return nil
	}
	// A property annotation must annotate a declared property.
	if _, ok := lookupProp(typ, prop); !ok {
		return unknownProperty(typ, t, prop)
	}
	// Of the odata terms only the type may annotate a structural property:
	// @odata.bind is for navigation properties, which these types do not
	// declare.
	if strings.HasPrefix(term, "odata.") && term != "odata.type" {
		return unknownProperty(typ, t, prop+"@"+term)
	}
	return nil
}

func unknownProperty(typ string, t *typeDef, k string) *graphError {
	if t.Open {
		return errBadRequest("Property '%s' does not exist as a declared property or extension property.", k)
	}
	return errBadRequest("The property '%s' does not exist on type 'microsoft.graph.%s'. Make sure to only use property names that are defined by the type or mark the type as open type.", k, typ)
}

// validateObject checks a decoded request body (decoded with UseNumber)
// against the named Graph type, as Graph's OData reader does before any
// business rule runs: unknown properties, wrong JSON kinds and types,
// nulls where the type forbids them. @odata.type must name the expected type;
// other annotations only as checkAnnotation allows.
func validateObject(typ string, obj map[string]any) *graphError {
	t := schemaType(typ)
	if t == nil {
		return errBadRequest("A type named 'microsoft.graph.%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", typ)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := obj[k]
		if k == "@odata.type" {
			s, ok := v.(string)
			if !ok {
				return unexpectedNode(v, "PrimitiveValue")
			}
			name := strings.TrimPrefix(strings.TrimPrefix(s, "#"), "microsoft.graph.")
			if schemaType(name) == nil {
				return errBadRequest("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.TrimPrefix(s, "#"))
			}
			if !strings.EqualFold(name, typ) {
				return errBadRequest("A resource with type 'microsoft.graph.%s' was found, but it is not assignable to the expected type 'microsoft.graph.%s'. The type specified in the resource must be equal to either the expected type or a derived type.", name, typ)
			}
			continue
		}
		if prop, term, isAnn := strings.Cut(k, "@"); isAnn {
			if e := checkAnnotation(typ, t, prop, term); e != nil {
				return e
			}
			continue
		}
		d, ok := lookupProp(typ, k)
		if !ok {
			return unknownProperty(typ, t, k)
		}
		if err := validateValue(k, d, v); err != nil {
			return err
		}
	}
	return nil
}

func validateValue(prop string, d propDef, v any) *graphError {
	if v == nil {
		if d.Nullable {
			return nil
		}
		return nullNotAllowed(prop, d.Type)
	}
	if elem, ok := collectionElem(d.Type); ok {
		arr, ok := v.([]any)
		if !ok {
			return unexpectedNode(v, "StartArray")
		}
		for _, item := range arr {
			if item == nil {
				// Collection elements are never nullable in the types Graph
				// declares for these resources.
				return nullNotAllowed("", elem)
			}
			if err := validateValue("", propDef{Type: elem}, item); err != nil {
				return err
			}
		}
		return nil
	}
	if strings.HasPrefix(d.Type, "Edm.") {
		return validatePrimitive(d.Type, v)
	}
	t := schemaType(d.Type)
	if t == nil {
		return errBadRequest("A type named 'microsoft.graph.%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", d.Type)
	}
	if t.Kind == "Enum" {
		s, ok := v.(string)
		if !ok {
			return unexpectedNode(v, "PrimitiveValue")
		}
		for _, m := range t.Members {
			if m == s {
				return nil
			}
		}
		return errBadRequest("Requested value '%s' was not found.", s)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return unexpectedNode(v, "StartObject")
	}
	return validateObject(d.Type, obj)
}

func validatePrimitive(edm string, v any) *graphError {
	switch v.(type) {
	case map[string]any, []any:
		return unexpectedNode(v, "PrimitiveValue")
	}
	bad := func() *graphError {
		return errBadRequest("Cannot convert the literal '%s' to the expected type '%s'.", literal(v), edm)
	}
	switch edm {
	case "Edm.String":
		if _, ok := v.(string); !ok {
			return errBadRequest("Cannot convert a primitive value to the expected type 'Edm.String'. See the inner exception for more details.")
		}
	case "Edm.Boolean":
		if _, ok := v.(bool); !ok {
			return bad()
		}
	case "Edm.Int32":
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		i, err := n.Int64()
		if err != nil || i < math.MinInt32 || i > math.MaxInt32 {
			return bad()
		}
	case "Edm.Guid":
		s, ok := v.(string)
		if !ok || !isGUID(s) {
			return bad()
		}
	case "Edm.DateTimeOffset":
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, ok := parseGraphTime(s); !ok {
			return bad()
		}
	case "Edm.Binary":
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, err := decodeBinary(s); err != nil {
			return bad()
		}
	case "Edm.Duration":
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if _, ok := addISODuration(time.Time{}, s); !ok {
			return bad()
		}
	case "Edm.Stream":
		return errBadRequest("Cannot convert the literal '%s' to the expected type 'Edm.Stream'.", literal(v))
	default:
		return errBadRequest("Cannot convert the literal '%s' to the expected type '%s'.", literal(v), edm)
	}
	return nil
}

// decodeBinary decodes an Edm.Binary JSON value (standard base64; Graph also
// tolerates the URL-safe alphabet).
func decodeBinary(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// isAnnotation reports whether a body key is an OData annotation (instance
// "@term" or property "prop@term"); property names never contain "@".
func isAnnotation(k string) bool { return strings.Contains(k, "@") }
