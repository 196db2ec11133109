package job

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Decode parses a letter/v1 job, normalises every string to NFC and
// validates it. Anything wrong with data is reported as a
// *ValidationError; Decode returns no other kind of error.
//
// Decode refuses, before looking at any field's value: a job over
// MaxJobBytes; a byte order mark; invalid UTF-8 (naming the byte offset
// and the field); JSON syntax errors (naming line and column); anything
// after the job object; and nesting deeper than MaxDepth. It then
// refuses, all at once: unknown fields (matched exactly, so "Schema" is
// not "schema"), duplicate keys, and values of the wrong JSON type,
// including null. Last, Validate runs on the normalised job.
func Decode(data []byte) (*Job, error) {
	var ps problems
	if len(data) > MaxJobBytes {
		ps.add("", "job is %d bytes; the limit is %d (%s)", len(data), MaxJobBytes, sizeName(MaxJobBytes))
		return nil, ps.err()
	}
	if fastCheck(data) {
		// The common case: a well-formed job. The detailed checks below
		// would find nothing, so only decoding and Validate remain.
		var j Job
		if err := json.Unmarshal(data, &j); err == nil {
			j.Normalize()
			if err := j.Validate(); err != nil {
				return nil, err
			}
			return &j, nil
		}
	}
	if err := checkSyntax(data); err != nil {
		ps.add("", "%s", err)
		return nil, ps.err()
	}
	w := walker{dec: json.NewDecoder(bytes.NewReader(data)), badUTF8: -1, data: data}
	w.dec.UseNumber()
	if !utf8.Valid(data) {
		w.badUTF8 = firstInvalidUTF8(data)
	}
	w.value("", reflect.TypeFor[Job](), 0)
	if len(w.ps.list) > 0 {
		w.ps.list = append(w.ps.list, validateRest(data, w.ps.list)...)
		return nil, w.ps.err()
	}
	var j Job
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		// The walk above accepts only what Decode can store, so this is
		// a bug in the walk; still the job's content caused it.
		ps.add("", "decode job: %v", err)
		return nil, ps.err()
	}
	j.Normalize()
	if err := j.Validate(); err != nil {
		return nil, err
	}
	return &j, nil
}

