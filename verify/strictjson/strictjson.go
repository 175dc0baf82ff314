// Package strictjson decodes JSON under a strict profile, so that every
// parser that accepts a document reads the same values from it.
//
// Go's encoding/json takes the last of duplicate names, matches names
// case-insensitively with Unicode folding ("layerſ" fills "layers") and
// replaces invalid UTF-8. containerd and Docker inherit that; parsers in
// other languages do not. A digest must mean one document, so Unmarshal
// rejects every input on which the two families could disagree:
//
//   - invalid UTF-8 anywhere, and a byte order mark;
//   - escaped lone UTF-16 surrogates ("\ud800"), which encoding/json turns
//     into U+FFFD while other parsers keep or reject them (I-JSON, RFC 7493
//     section 2.1, forbids them);
//   - duplicate object member names (compared after unescaping);
//   - member names that fold to a field name of the target but differ from it;
//   - anything after the single top-level value;
//   - fractions, exponents and values beyond 2^53-1 in integer fields;
//   - nesting deeper than the given limit.
//
// UnmarshalCaseAliases relaxes one rule for documents that only
// case-insensitive readers read (docker save's manifest.json): a single
// ASCII letter-case spelling of a field is reported, not rejected.
//
// The checks run on the exact bytes before typed decoding; the document is
// never re-serialised.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// Kind classifies a strict-profile violation.
type Kind string

// The kinds of violation. They match the verifier's finding codes.
const (
	Syntax       Kind = "E_JSON_SYNTAX"
	DuplicateKey Kind = "E_JSON_DUPLICATE_KEY"
	KeyAlias     Kind = "E_JSON_KEY_ALIAS"
	InvalidUTF8  Kind = "E_JSON_INVALID_UTF8"
	Number       Kind = "E_JSON_NUMBER"
	Depth        Kind = "E_JSON_DEPTH"
	// Type is a well-formed value of the wrong JSON type for its field,
	// such as a number where a string belongs.
	Type Kind = "E_INVALID_DOCUMENT"
)

// Error is a strict-profile violation.
type Error struct {
	Kind Kind
	// Path is a JSON pointer-like location, for example /layers/2/size.
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return string(e.Kind) + ": " + e.Msg
	}
	return fmt.Sprintf("%s at %s: %s", e.Kind, e.Path, e.Msg)
}

// MaxSafeInteger is the largest integer every JSON parser reads exactly.
const MaxSafeInteger = 1<<53 - 1

// DefaultMaxDepth bounds nesting when the caller passes 0.
const DefaultMaxDepth = 200

// Check validates data against the strict profile without decoding it into
// a type. Names are checked for duplicates only.
func Check(data []byte, maxDepth int) error {
	return check(data, nil, maxDepth, nil)
}

// Unmarshal validates data against the strict profile, using v's type to
// find known names and integer fields, then decodes it into v.
func Unmarshal(data []byte, v any, maxDepth int) error {
	return unmarshal(data, v, maxDepth, nil)
}

// Alias is a member name that spells a known field name in other ASCII
// letter case, such as "config" for "Config".
type Alias struct {
	// Path is the location of the object that holds the member.
	Path  string
	Name  string // as written
	Field string // the field name it fills
}

// UnmarshalCaseAliases is Unmarshal for documents whose readers all match
// member names the way Go's encoding/json does, such as docker save's
// manifest.json, which Docker reads case-insensitively and Jib writes with
// lower-case keys. A member name that differs from a field name in ASCII
// letter case only is accepted and returned, provided no other member of
// the same object names that field. Two spellings of one field, and
// aliases by Unicode folding (which no producer writes), are still
// KeyAlias errors, as is everything else the strict profile rejects.
func UnmarshalCaseAliases(data []byte, v any, maxDepth int) ([]Alias, error) {
	aliases := []Alias{}
	if err := unmarshal(data, v, maxDepth, &aliases); err != nil {
		return nil, err
	}
	return aliases, nil
}

