package strictjson

import (
	"errors"
	"fmt"
	"testing"
)

func TestUnmarshalCaseAliases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Kind   // "" means accepted
		aliases string // the aliases reported, when accepted
		layers  int    // decoded len(layers), when accepted
		size    int64  // decoded layers[0].size, when accepted
	}{
		{"canonical", `{"layers":[{"size":1}]}`, "", "[]", 1, 1},
		{"ascii case alias", `{"LAYERS":[{"size":7}]}`, "", "[{ LAYERS layers}]", 1, 7},
		{"nested alias keeps the schema", `{"layers":[{"Size":3}]}`, "", "[{/layers/0 Size size}]", 1, 3},
		{"integer rule under an alias", `{"layers":[{"SIZE":1.5}]}`, Number, "", 0, 0},
		{"alias then canonical", `{"Layers":[],"layers":[{"size":1}]}`, KeyAlias, "", 0, 0},
		{"canonical then alias", `{"layers":[],"Layers":[{"size":1}]}`, KeyAlias, "", 0, 0},
		{"two aliases", `{"Layers":[],"LAYERS":[{"size":1}]}`, KeyAlias, "", 0, 0},
		{"unicode fold alias", `{"layerſ":[]}`, KeyAlias, "", 0, 0},
		{"kelvin sign in unknown names", "{\"layers\":[{\"\u212aey\":1}],\"\u212a\":1}", "", "[]", 1, 0},
		{"duplicate names", `{"layers":[],"layers":[]}`, DuplicateKey, "", 0, 0},
		{"same member in two objects", `{"layers":[{"Size":1},{"Size":2}]}`, "", "[{/layers/0 Size size} {/layers/1 Size size}]", 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m manifest
			aliases, err := UnmarshalCaseAliases([]byte(tt.in), &m, 0)
			if tt.want != "" {
				var se *Error
				if !errors.As(err, &se) || se.Kind != tt.want {
					t.Fatalf("got %v, want a %s error", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if got := fmt.Sprint(aliases); got != tt.aliases {
				t.Errorf("aliases %s, want %s", got, tt.aliases)
			}
			if len(m.Layers) != tt.layers || (tt.layers > 0 && m.Layers[0].Size != tt.size) {
				t.Errorf("decoded %+v, want %d layers, size %d", m, tt.layers, tt.size)
			}
		})
	}
}

// The strict profile itself is unchanged: every alias is still an error.
func TestStrictProfileStillRejectsCaseAliases(t *testing.T) {
	var m manifest
	err := Unmarshal([]byte(`{"Layers":[]}`), &m, 0)
	var se *Error
	if !errors.As(err, &se) || se.Kind != KeyAlias {
		t.Fatalf("got %v, want a KeyAlias error", err)
	}
}

// The relaxed profile differs from the strict one only by ASCII case
// aliases: whatever the strict profile accepts it accepts with none, and
// whatever it accepts that the strict one rejects, it accepts for aliases.
func FuzzUnmarshalCaseAliases(f *testing.F) {
	for _, s := range []string{`{"layers":[{"size":1}]}`, `{"LAYERS":[]}`, `{"Layers":[],"layers":[]}`, `{"layerſ":1}`, `{"layers":[{"SIZE":2.5}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var strict, relaxed manifest
		serr := Unmarshal(data, &strict, 50)
		aliases, rerr := UnmarshalCaseAliases(data, &relaxed, 50)
		switch {
		case serr == nil && (rerr != nil || len(aliases) != 0):
			t.Fatalf("strict accepts, relaxed gives %v with aliases %v", rerr, aliases)
		case serr != nil && rerr == nil:
			var se *Error
			if !errors.As(serr, &se) || se.Kind != KeyAlias || len(aliases) == 0 {
				t.Fatalf("relaxed accepts what strict rejects with %v (aliases %v)", serr, aliases)
			}
		}
	})
}
