package job

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaNode is the part of a JSON Schema this test reads.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 string                 `json:"type"`
	Const                any                    `json:"const"`
	Enum                 []any                  `json:"enum"`
	Properties           map[string]*schemaNode `json:"properties"`
	Required             []string               `json:"required"`
	AdditionalProperties *bool                  `json:"additionalProperties"`
	Items                *schemaNode            `json:"items"`
	Defs                 map[string]*schemaNode `json:"$defs"`
}

func loadSchemaTree(t *testing.T) *schemaNode {
	t.Helper()
	var root schemaNode
	if err := json.Unmarshal(SchemaJSON, &root); err != nil {
		t.Fatalf("parse schema: %v", err)
	}
	return &root
}

// resolve follows a local $ref.
func (root *schemaNode) resolve(t *testing.T, n *schemaNode) *schemaNode {
	t.Helper()
	for n.Ref != "" {
		name, ok := strings.CutPrefix(n.Ref, "#/$defs/")
		if !ok || root.Defs[name] == nil {
			t.Fatalf("unresolvable $ref %q", n.Ref)
		}
		n = root.Defs[name]
	}
	return n
}

// jsonType returns the JSON Schema type of a node, from type, const or enum.
func jsonType(n *schemaNode) string {
	switch {
	case n.Type != "":
		return n.Type
	case n.Const != nil:
		if _, ok := n.Const.(string); ok {
			return "string"
		}
	case len(n.Enum) > 0:
		if _, ok := n.Enum[0].(string); ok {
			return "string"
		}
	}
	return ""
}

// TestSchemaMatchesGoTypes walks the Go types by their json tags and the
// schema side by side: same property names, required exactly when the
// tag has no omitempty, additionalProperties false on every object, and
// the same JSON type for every field, nested objects included.
func TestSchemaMatchesGoTypes(t *testing.T) {
	t.Parallel()
	root := loadSchemaTree(t)
	var walk func(path string, typ reflect.Type, n *schemaNode)
	walk = func(path string, typ reflect.Type, n *schemaNode) {
		n = root.resolve(t, n)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		want := map[reflect.Kind]string{reflect.Struct: "object", reflect.Slice: "array",
			reflect.String: "string", reflect.Int: "integer", reflect.Bool: "boolean"}[typ.Kind()]
		if got := jsonType(n); got != want {
			t.Errorf("%s: schema type %q, Go type %s wants %q", path, got, typ, want)
			return
		}
		switch typ.Kind() {
		case reflect.Slice:
			if n.Items == nil {
				t.Errorf("%s: array without items", path)
				return
			}
			walk(path+"[]", typ.Elem(), n.Items)
		case reflect.Struct:
			if n.AdditionalProperties == nil || *n.AdditionalProperties {
				t.Errorf("%s: additionalProperties must be false", path)
			}
			var goNames, goRequired []string
			for f := range typ.Fields() {
				name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				goNames = append(goNames, name)
				if !strings.Contains(opts, "omitempty") {
					goRequired = append(goRequired, name)
				}
				sub, ok := n.Properties[name]
				if !ok {
					t.Errorf("%s: Go field %s (%q) is not in the schema", path, f.Name, name)
					continue
				}
				walk(field(path, name), f.Type, sub)
			}
			for name := range n.Properties {
				if !slices.Contains(goNames, name) {
					t.Errorf("%s: schema property %q is not in the Go type %s", path, name, typ)
				}
			}
			req := slices.Clone(n.Required)
			slices.Sort(req)
			slices.Sort(goRequired)
			if !slices.Equal(req, goRequired) {
				t.Errorf("%s: schema requires %v, Go type (fields without omitempty) %v", path, req, goRequired)
			}
		}
	}
	walk("(job)", reflect.TypeFor[Job](), root)
}