// unmarshal checks and decodes; a non-nil aliases accepts ASCII case
// aliases and collects them.
func unmarshal(data []byte, v any, maxDepth int, aliases *[]Alias) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return errors.New("strictjson: Unmarshal needs a non-nil pointer")
	}
	if err := check(data, schemaOf(t.Elem()), maxDepth, aliases); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &Error{Kind: Type, Path: "/" + strings.ReplaceAll(te.Field, ".", "/"), Msg: err.Error()}
		}
		return &Error{Kind: Syntax, Msg: err.Error()}
	}
	return nil
}

// schema describes the JSON shape of a Go type: its member names, the
// schema of each member, and whether it is an integer.
type schema struct {
	fields  map[string]*schema // for structs
	elem    *schema            // for slices, arrays and maps
	integer bool
}

var schemas sync.Map // reflect.Type -> *schema

func schemaOf(t reflect.Type) *schema {
	if s, ok := schemas.Load(t); ok {
		return s.(*schema)
	}
	s := build(t, map[reflect.Type]*schema{})
	schemas.Store(t, s)
	return s
}

func build(t reflect.Type, seen map[reflect.Type]*schema) *schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	s := &schema{}
	seen[t] = s
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s.integer = true
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() != reflect.Uint8 { // []byte is base64 text
			s.elem = build(t.Elem(), seen)
		}
	case reflect.Map:
		s.elem = build(t.Elem(), seen)
	case reflect.Struct:
		s.fields = map[string]*schema{}
		addFields(s, t, seen)
	}
	return s
}

func addFields(s *schema, t reflect.Type, seen map[reflect.Type]*schema) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(s, ft, seen)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s.fields[name] = build(f.Type, seen)
	}
}

// frame is one open object or array during the scan.
type frame struct {
	object bool
	schema *schema
	names  map[string]struct{}
	// fields maps each known field filled so far to the name that filled
	// it (objects, when case aliases are accepted).
	fields map[string]string
	key    string // the member whose value comes next (objects)
	field  string // the known field that key fills, or key
	index  int    // the next element's index (arrays)
	path   string
}

func check(data []byte, root *schema, maxDepth int, aliases *[]Alias) error {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return &Error{Kind: Syntax, Msg: "byte order mark"}
	}
	if !utf8.Valid(data) {
		return &Error{Kind: InvalidUTF8, Msg: fmt.Sprintf("invalid UTF-8 at byte %d", invalidAt(data))}
	}
	if at := loneSurrogate(data); at >= 0 {
		return &Error{Kind: InvalidUTF8, Msg: fmt.Sprintf("escaped lone UTF-16 surrogate %s at byte %d", data[at:at+6], at)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	// valueSchema returns the schema and path of the value about to be read.
	valueSchema := func() (*schema, string) {
		if len(stack) == 0 {
			return root, ""
		}
		top := stack[len(stack)-1]
		if top.schema == nil {
			if top.object {
				return nil, top.path + "/" + top.key
			}
			return nil, fmt.Sprintf("%s/%d", top.path, top.index)
		}
		if top.object {
			if top.schema.fields != nil {
				return top.schema.fields[top.field], top.path + "/" + top.key
			}
			return top.schema.elem, top.path + "/" + top.key
		}
		return top.schema.elem, fmt.Sprintf("%s/%d", top.path, top.index)
	}
	// expectKey reports whether the next token of the current object is a key.
	expectKey := false
	done := false
	for !done {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return &Error{Kind: Syntax, Msg: "unexpected end of input"}
			}
			return &Error{Kind: Syntax, Msg: err.Error()}
		}
		if expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				done = afterValue(&stack, &expectKey)
				continue
			}
			name := tok.(string)
			top := stack[len(stack)-1]
			if _, dup := top.names[name]; dup {
				return &Error{Kind: DuplicateKey, Path: top.path, Msg: fmt.Sprintf("duplicate member %q", name)}
			}
			top.names[name] = struct{}{}
			field := name
			if top.schema != nil && top.schema.fields != nil {
				var err *Error
				if field, err = knownField(top, name, aliases); err != nil {
					return err
				}
			}
			top.key, top.field = name, field
			expectKey = false
			continue
		}
		s, path := valueSchema()
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxDepth {
					return &Error{Kind: Depth, Path: path, Msg: fmt.Sprintf("nesting deeper than %d", maxDepth)}
				}
				f := &frame{object: t == '{', schema: s, path: path}
				if f.object {
					f.names = map[string]struct{}{}
					expectKey = true
				}
				stack = append(stack, f)
				continue
			case ']':
				stack = stack[:len(stack)-1]
				done = afterValue(&stack, &expectKey)
				continue
			}
		case json.Number:
			if s != nil && s.integer {
				if err := checkInteger(string(t)); err != nil {
					return &Error{Kind: Number, Path: path, Msg: err.Error()}
				}
			}
		}
		done = afterValue(&stack, &expectKey)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Kind: Syntax, Msg: "data after the top-level value"}
	}
	return nil
}

