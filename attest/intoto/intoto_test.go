package intoto_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/imgproof/imgproof/attest/intoto"
	"github.com/imgproof/imgproof/internal/limits"
)

func stmt(typ, subjects string) []byte {
	return []byte(fmt.Sprintf(`{"_type":%q,"subject":[%s],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, typ, subjects))
}

func TestParseAndBind(t *testing.T) {
	lim := limits.Default()
	m := digest.FromString("manifest")
	c := digest.FromString("config")
	ix := digest.FromString("index")
	nodes := []intoto.Node{{Digest: ix, Kind: "index"}, {Digest: m, Kind: "manifest"}, {Digest: c, Kind: "config"}}
	sub := func(alg, hex string) string { return fmt.Sprintf(`{"name":"x","digest":{%q:%q}}`, alg, hex) }
	tests := []struct {
		name    string
		doc     []byte
		err     error
		binds   []string // node kinds
		limitOK bool
	}{
		{"v1 manifest", stmt(intoto.StatementV1, sub("sha256", m.Encoded())), nil, []string{"manifest"}, true},
		{"v0.1 config", stmt(intoto.StatementV01, sub("sha256", c.Encoded())), nil, []string{"config"}, true},
		{"index and manifest", stmt(intoto.StatementV1, sub("sha256", ix.Encoded())+","+sub("sha256", m.Encoded())), nil, []string{"index", "manifest"}, true},
		{"uppercase hex compares as bytes", stmt(intoto.StatementV1, sub("sha256", strings.ToUpper(m.Encoded()))), nil, []string{"manifest"}, true},
		{"another artifact", stmt(intoto.StatementV1, sub("sha256", digest.FromString("x").Encoded())), nil, nil, true},
		{"only unsupported algorithms", stmt(intoto.StatementV1, sub("md5", "00112233445566778899aabbccddeeff")), intoto.ErrSubjectAlgos, nil, true},
		{"empty subject", stmt(intoto.StatementV1, ""), intoto.ErrNoSubject, nil, true},
		{"unknown _type", stmt("https://in-toto.io/Statement/v2", sub("sha256", m.Encoded())), intoto.ErrStatement, nil, true},
		{"v1 with trailing slash", stmt("https://in-toto.io/Statement/v1/", sub("sha256", m.Encoded())), intoto.ErrStatement, nil, true},
		{"duplicate subject key", []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[],"subject":[` + sub("sha256", m.Encoded()) + `],"predicateType":"p"}`), intoto.ErrStatement, nil, true},
		{"aliased predicateType", []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[` + sub("sha256", m.Encoded()) + `],"predicateType":"p","PredicateType":"q"}`), intoto.ErrStatement, nil, true},
		{"too many subjects", stmt(intoto.StatementV1, strings.TrimSuffix(strings.Repeat(sub("sha256", m.Encoded())+",", lim.Subjects+1), ",")), limits.ErrLimit, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := intoto.Parse(tc.doc, lim)
			if err == nil {
				var ms []intoto.Match
				ms, err = st.Bind(nodes)
				var kinds []string
				for _, x := range ms {
					kinds = append(kinds, x.Node.Kind)
				}
				if err == nil && strings.Join(kinds, ",") != strings.Join(tc.binds, ",") {
					t.Fatalf("binds %v, want %v", kinds, tc.binds)
				}
			}
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
		})
	}
}

func TestPayloadType(t *testing.T) {
	if intoto.CheckPayloadType("application/vnd.in-toto+json") != nil {
		t.Fatal("in-toto payload type rejected")
	}
	for _, bad := range []string{"application/vnd.in-toto+JSON", "application/vnd.in-toto+json ", "application/json", "application/vnd.dev.cosign.simplesigning.v1+json", ""} {
		if !errors.Is(intoto.CheckPayloadType(bad), intoto.ErrPayloadType) {
			t.Errorf("%q accepted", bad)
		}
	}
}