// validateRest runs Validate on what of a structurally wrong job can be
// decoded (unknown fields skipped, values of the wrong type left empty),
// so that one answer lists every problem of the job, not only the
// structural ones. Problems on a field that already has one, or inside
// or around it, are left out: a value of the wrong type is not also
// reported as empty. An unknown field does not hide its siblings.
func validateRest(data []byte, found []Problem) (out []Problem) {
	if !utf8.Valid(data) {
		return nil
	}
	var j Job
	_ = json.Unmarshal(data, &j) // keeps what it could decode
	j.Normalize()
	defer func() {
		if recover() != nil { // a half-decoded job must not crash the check
			out = nil
		}
	}()
	var ve *ValidationError
	if err := j.Validate(); err == nil || !errors.As(err, &ve) {
		return nil
	}
	related := func(a, b string) bool {
		return a == b || a == "" || b == "" || strings.HasPrefix(a, b+".") || strings.HasPrefix(a, b+"[")
	}
	for _, p := range ve.Problems {
		keep := true
		for _, f := range found {
			if related(p.Field, f.Field) || (f.Message != "unknown field" && related(f.Field, p.Field)) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

// checkSyntax reports JSON syntax errors, a byte order mark and trailing
// data, with the line and column where they are.
func checkSyntax(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("job is empty")
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return errors.New("job starts with a byte order mark (U+FEFF); send UTF-8 without one")
	}
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return nil // valid JSON (RawMessage accepts any value)
	}
	off := int(se.Offset) - 1 // Offset counts the offending byte
	if off < 0 || strings.Contains(se.Error(), "unexpected end") {
		off = len(data)
	}
	if off < len(data) && startsInvalidUTF8(data[off:]) {
		return fmt.Errorf("invalid UTF-8 at byte offset %d (%s)", off, position(data, off))
	}
	msg := se.Error()
	switch {
	case off == len(data):
		return fmt.Errorf("parse job: unexpected end of JSON at %s", position(data, off))
	case strings.Contains(msg, "exceeded max depth"):
		return fmt.Errorf("nesting is deeper than %d levels at %s", MaxDepth, position(data, off))
	case strings.Contains(msg, "after top-level value"):
		return fmt.Errorf("parse job: trailing data after the job object at %s", position(data, off))
	}
	return fmt.Errorf("parse job: %s at %s", msg, position(data, off))
}

func startsInvalidUTF8(b []byte) bool {
	r, n := utf8.DecodeRune(b)
	return r == utf8.RuneError && n <= 1
}

// firstInvalidUTF8 returns the offset of the first byte of data that is
// not part of valid UTF-8, or -1.
func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// position returns "line L, column C" for a byte offset, both 1-based;
// columns count characters.
func position(data []byte, off int) string {
	if off > len(data) {
		off = len(data)
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	col := utf8.RuneCount(before[start:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// errStop aborts the walk: the rest of the input cannot be trusted to
// give useful problems (invalid UTF-8, too deep).
var errStop = errors.New("stop")

// walker checks syntactically valid JSON against the Go types of Job
// through their json tags: unknown fields, duplicate keys, wrong types
// and depth, each with the path of the field.
type walker struct {
	dec     *json.Decoder
	data    []byte
	badUTF8 int // offset of the first invalid UTF-8 byte, or -1
	ps      problems
}

func (w *walker) token(path string) (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		// checkSyntax passed, so this cannot happen; report it anyway.
		w.ps.add(path, "parse job: %v", err)
		return nil, errStop
	}
	if w.badUTF8 >= 0 && w.dec.InputOffset() > int64(w.badUTF8) {
		w.ps.add(path, "invalid UTF-8 at byte offset %d (%s)", w.badUTF8, position(w.data, w.badUTF8))
		return nil, errStop
	}
	return tok, nil
}

// value reads one value at path and checks it against t.
func (w *walker) value(path string, t reflect.Type, depth int) error {
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	return w.valueFrom(tok, path, t, depth)
}

func (w *walker) valueFrom(tok json.Token, path string, t reflect.Type, depth int) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	got := kindOf(tok)
	want := jsonKind(t)
	if got != want && !(want == "an integer" && got == "a number") {
		w.mismatch(path, want, got)
		return w.skip(tok, path, depth)
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.object(path, t, depth+1)
	case reflect.Slice:
		return w.array(path, t.Elem(), depth+1)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if _, err := strconv.ParseInt(tok.(json.Number).String(), 10, 32); err != nil {
			w.ps.add(path, "must be an integer, not %s", tok.(json.Number))
		}
	}
	return nil
}

func (w *walker) mismatch(path, want, got string) {
	msg := "must be " + want + ", not " + got
	if path == "" {
		msg = "the job must be a JSON object, not " + got
	}
	w.ps.add(path, "%s", msg)
}

func (w *walker) checkDepth(path string, depth int) error {
	if depth > MaxDepth {
		w.ps.add(path, "nesting is deeper than %d levels", MaxDepth)
		return errStop
	}
	return nil
}

func (w *walker) object(path string, t reflect.Type, depth int) error {
	if err := w.checkDepth(path, depth); err != nil {
		return err
	}
	fields := jsonFields(t)
	seen := make(map[string]bool)
	for w.dec.More() {
		tok, err := w.token(path)
		if err != nil {
			return err
		}
		key := tok.(string)
		sub := field(path, key)
		ft, known := fields[key]
		switch {
		case seen[key]:
			w.ps.add(sub, "duplicate key")
			err = w.skipNext(sub, depth)
		case !known:
			w.ps.add(sub, "unknown field")
			err = w.skipNext(sub, depth)
		case zeroRefused(t, key):
			err = w.nonZero(sub, ft, depth)
		default:
			err = w.value(sub, ft, depth)
		}
		seen[key] = true
		if err != nil {
			return err
		}
	}
	_, err := w.token(path) // '}'
	return err
}

// zeroRefused reports whether field name of struct t refuses an explicit
// 0 in JSON, where 0 would otherwise read as the field left out:
// signatories.columns (the contract says 1–6).
func zeroRefused(t reflect.Type, name string) bool {
	return t == reflect.TypeFor[Signatories]() && name == "columns"
}

// nonZero is value for a field that refuses an explicit 0.
func (w *walker) nonZero(path string, t reflect.Type, depth int) error {
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	if n, ok := tok.(json.Number); ok {
		if v, err := strconv.ParseInt(n.String(), 10, 32); err == nil && v == 0 {
			w.ps.add(path, "%s", columnsProblem(0))
			return nil
		}
	}
	return w.valueFrom(tok, path, t, depth)
}

func (w *walker) array(path string, elem reflect.Type, depth int) error {
	if err := w.checkDepth(path, depth); err != nil {
		return err
	}
	for i := 0; w.dec.More(); i++ {
		if err := w.value(index(path, i), elem, depth); err != nil {
			return err
		}
	}
	_, err := w.token(path) // ']'
	return err
}

// skipNext skips the next value.
func (w *walker) skipNext(path string, depth int) error {
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	return w.skip(tok, path, depth)
}

// skip skips the rest of the value that starts with tok, checking only
// depth and UTF-8.
func (w *walker) skip(tok json.Token, path string, depth int) error {
	d, ok := tok.(json.Delim)
	if !ok || d == '}' || d == ']' {
		return nil
	}
	level := 1
	if err := w.checkDepth(path, depth+level); err != nil {
		return err
	}
	for level > 0 {
		tok, err := w.token(path)
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				level++
				if err := w.checkDepth(path, depth+level); err != nil {
					return err
				}
			} else {
				level--
			}
		}
	}
	return nil
}

// kindOf names the JSON type of a token as the messages say it.
func kindOf(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// jsonKind names the JSON type a Go type decodes from, as kindOf does.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Bool:
		return "true or false"
	}
	panic("job: no JSON kind for " + t.String())
}

// fieldsByType caches jsonFields: reflect.Type → map[string]reflect.Type.
var fieldsByType sync.Map

// jsonFields maps the JSON names of t's fields to their types. The map
// is shared: callers must not modify it.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldsByType.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = f.Type
	}
	fieldsByType.Store(t, m)
	return m
}

// Normalize puts every string of the job in Unicode Normalization Form C,
// so that "e" followed by U+0301 COMBINING ACUTE ACCENT becomes "é".
// Decode calls it; a job built in Go should call it before Validate.
func (j *Job) Normalize() {
	normalize(reflect.ValueOf(j).Elem())
}

func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); !norm.NFC.IsNormalString(s) {
			v.SetString(norm.NFC.String(s))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			normalize(v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	}
}