// knownField returns the field of top's schema that member name fills.
// A name that only folds to a field is a KeyAlias error, unless aliases
// is non-nil and the two differ in ASCII letter case only; then the alias
// is collected, and a second spelling of the same field is an error.
func knownField(top *frame, name string, aliases *[]Alias) (string, *Error) {
	field := name
	if _, exact := top.schema.fields[name]; !exact {
		for known := range top.schema.fields {
			if !strings.EqualFold(known, name) {
				continue
			}
			if aliases == nil || !asciiOnly(name) || !asciiOnly(known) {
				return "", &Error{Kind: KeyAlias, Path: top.path,
					Msg: fmt.Sprintf("member %q is a case or Unicode-fold alias of %q", name, known)}
			}
			field = known
			*aliases = append(*aliases, Alias{Path: top.path, Name: name, Field: known})
			break
		}
	}
	if aliases == nil {
		return field, nil
	}
	if top.fields == nil {
		top.fields = map[string]string{}
	}
	if prev, dup := top.fields[field]; dup {
		return "", &Error{Kind: KeyAlias, Path: top.path,
			Msg: fmt.Sprintf("members %q and %q are two spellings of %q; readers disagree on which one counts", prev, name, field)}
	}
	top.fields[field] = name
	return field, nil
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// afterValue advances the enclosing frame after a complete value and
// reports whether the top-level value is complete.
func afterValue(stack *[]*frame, expectKey *bool) bool {
	if len(*stack) == 0 {
		return true
	}
	top := (*stack)[len(*stack)-1]
	*expectKey = top.object
	if !top.object {
		top.index++
	}
	return false
}

func checkInteger(lit string) error {
	if strings.ContainsAny(lit, ".eE") {
		return fmt.Errorf("%s is not an integer literal", lit)
	}
	digits := strings.TrimPrefix(lit, "-")
	if len(digits) > 16 || (len(digits) == 16 && digits > "9007199254740991") {
		return fmt.Errorf("%s is beyond 2^53-1", lit)
	}
	return nil
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// loneSurrogate returns the offset of the first \u escape inside a string
// that encodes a UTF-16 surrogate not paired as high then low, or -1.
// Input that is not valid JSON may give any answer; the decoder rejects it.
func loneSurrogate(data []byte) int {
	if !bytes.Contains(data, []byte(`\u`)) {
		return -1
	}
	in := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\':
			r, ok := escapeAt(data, i)
			if !ok {
				i++ // a short escape, or not \u: skip the escaped byte
				continue
			}
			switch {
			case r >= 0xd800 && r <= 0xdbff:
				if lo, ok := escapeAt(data, i+6); ok && lo >= 0xdc00 && lo <= 0xdfff {
					i += 11
					continue
				}
				return i
			case r >= 0xdc00 && r <= 0xdfff:
				return i
			}
			i += 5
		}
	}
	return -1
}

// escapeAt decodes the \uXXXX escape at data[i:], if there is one.
func escapeAt(data []byte, i int) (rune, bool) {
	if i+6 > len(data) || data[i] != '\\' || data[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range data[i+2 : i+6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
