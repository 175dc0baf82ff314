package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzDifferential checks the strict profile against encoding/json, the
// parser containerd and Docker use: whatever the strict decoder accepts,
// encoding/json must accept too and decode to the same value, so that no
// document can mean one thing to imgproof and another to a runtime. The
// strict decoder must also be deterministic in what it rejects.
func FuzzDifferential(f *testing.F) {
	for _, s := range []string{
		`{"schemaVersion":2,"config":{"mediaType":"a","digest":"sha256:00","size":1},"layers":[]}`,
		`{"schemaVersion":2,"manifests":[{"digest":"sha256:00","size":2,"platform":{"os":"linux","architecture":"amd64"}}]}`,
		`{"layers":[],"LAYERS":[]}`, `{"layerſ":[]}`, `{"l\u0061yers":[],"layers":[]}`, `{"size":1e3}`, `{"size":-0}`,
		`{"annotations":{"a":"\ud800"}}`, `{"annotations":{"k":"v","k":"w"}}`, "{\"a\":\"\xff\"}", `{} {}`, "\ufeff{}",
		`{"schemaVersion":2.0}`, `{"size":9007199254740993}`, `{"config":{"digest":"x","Digest":"y"}}`, `[[[[[[]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var strict v1.Manifest
		err := Unmarshal(data, &strict, 64)
		var again v1.Manifest
		err2 := Unmarshal(data, &again, 64)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("inconsistent: %v then %v", err, err2)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind == "" {
				t.Fatalf("rejection without a code: %T %v", err, err)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8: %q", data)
		}
		// A parser that keeps the first of duplicate names must read the
		// same tree as one that keeps the last (encoding/json).
		first, ferr := tree(data, true)
		last, lerr := tree(data, false)
		if ferr != nil || lerr != nil {
			t.Fatalf("accepted, but a token walk fails: %v %v", ferr, lerr)
		}
		if !reflect.DeepEqual(first, last) {
			t.Fatalf("first-wins and last-wins parsers disagree on %q", data)
		}
		var loose v1.Manifest
		if lerr := json.Unmarshal(data, &loose); lerr != nil {
			t.Fatalf("strict accepted what encoding/json rejects (%v): %q", lerr, data)
		}
		if !reflect.DeepEqual(strict, loose) {
			t.Fatalf("strict and encoding/json decode differently:\nstrict %+v\nloose  %+v\ninput %q", strict, loose, data)
		}
		var index v1.Index
		if Unmarshal(data, &index, 64) == nil {
			var li v1.Index
			if json.Unmarshal(data, &li) != nil || !reflect.DeepEqual(index, li) {
				t.Fatalf("index: strict and encoding/json disagree on %q", data)
			}
		}
	})
}

// tree decodes one JSON value token by token, keeping the first or the last
// of duplicate object member names.
func tree(data []byte, firstWins bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value func() (any, error)
	value = func() (any, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{':
				m := map[string]any{}
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return nil, err
					}
					v, err := value()
					if err != nil {
						return nil, err
					}
					if _, dup := m[k.(string)]; !dup || !firstWins {
						m[k.(string)] = v
					}
				}
				_, err := dec.Token()
				return m, err
			case '[':
				a := []any{}
				for dec.More() {
					v, err := value()
					if err != nil {
						return nil, err
					}
					a = append(a, v)
				}
				_, err := dec.Token()
				return a, err
			}
		}
		return tok, nil
	}
	return value()
}
