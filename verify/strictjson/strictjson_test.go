package strictjson

import (
	"errors"
	"strings"
	"testing"
)

type desc struct {
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	Layers        []desc            `json:"layers"`
	Annotations   map[string]string `json:"annotations"`
}

func TestUnmarshal(t *testing.T) {
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	tests := []struct {
		name string
		in   string
		want Kind // "" means accepted
	}{
		{"valid", `{"schemaVersion":2,"layers":[{"mediaType":"a","size":3}]}`, ""},
		{"unknown member", `{"schemaVersion":2,"extra":{"x":1}}`, ""},
		{"escaped name equals known", `{"l\u0061yers":[]}`, ""},
		{"duplicate top", `{"layers":[],"layers":[]}`, DuplicateKey},
		{"duplicate after unescape", `{"layers":[],"l\u0061yers":[]}`, DuplicateKey},
		{"duplicate nested", `{"layers":[{"size":1,"size":2}]}`, DuplicateKey},
		{"duplicate in map", `{"annotations":{"a":"1","a":"2"}}`, DuplicateKey},
		{"duplicate in unknown", `{"x":{"a":1,"a":2}}`, DuplicateKey},
		{"case alias", `{"LAYERS":[]}`, KeyAlias},
		{"unicode fold alias", `{"layerſ":[]}`, KeyAlias},
		{"nested fold alias", `{"layers":[{"ſize":1}]}`, KeyAlias},
		{"kelvin sign in an unknown name", "{\"annotations\":{}, \"schemaVersion\":2, \"layers\":[{\"mediaType\":\"a\",\"size\":1}], \"K\u212a\":1}", ""},
		{"invalid utf8", "{\"annotations\":{\"a\":\"\xff\"}}", InvalidUTF8},
		{"bom", "\xef\xbb\xbf{}", Syntax},
		{"lone high surrogate", `{"annotations":{"a":"\ud800"}}`, InvalidUTF8},
		{"lone low surrogate", `{"annotations":{"a":"\udc00"}}`, InvalidUTF8},
		{"upper-case lone surrogate", `{"annotations":{"a":"x\uDBFFy"}}`, InvalidUTF8},
		{"high then high", `{"annotations":{"a":"\ud800\ud800"}}`, InvalidUTF8},
		{"high then a letter", `{"annotations":{"a":"\ud83dx\ude00"}}`, InvalidUTF8},
		{"low then high", `{"annotations":{"a":"\ude00\ud83d"}}`, InvalidUTF8},
		{"high at the end of a string", `{"annotations":{"a":"\ud83d"}}`, InvalidUTF8},
		{"lone surrogate in a name", `{"\udfff":1}`, InvalidUTF8},
		{"valid pair", `{"annotations":{"a":"\ud83d\ude00"}}`, ""},
		{"valid pair upper case", `{"annotations":{"a":"\uD83D\uDE00 \uDBFF\uDFFF"}}`, ""},
		{"escaped backslash before u", `{"annotations":{"a":"\\ud800"}}`, ""},
		{"non-surrogate escapes", `{"annotations":{"a":"\u0041\ud7ff\ue000\uffff"}}`, ""},
		{"trailing value", `{} {}`, Syntax},
		{"trailing garbage", `{}x`, Syntax},
		{"truncated", `{"layers":[`, Syntax},
		{"fraction size", `{"layers":[{"size":1.0}]}`, Number},
		{"exponent size", `{"layers":[{"size":1e3}]}`, Number},
		{"huge size", `{"layers":[{"size":9007199254740992}]}`, Number},
		{"max safe size", `{"layers":[{"size":9007199254740991}]}`, ""},
		{"fraction schemaVersion", `{"schemaVersion":2.0}`, Number},
		{"float in unknown member is fine", `{"x":1.5}`, ""},
		{"too deep", `{"x":` + deep + `}`, Depth},
		{"array at top", `[]`, Type},
		{"string size", `{"layers":[{"size":"12"}]}`, Type},
		{"number mediaType", `{"layers":[{"mediaType":1}]}`, Type},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m manifest
			err := Unmarshal([]byte(tt.in), &m, 200)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("rejected valid input: %v", err)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a %s error", err, tt.want)
			}
			if se.Kind != tt.want {
				t.Fatalf("got kind %s (%v), want %s", se.Kind, se, tt.want)
			}
		})
	}
}

func TestUnmarshalDecodesValues(t *testing.T) {
	var m manifest
	if err := Unmarshal([]byte(`{"schemaVersion":2,"layers":[{"mediaType":"x","size":42}]}`), &m, 0); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || len(m.Layers) != 1 || m.Layers[0].Size != 42 || m.Layers[0].MediaType != "x" {
		t.Fatalf("decoded %+v", m)
	}
}

func TestCheckWithoutSchema(t *testing.T) {
	if err := Check([]byte(`{"a":[1,{"b":2}],"c":"d"}`), 0); err != nil {
		t.Fatal(err)
	}
	if err := Check([]byte(`[{"a":1},{"a":1,"a":2}]`), 0); err == nil {
		t.Fatal("duplicate inside an array element was accepted")
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{}`, `{"layers":[{"size":1}]}`, `{"layers":[],"layers":[]}`, `[1,2,{"a":{}}]`, `{"layerſ":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m manifest
		if err := Unmarshal(data, &m, 50); err != nil {
			return
		}
		// An accepted document must be accepted again and decode the same.
		var again manifest
		if err := Unmarshal(data, &again, 50); err != nil {
			t.Fatalf("accepted once, rejected the second time: %v", err)
		}
	})
}