// TestSchemaEnumsMatchGo checks the value lists the schema repeats.
func TestSchemaEnumsMatchGo(t *testing.T) {
	t.Parallel()
	root := loadSchemaTree(t)
	strs := func(vs []any) []string {
		var s []string
		for _, v := range vs {
			s = append(s, v.(string))
		}
		return s
	}
	for _, c := range []struct {
		name string
		got  []any
		want []string
	}{
		{"layout", root.Properties["layout"].Enum, Layouts},
		{"page_size", root.Properties["page_size"].Enum, PageSizes},
		{"sort", root.Defs["signatories"].Properties["sort"].Enum, Sorts},
		{"copies", root.Properties["output"].Properties["copies"].Enum, Copies},
	} {
		if !slices.Equal(strs(c.got), c.want) {
			t.Errorf("%s: schema enum %v, Go %v", c.name, c.got, c.want)
		}
	}
	if root.Properties["schema"].Const != Schema {
		t.Errorf("schema const %v, want %q", root.Properties["schema"].Const, Schema)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat() // "format": "date" is a real calendar date, as Decode checks
	if err := c.AddResource("letter-v1.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("letter-v1.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return s
}

// TestSchemaAgreesWithDecode checks jobs that both the schema and Decode
// must accept, and jobs both must refuse.
func TestSchemaAgreesWithDecode(t *testing.T) {
	t.Parallel()
	s := compileSchema(t)
	tests := []struct {
		name  string
		job   func(t *testing.T) []byte
		valid bool
	}{
		{"reference job", func(t *testing.T) []byte { return readReference(t) }, true},
		{"minimal job", func(t *testing.T) []byte { return []byte(minimal) }, true},
		{"numbered list and key", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.body", []any{map[string]any{"list": []any{"a"}, "numbered": true}, map[string]any{"heading": "h"}})
			m["output"] = map[string]any{"key": "letters/2023/a..b/test-1.pdf"}
			set(m, "letterhead.logo", testPNG(t, 3, 3))
			return marshal(t, m)
		}, true},
		{"window layout with per-recipient copies", func(t *testing.T) []byte {
			m := minimalTree(t)
			m["layout"] = "din5008-b"
			m["page_size"] = "a4"
			m["output"] = map[string]any{"copies": "per-recipient"}
			return marshal(t, m)
		}, true},
		{"unknown copies value", func(t *testing.T) []byte {
			m := minimalTree(t)
			m["output"] = map[string]any{"copies": "each"}
			return marshal(t, m)
		}, false},
		{"unknown field", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.recipents", []any{})
			return marshal(t, m)
		}, false},
		{"no recipients", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.recipients", []any{})
			return marshal(t, m)
		}, false},
		{"two kinds of block", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.body.0.heading", "h")
			return marshal(t, m)
		}, false},
		{"numbered paragraph", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.body.0.numbered", true)
			return marshal(t, m)
		}, false},
		{"key with dot-dot segment", func(t *testing.T) []byte {
			m := minimalTree(t)
			m["output"] = map[string]any{"key": "a/../b.pdf"}
			return marshal(t, m)
		}, false},
		{"id starting with a dot", func(t *testing.T) []byte {
			m := minimalTree(t)
			m["id"] = ".x"
			return marshal(t, m)
		}, false},
		{"columns 7", func(t *testing.T) []byte {
			m := minimalTree(t)
			set(m, "letter.signatories", map[string]any{"columns": 7, "entries": entries("A")})
			return marshal(t, m)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data := tc.job(t)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			schemaErr := s.Validate(inst)
			_, decodeErr := Decode(data)
			if tc.valid && (schemaErr != nil || decodeErr != nil) {
				t.Errorf("want valid; schema: %v; Decode: %v", schemaErr, decodeErr)
			}
			if !tc.valid && (schemaErr == nil || decodeErr == nil) {
				t.Errorf("want refused; schema: %v; Decode: %v", schemaErr, decodeErr)
			}
		})
	}
}
